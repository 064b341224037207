// Statements that make a copy a replica of its source, from the position the copy is
// consistent at: one builder for every command. The account is left as placeholders
// (REPLICATION_USER / REPLICATION_PASSWORD): provisioning scripts substitute their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "innodb/tablespace_flags.h"

namespace mysqlclone {

struct ReplicaSource {
  innodb::Flavour flavour = innodb::Flavour::kMysql;
  std::string host;
  unsigned port = 0;
  bool gtid = false;      // replicate by GTID (MySQL auto-position, MariaDB gtid_slave_pos)
  std::string gtid_set;   // MariaDB: the gtid_slave_pos to set
  // Without GTIDs: the binlog coordinates; an empty file means they are only known once the copy
  // has started (a remote clone records them at first start), and placeholders name where.
  std::string binlog_file;
  uint64_t binlog_position = 0;
  std::string position_placeholder_hint;  // e.g. "from #clone/#status_recovery"
  bool tls = false;  // the source offered TLS: the replica asks for it too
};

std::vector<std::string> replica_statements(const ReplicaSource& source);

}  // namespace mysqlclone
