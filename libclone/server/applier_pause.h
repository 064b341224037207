// --safe-replica-backup (XtraBackup's --safe-slave-backup): the appliers (SQL threads) of a
// replica stopped around the copy's consistency point, so that no replicated transaction is half
// applied to a non-transactional table and no replicated temporary table is open (a copy holds
// no temporary table: replication resumed from it would fail on the first statement using one).
// They are always started again: by restart() on success, by the destructor on every other exit
// (an error, a signal), over a new connection if the first one is gone, and by a guard process
// (session_guard.h) if this one is killed.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "innodb/tablespace_flags.h"
#include "libclone/base/status.h"
#include "libclone/server/connection.h"
#include "libclone/server/replication.h"
#include "libclone/server/session.h"
#include "libclone/server/session_guard.h"

namespace mysqlclone {

class ApplierPause {
 public:
  // Stops the running appliers among `channels` and waits until the server holds no replicated
  // temporary table: while it does, the appliers run on for a moment and stop again, for at most
  // timeout_seconds, then the backup fails (kUnsupported) with the appliers running again.
  static Result<std::unique_ptr<ApplierPause>> stop(const ConnectionParams& params, innodb::Flavour flavour,
                                                    const std::vector<ReplicaChannel>& channels,
                                                    unsigned timeout_seconds);
  ~ApplierPause();
  ApplierPause(const ApplierPause&) = delete;
  ApplierPause& operator=(const ApplierPause&) = delete;

  // Starts the stopped appliers again (once); the time they were stopped is then final.
  Status restart();
  int64_t stopped_ms() const;

 private:
  ApplierPause(ConnectionParams params, innodb::Flavour flavour, Session session, std::vector<std::string> channels)
      : params_(std::move(params)), flavour_(flavour), session_(std::move(session)), channels_(std::move(channels)) {}
  Status run_on_each(bool start);
  Result<uint64_t> open_temp_tables();

  ConnectionParams params_;
  innodb::Flavour flavour_;
  Session session_;
  std::vector<std::string> channels_;  // the appliers this pause stopped
  std::unique_ptr<SessionGuard> guard_;  // starts them should this process be killed; released once they run
  bool stopped_ = false;
  std::chrono::steady_clock::time_point stopped_at_{};
  int64_t stopped_ms_ = 0;
};

}  // namespace mysqlclone
