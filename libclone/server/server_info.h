// What mysqlclone needs to know about the source server, read once at the start: the one reader
// of server variables for every command.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "innodb/tablespace_flags.h"
#include "libclone/server/server_version.h"
#include "libclone/server/session.h"

namespace mysqlclone {

struct ServerInfo {
  innodb::Flavour flavour = innodb::Flavour::kMysql;
  ServerVersion version;
  std::string version_string;  // as the server says it
  std::string datadir;         // without trailing slash
  uint32_t page_size = 16384;
  std::string data_file_path;  // innodb_data_file_path
  std::string data_home_dir;   // innodb_data_home_dir ("" = datadir)
  std::string undo_directory;  // innodb_undo_directory ("" or "." = datadir)
  std::string log_group_home_dir;
  uint64_t redo_capacity = 0;  // MySQL innodb_redo_log_capacity, MariaDB innodb_log_file_size
  bool redo_enabled = true;    // MySQL Innodb_redo_log_enabled
  bool redo_encrypted = false;
  bool redo_checksums = true;  // MySQL innodb_log_checksums
  bool log_bin = false;
  std::string log_bin_basename;  // full path, MySQL and MariaDB
  std::string server_uuid;       // MySQL
  std::string server_id;         // @@server_id, as the server says it
  unsigned lower_case_table_names = 0;
  std::string checksum_algorithm;  // innodb_checksum_algorithm
  unsigned undo_tablespaces = 0;   // MariaDB innodb_undo_tablespaces
  bool undo_encrypted = false;     // MySQL innodb_undo_log_encrypt
  // What a server starting on a copy must match (remote prints and records them).
  std::string version_comment, compile_os, compile_machine;
  std::string character_set_server, collation_server, character_set_filesystem;
  std::string gtid_mode;  // MySQL: OFF, OFF_PERMISSIVE, ON_PERMISSIVE, ON
  // Whether the server writes what it replicates to its own binlog (MySQL log_replica_updates,
  // MariaDB log_slave_updates): only then can a copy of a replica replicate from that replica.
  bool log_replica_updates = false;
  unsigned replica_parallel_workers = 0;  // MySQL: 0 or 1 is one applier thread
  // MyISAM writes its data files through a shared mapping: their ctime does not show every
  // write (read_file.h, unchanged_since), so a copy of one is never kept on its stamp.
  bool myisam_use_mmap = false;
};

Result<ServerInfo> read_server_info(Session& session);

}  // namespace mysqlclone
