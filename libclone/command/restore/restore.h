// `mysqlclone restore --backup B --target-dir DIR`: materialises backup B — a full backup or any
// incremental of a chain — as a datadir the stock server starts on directly
// (innodb-formats.md §6.4):
//
//   every tablespace file = the file as the chain's full backup copied it (unrecovered), then each
//                           incremental's delta pages overlaid in chain order, sized as each
//                           backup found it (a file that shrank loses its tail, one that grew
//                           gains zeros); a tablespace is followed by space id, so a renamed one
//                           keeps its pages and one created or rebuilt since comes whole from the
//                           backup that first saw it; one dropped since is not restored;
//   everything else       = B's own files (its redo [C, E], binlog, non-InnoDB tables, metadata).
//
// The stock server's crash recovery then applies B's redo from B's start checkpoint, exactly as for
// a full copy: no redo of an earlier backup is needed, and mysqlclone applies none.
//
// DIR keeps the target lifecycle (manifest/target.h): in-progress (and, for MySQL, the clone
// guard) until every byte is durable; MariaDB's ib_logfile0 gets its name last. Every delta is
// read and every page of it checked before the first byte is written, so a damaged chain
// leaves no DIR at all.
//
// `--datadir D` writes a stopped server's datadir instead of a new directory: refused while a
// server holds it, laid out as `--defaults-file` says (separate InnoDB directories), owned by the
// server's account. `--delta` compares every file there with the restored bytes and writes, in
// place, only the blocks that differ (a file longer than the restored one is replaced whole,
// under a temporary name), and removes what the backup does not have; the same lifecycle (MariaDB's ib_logfile0 removed first) keeps
// the datadir from starting until it is whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libclone/base/status.h"
#include "libclone/datadir/file_copy.h"
#include "libclone/server/option_file.h"

namespace mysqlclone {

struct RestoreOptions {
  std::string target_dir;  // a new or empty directory; or:
  std::string datadir;     // a stopped server's datadir
  OptionFileChoice files;  // with datadir: an explicit --defaults-file gives the server's layout
  std::string owner;       // USER[:GROUP]; "" = the datadir's owner (datadir), unchanged (target_dir)
  bool delta = false;      // datadir only: keep the files that match, rewrite the rest, remove the others
  std::string backup;   // the backup directory to restore; with `repo`, its name there ("": the newest)
  std::string repo;     // a repository (repository.h), locked while the restore reads it
  unsigned parallel = 0;  // copy threads; 0 = one per CPU
};

struct RestoreResult {
  std::string target_dir;
  std::vector<std::string> chain;  // backup directories, the full one first, the restored one last
  uint64_t files = 0;
  uint64_t bytes = 0;         // what DIR holds (kept_bytes of it not written)
  uint64_t delta_pages = 0;   // pages overlaid from incrementals
  uint64_t written_bytes = 0;  // of `bytes`; --delta writes only the blocks that differ
  // --delta: the files found already right (compared, not written), and those removed.
  uint64_t kept_files = 0;
  uint64_t kept_bytes = 0;
  uint64_t removed_files = 0;
  double seconds = 0;
  // DIR/mysqlclone.json: the restored backup's own document (LSNs, binlog/GTID position,
  // replication statements) with the restore's times, bytes and files.
  nlohmann::json manifest;
};

// kPath for a missing or foreign base, for DIR and for a datadir a running server holds, kUsage
// for an option file of another datadir or an unknown owner, kVerifyFailed for an unfinished backup or a
// damaged delta or file (nothing written), kInterrupted on a signal.
Result<RestoreResult> run_restore(const RestoreOptions& options, CopyProgress& progress);

}  // namespace mysqlclone
