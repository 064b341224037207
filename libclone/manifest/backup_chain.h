// Chains of backups: a full backup, then incrementals each built on the one before
// (innodb-formats.md §6.4). What one backup's mysqlclone.json says about its place in a chain,
// checked: an incremental names its base's directory and keeps the pages changed after the
// base's start checkpoint (its threshold), so a chain holds only if every base is a finished
// `local` backup of the same server whose start checkpoint is exactly that threshold.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/manifest/manifest.h"

namespace mysqlclone {

// Which server a backup is of: an incremental is only built on, and a chain only followed
// through, backups of the same one. MySQL has a server_uuid; MariaDB none, so its datadir path
// stands in (with flavour and exact version on both).
struct ServerIdentity {
  std::string flavour;  // "mysql", "mariadb"
  std::string server_version;
  std::string server_uuid;  // MySQL; "" on MariaDB
  std::string datadir;
  // @@server_id, compared on MariaDB, which has no server_uuid: a replica has the same datadir
  // path, version and space ids as its primary, but never its server_id. "" in backups of
  // earlier versions.
  std::string server_id;
};

struct BackupRecord {
  std::string dir;  // absolute
  ManifestSummary manifest;
  ServerIdentity server;
  bool incremental = false;
  uint64_t checkpoint_lsn = 0;  // its start checkpoint C
  uint64_t end_lsn = 0;
  // An incremental: its base and the threshold (the base's checkpoint_lsn when it was taken).
  std::string base_dir;
  uint64_t threshold_lsn = 0;
  // What it recorded of its base besides (empty, 0: not recorded), which the base must match.
  std::string base_started_at;
  uint64_t base_end_lsn = 0;
};

// Reads DIR/mysqlclone.json as a backup a chain can use: finished (kVerifyFailed otherwise),
// written by `local` into a directory (kPath for anything else, e.g. a clone or a restored
// datadir, whose files a server may have changed since), with every key the chain needs.
Result<BackupRecord> read_backup(const std::string& dir);

// kPath naming both when `backup` is not of the server `source` ("a foreign base"). A server_id
// is compared where both sides have one and no server_uuid (MariaDB: a MySQL server's uuid says
// it all, and its server_id may change, as when it becomes a replica).
Status check_same_server(const BackupRecord& backup, const ServerIdentity& source);

// The chain that ends at `newest`, oldest (the full backup) first; each link checked (same
// server; the base's start checkpoint is the threshold, its start time and end LSN what the
// incremental recorded). Bounded: a loop of bases is an error.
Result<std::vector<BackupRecord>> read_chain(const std::string& newest);

// The tablespace files of a backup by space id, to find the file of a base that a tablespace
// file of a later backup continues: the one with the same space id (so a renamed table finds
// its file), for the system tablespace's several files the one with the same path too.
class TablespaceIndex {
 public:
  explicit TablespaceIndex(const ManifestSummary& manifest);
  // nullptr when the backup has none: the tablespace is new (or rebuilt under a new id).
  const ManifestSummary::File* find(const std::string& rel_path, uint32_t space_id) const;

 private:
  std::unordered_multimap<uint32_t, const ManifestSummary::File*> by_space_;
};

// The file a manifest entry stands for: a delta's delta_of, else its own path.
const std::string& data_path(const ManifestSummary::File& f);

}  // namespace mysqlclone
