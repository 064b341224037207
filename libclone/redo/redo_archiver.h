// Tails the live redo log of the source from the start checkpoint C into the target, on its
// own thread, as fast as the server writes it, in the server's own format (MySQL
// #innodb_redo/#ib_redo0, MariaDB ib_logfile0), ending exactly at the end LSN E, so that the
// stock server's crash recovery applies [C, E] at first start.
// ../shared/docs/innodb-formats.md §4 and §5.
//
// The output is written front to back through a Storage and never read back or cut: the
// server-format header first (it only needs C, known at start), then the log as it is copied,
// then zeros to the final size. A storage that can only append (a stream) carries it. What
// makes that possible is hold(), called right before E is read: everything copied before it
// ends at or before E (the server's LSN only grows, and E is read after), so it is appended at
// once; what is copied after it waits in memory until E is known, then exactly [.., E] is
// appended and the rest dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "innodb/page.h"
#include "libclone/base/status.h"
#include "libclone/io/storage.h"

namespace mysqlclone {

class RedoArchiver {
 public:
  virtual ~RedoArchiver() = default;
  // Reads the start checkpoint, creates the output with its header and starts the copying thread.
  virtual Status start() = 0;
  virtual innodb::Lsn checkpoint_lsn() const = 0;
  // LSN up to which the log is final in the target (for progress and diagnostics); it reaches
  // the end LSN only once the log is written exactly up to it.
  virtual innodb::Lsn copied_lsn() const = 0;
  // Called right before the end LSN is read from the server: from now on the log copied is
  // kept in memory (bounded; the tailer waits beyond that) until set_end_lsn() says how much of
  // it belongs to the copy.
  virtual void hold() = 0;
  // The end LSN (after hold()), as soon as it is known: the tailer appends the log exactly up
  // to it and nothing beyond.
  virtual void set_end_lsn(innodb::Lsn end_lsn) = 0;
  // Waits until the log is written up to `end_lsn` (bounded by `timeout`, ended early by an
  // interrupt), stops the thread, pads the output with zeros to the size the server expects
  // and closes it: complete, durable, but (for MariaDB) under a name the server does not read
  // until `publish()`.
  virtual Status finish_at(innodb::Lsn end_lsn, std::chrono::seconds timeout) = 0;
  // Puts the finished redo under the name the server reads. The last step of a backup.
  virtual Status publish() = 0;
  // Stops the thread without finishing (failure or interrupt).
  virtual void abort() = 0;
  // The tailer's failure, if it has one: the copy stops at once instead of finishing in vain.
  virtual Status health() = 0;
};

// What a DBA watches while a copy runs (progress, --json): how much redo the copy holds, and how
// far the tailer is behind the server — trouble coming shows there long before "redo lost".
struct RedoProgress {
  std::atomic<uint64_t> span{0};      // bytes of redo copied from the start checkpoint on
  std::atomic<uint64_t> lag{0};       // how far the server's LSN was ahead of the copy, last asked
  std::atomic<uint64_t> peak_lag{0};  // the largest lag seen
  void record(innodb::Lsn checkpoint, innodb::Lsn copied, innodb::Lsn server);
};

// The server's log positions (SHOW GLOBAL STATUS). MariaDB: the only way to tell final log
// bytes in the ring from others. MySQL: only for the lag.
struct ServerLog {
  // Innodb_lsn_current, asked after a read: the bytes read were intact (not yet overwritten by the
  // next pass) if the server was less than one ring ahead of them.
  innodb::Lsn current = 0;
  // Innodb_lsn_flushed, asked before a read: only log below it is final. Past it the server may
  // still be writing (a read can tear), and the rest of its last block is left-over buffer
  // bytes that can hold whole, valid-looking mini-transactions of an earlier LSN.
  innodb::Lsn flushed = 0;
};

struct RedoArchiverConfig {
  std::string source_datadir;  // where #innodb_redo / ib_logfile0 live
  Storage* storage = nullptr;  // the target; only create, append, extend_to, close and rename are used
  uint64_t source_capacity = 0;  // bytes of redo the server keeps (for the redo-lost advice)
  // How far the server's log goes (see ServerLog): MariaDB asks after each read, MySQL once a
  // second (none: no lag in `progress`).
  std::function<Result<ServerLog>()> server_log;
  // MySQL only, with --redo-consumer: tells the server (a registered redo log consumer) that
  // log up to this LSN is copied and may be reused. The server never overwrites log the
  // consumer has not passed: it makes its writers wait instead.
  std::function<Status(innodb::Lsn)> consumer_advance;
  // MySQL only: the size of each output file but the last (a multiple of 1 MiB); 0 for
  // innodb::mysql_redo::kSpanFileSize. Tests make it small to span several files.
  uint64_t span_file_size = 0;
  RedoProgress* progress = nullptr;  // updated as the copy goes, when given
};

// Both archivers: log read after hold() waits in memory for E; E follows within one query, so
// this is only reached when the server writes very fast meanwhile (the tailer then waits for E).
constexpr size_t kRedoHoldBytes = 64 << 20;
// Both archivers: no end LSN known yet.
constexpr innodb::Lsn kNoEndLsn = ~innodb::Lsn(0);

std::unique_ptr<RedoArchiver> make_mysql_redo_archiver(RedoArchiverConfig config);
std::unique_ptr<RedoArchiver> make_mariadb_redo_archiver(RedoArchiverConfig config);

// The one-line "redo lost" error both flavours give: the LSN the copy needed next, and how far
// the server's log had gone when that was found overwritten.
Status redo_lost(innodb::Lsn needed, innodb::Lsn server_reached, uint64_t capacity, const std::string& setting);

}  // namespace mysqlclone
