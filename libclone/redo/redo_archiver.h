// Tails the live redo log of the source from the start checkpoint C into the target, on its
// own thread, as fast as the server writes it; at the end it cuts the copy exactly at the
// end LSN E and writes it in the server's own format (MySQL #innodb_redo/#ib_redo0, MariaDB
// ib_logfile0) so that the stock server's crash recovery applies [C, E] at first start.
// ../shared/docs/innodb-formats.md §4 and §5.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "innodb/page.h"
#include "libclone/base/status.h"
#include "libclone/io/throttle.h"

namespace mysqlclone {

class RedoArchiver {
 public:
  virtual ~RedoArchiver() = default;
  // Reads the start checkpoint and starts the copying thread.
  virtual Status start() = 0;
  virtual innodb::Lsn checkpoint_lsn() const = 0;
  // LSN up to which the log has been read so far (for progress and diagnostics).
  virtual innodb::Lsn copied_lsn() const = 0;
  // The end LSN, as soon as it is known: the tailer copies nothing beyond it.
  virtual void set_end_lsn(innodb::Lsn end_lsn) = 0;
  // Waits until the copy reaches `end_lsn` (bounded by `timeout`, ended early by an
  // interrupt), stops the thread and writes
  // the final redo file(s) into the target: complete, fsynced, but (for MySQL) under a name the
  // server does not read until `publish()`.
  virtual Status finish_at(innodb::Lsn end_lsn, std::chrono::seconds timeout) = 0;
  // Puts the finished redo under the name the server reads. The last step of a backup.
  virtual Status publish() = 0;
  // Stops the thread without finishing (failure or interrupt).
  virtual void abort() = 0;
  // The tailer's failure, if it has one: the copy stops at once instead of finishing in vain.
  virtual Status health() = 0;
};

struct RedoArchiverConfig {
  std::string source_datadir;  // where #innodb_redo / ib_logfile0 live
  std::string target_dir;
  uint64_t source_capacity = 0;  // bytes of redo the server keeps (for the redo-lost advice)
  // MariaDB only: the server's current LSN (Innodb_lsn_current), asked after each read to prove
  // the bytes read were not overwritten meanwhile (the ring gives no other way to tell).
  std::function<Result<innodb::Lsn>()> server_lsn;
  // MySQL only, with --redo-consumer: tells the server (a registered redo log consumer) that
  // log up to this LSN is copied and may be reused. The server never overwrites log the
  // consumer has not passed: it makes its writers wait instead.
  std::function<Status(innodb::Lsn)> consumer_advance;
  // Takes the bytes of log read, before they are copied: --max-rate (shared with the data copy).
  Throttle* throttle = nullptr;
};

std::unique_ptr<RedoArchiver> make_mysql_redo_archiver(RedoArchiverConfig config);
std::unique_ptr<RedoArchiver> make_mariadb_redo_archiver(RedoArchiverConfig config);

// The one-line "redo lost" error both flavours give: the LSN the copy needed next, and how far
// the server's log had gone when that was found overwritten.
Status redo_lost(innodb::Lsn needed, innodb::Lsn server_reached, uint64_t capacity, const std::string& setting);

}  // namespace mysqlclone
