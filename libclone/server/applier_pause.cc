#include "libclone/server/applier_pause.h"

#include <thread>

#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/base/text.h"

namespace mysqlclone {
namespace {

using Clock = std::chrono::steady_clock;

std::string applier_statement(innodb::Flavour flavour, bool start, const std::string& channel) {
  if (flavour == innodb::Flavour::kMysql)
    return std::string(start ? "START" : "STOP") + " REPLICA SQL_THREAD FOR CHANNEL " + sql_quoted(channel);
  return std::string(start ? "START" : "STOP") + " SLAVE " + sql_quoted(channel) + " SQL_THREAD";
}

}  // namespace

Result<std::unique_ptr<ApplierPause>> ApplierPause::stop(const ConnectionParams& params, innodb::Flavour flavour,
                                                         const std::vector<ReplicaChannel>& channels,
                                                         unsigned timeout_seconds) {
  std::vector<std::string> running;
  for (const ReplicaChannel& c : channels)
    if (c.applier_running) running.push_back(c.name);
  auto session = Session::connect(params);
  if (!session.is_ok()) return session.status();
  std::unique_ptr<ApplierPause> pause(new ApplierPause(params, flavour, std::move(session).value(), running));
  // Armed before the first STOP: a SIGKILL of this process leaves no applier stopped.
  auto guard = SessionGuard::start(params, "the replica's appliers it stopped");
  if (!guard.is_ok()) return guard.status();
  pause->guard_ = std::move(guard).value();
  for (const std::string& channel : running) pause->guard_->on_death(applier_statement(flavour, true, channel));
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    if (Status s = pause->run_on_each(false); !s.is_ok()) return s;
    auto temps = pause->open_temp_tables();
    if (!temps.is_ok()) return temps.status();
    if (*temps == 0) break;
    if (Clock::now() >= deadline)
      return Status::error(ExitCode::kUnsupported,
                           "--safe-replica-backup: the replica still holds " + std::to_string(*temps) +
                               " replicated temporary table(s) after " + std::to_string(timeout_seconds) +
                               " s (its source keeps them open); try again later");
    if (interrupted())
      return Status::error(ExitCode::kInterrupted, "interrupted by a signal; the target is incomplete");
    log_info("--safe-replica-backup: {} replicated temporary table(s) open; the applier runs on for a moment",
             *temps);
    if (Status s = pause->run_on_each(true); !s.is_ok()) return s;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  log_info("--safe-replica-backup: the applier of {} channel(s) is stopped", running.size());
  return pause;
}

Status ApplierPause::run_on_each(bool start) {
  // Stopped from the first attempt on: an applier stopped before a later one failed to stop is
  // started again too (starting a running one is only a warning).
  if (!start && !stopped_) {
    stopped_at_ = Clock::now();
    stopped_ = true;
  }
  // Starting goes on past a channel that fails (removed meanwhile, say): the others run again.
  Status first;
  for (const std::string& channel : channels_) {
    Status s = session_.execute(applier_statement(flavour_, start, channel));
    if (s.is_ok()) continue;
    s = s.with_context(std::string(start ? "starting" : "stopping") + " the replica's applier of channel '" +
                       printable(channel) + "'");
    if (!start) return s;
    if (first.is_ok()) first = s;
  }
  if (start && first.is_ok()) stopped_ = false;
  return first;
}

Result<uint64_t> ApplierPause::open_temp_tables() {
  auto rows = session_.query(flavour_ == innodb::Flavour::kMysql ? "SHOW GLOBAL STATUS LIKE 'Replica_open_temp_tables'"
                                                                 : "SHOW GLOBAL STATUS LIKE 'Slave_open_temp_tables'");
  if (!rows.is_ok()) return rows.status();
  if (rows->empty() || rows->front().size() < 2) return uint64_t(0);
  return parse_u64(rows->front()[1].value_or("0"), "the server's open replicated temporary tables");
}

Status ApplierPause::restart() {
  if (!stopped_) return Status::ok();
  Status s = run_on_each(true);
  if (!s.is_ok()) {
    // The first connection may be what failed: one more try on a new one.
    auto fresh = Session::connect(params_);
    if (!fresh.is_ok()) return s;
    session_ = std::move(fresh).value();
    s = run_on_each(true);
    if (!s.is_ok()) return s;
  }
  guard_.reset();  // nothing left for it to undo
  stopped_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stopped_at_).count();
  log_info("--safe-replica-backup: the applier runs again after {} ms", stopped_ms_);
  return Status::ok();
}

int64_t ApplierPause::stopped_ms() const { return stopped_ms_; }

ApplierPause::~ApplierPause() {
  if (Status s = restart(); !s.is_ok()) {
    log_error("could not start the replica's applier again ({}); the guard tries once more, else start its SQL "
              "thread(s) by hand",
              s.message());
    if (guard_) guard_->hand_over();
  }
}

}  // namespace mysqlclone
