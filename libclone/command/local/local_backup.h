// `mysqlclone local`: a hot physical copy of the server this host runs, written as a datadir
// that a stock server of the same version starts on directly.
//
// The one idea: a fuzzy copy of the data files plus the redo log from the checkpoint C read
// before the first page was copied, up to an end LSN E read under the lock that fixes the
// binlog/GTID position, re-written in the server's own redo format, is exactly what a crash
// leaves behind; the stock server's crash recovery makes it consistent at first start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "libclone/server/connection.h"
#include "libclone/datadir/file_copy.h"
#include "libclone/server/replication.h"
#include "libclone/io/stream_storage.h"
#include "libclone/redo/redo_archiver.h"
#include "libclone/server/server_info.h"
#include "libclone/base/status.h"

namespace mysqlclone {

// When `local` blocks DDL: only for a short final phase, in which it brings the copy in line with
// what DDL did during the InnoDB copy (ddl_window.h), or for the whole copy as before.
enum class LockDdl { kReduced, kFull };

struct LocalBackupOptions {
  ConnectionOptions connection;
  std::string target_dir;              // unless `stream`; "{timestamp}" in it: the start time
  std::optional<StreamOutput> stream;  // instead of target_dir
  // An incremental on this backup directory (incremental_base.h); "" for a full backup.
  std::string incremental_from;
  // Instead of target_dir (and incremental_from): a new backup in this repository (repository.h),
  // an incremental on its newest finished backup when `incremental`; the repository is locked
  // for the whole run.
  std::string repo;
  bool incremental = false;
  unsigned parallel = 0;        // copy threads; 0 = one per CPU
  double max_rate_mib = 0;      // throttle of the data copy, MiB/s; 0 = none
  unsigned redo_wait_seconds = 300;  // how long to wait for the redo log to reach E
  bool redo_consumer = false;   // MySQL: register as a redo log consumer (the server waits for us)
  bool page_tracking = false;   // MySQL: install component_mysqlbackup if needed and start page tracking
  uint64_t redo_file_size_mib = 0;  // MySQL: each output redo file but the last; 0 = the default
  unsigned lock_wait_timeout_seconds = 60;  // how long one lock statement may wait (and writers behind it)
  LockDdl lock_ddl = LockDdl::kReduced;
  // A replica: stop its appliers around the end point until no replicated temporary table is
  // open (applier_pause.h), waiting at most this long.
  bool safe_replica_backup = false;
  unsigned safe_replica_timeout_seconds = 300;
  CopyOptions copy;
};

// The position the copy is consistent at.
struct EndPoint {
  innodb::Lsn lsn = 0;
  std::string binlog_file;       // empty when the binlog is off
  uint64_t binlog_position = 0;
  std::string gtid;              // MySQL gtid_executed, MariaDB gtid_binlog_pos
  // A replica's channels at the same instant: what each had applied of its source.
  std::vector<ReplicaChannel> channels;
  std::string gtid_slave_pos;  // MariaDB: the server-wide replicated GTID position
  // MySQL: false when the appliers were running, so the channels' file/position may be a few
  // transactions off (the GTID set is exact, and GTID channels need no position).
  bool channel_positions_exact = true;
};

// What an incremental was built on and what it kept.
struct IncrementalResult {
  std::string base_dir;
  std::string base_started_at;
  innodb::Lsn threshold_lsn = 0;  // the base's start checkpoint
  innodb::Lsn base_end_lsn = 0;
  uint64_t delta_files = 0;        // tablespace files written as deltas
  uint64_t delta_pages = 0;        // pages they kept
  uint64_t whole_tablespace_files = 0;  // new (or rebuilt) tablespace files copied whole
  uint64_t scanned_bytes = 0;      // tablespace bytes read to find the changed pages
  std::string pages_found_by = "scan";  // or "page-tracking" (MySQL)
  std::string page_tracking;       // whether page tracking was used, and why not
  uint64_t tracked_pages = 0;      // pages page tracking listed
};

// What DDL did to the tablespaces while the copy ran without the DDL lock, and what the final
// phase did about it (tablespace_changes.h).
struct DdlDuringCopy {
  uint64_t created = 0, renamed = 0, deleted = 0, recopied = 0;
  uint64_t copied_bytes = 0;  // copied in the final phase, with DDL blocked
  // MySQL: how redo-less index builds were looked for (ddl_window.h): "dictionary" (its index ids
  // read again with DDL blocked) or "statement-counters" (none counted: not read again).
  std::string index_builds_found_by;
};

struct LocalBackupResult {
  ServerInfo server;
  std::optional<IncrementalResult> incremental;
  std::string target_dir;  // or the stream's name
  uint64_t stream_bytes = 0;  // --stream: the stream's size
  innodb::Lsn checkpoint_lsn = 0;
  EndPoint end;
  LockDdl lock_ddl = LockDdl::kReduced;
  DdlDuringCopy ddl;  // with LockDdl::kReduced
  int64_t ddl_blocked_ms = 0;
  int64_t commits_blocked_ms = 0;
  uint64_t redo_peak_lag = 0;  // bytes: the furthest the redo tailer fell behind the server
  std::string applier_stopped_because;  // empty: the replica's appliers were not stopped
  int64_t applier_stopped_ms = 0;
  std::string started_at, finished_at;  // ISO 8601, UTC
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t shared_bytes = 0;  // of `bytes`: the source's blocks shared by reflink, not written
  Reflink reflink = Reflink::kAuto;
  unsigned parallel = 0;  // the copy threads it used
  std::vector<CopiedFile> files;
  // Files besides the tablespaces written (or replaced) since their first copy, so copied again
  // under the locks: what made those locks last (rel paths, sorted).
  std::vector<std::string> copied_again_under_lock;
  std::string source_host;  // for replica setup: the server's @@hostname / @@port
  unsigned source_port = 0;
};

struct BackupProgress {
  CopyProgress copy;
  RedoProgress redo;
};

// Errors carry the exit code of their kind (connection, privilege, unsupported, path,
// source I/O, redo lost, interrupted). On any failure after the target was created, the target
// is left marked failed (mysqlclone.json "state": "failed") and a stock server refuses it.
Result<LocalBackupResult> run_local_backup(const LocalBackupOptions& options, BackupProgress& progress);

}  // namespace mysqlclone
