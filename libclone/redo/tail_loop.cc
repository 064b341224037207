#include "libclone/redo/tail_loop.h"

#include "libclone/base/interrupt.h"

namespace mysqlclone {
namespace {
constexpr auto kIdleWait = std::chrono::milliseconds(5);
constexpr auto kWaitSlice = std::chrono::milliseconds(100);
}  // namespace

void TailLoop::start(std::function<Result<bool>()> step) {
  thread_ = std::thread([this, step = std::move(step)] { run(step); });
}

void TailLoop::stop() {
  {
    std::lock_guard lock(mutex_);  // so that a thread about to wait cannot miss it
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status TailLoop::health() {
  std::lock_guard lock(mutex_);
  return error_;
}

void TailLoop::publish(innodb::Lsn copied) {
  {
    std::lock_guard lock(mutex_);
    if (copied > copied_) copied_ = copied;
  }
  cv_.notify_all();
}

void TailLoop::run(const std::function<Result<bool>()>& step) {
  while (!stop_) {
    auto progressed = step();
    if (!progressed.is_ok()) {
      // The failure is kept for health() and the thread waits to be stopped: it ends (and frees
      // what its step holds) only in stop(), never while the caller is still handling the failure
      // — whose cause may be, as in the out-of-descriptors test, the process's own limits.
      std::unique_lock lock(mutex_);
      error_ = progressed.status();
      cv_.notify_all();
      cv_.wait(lock, [this] { return stop_.load(); });
      return;
    }
    if (!*progressed) {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, kIdleWait, [this] { return stop_.load(); });
    }
  }
}

Status TailLoop::wait_and_stop(innodb::Lsn lsn, std::chrono::seconds timeout) {
  Status result;
  {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (copied_ < lsn && error_.is_ok() && !interrupted() && std::chrono::steady_clock::now() < deadline)
      cv_.wait_for(lock, kWaitSlice);
    if (!error_.is_ok())
      result = error_;
    else if (copied_ < lsn && interrupted())
      result = interrupted_status();
    else if (copied_ < lsn)
      result = Status::error(ExitCode::kSourceIo, "the redo log did not reach the end LSN " + std::to_string(lsn) +
                                                      " within " + std::to_string(timeout.count()) +
                                                      " s (copied up to " + std::to_string(copied_.load()) + ")");
  }
  stop();
  return result;
}

}  // namespace mysqlclone
