// The thread every redo tailer runs: its step is called until it is stopped, with a short sleep
// after a step that copied nothing; the first failure is kept and ends the loop. Waiters learn
// how far the copy got through publish()/copied().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "innodb/page.h"
#include "libclone/base/status.h"

namespace mysqlclone {

class TailLoop {
 public:
  ~TailLoop() { stop(); }
  // `step` returns whether it copied anything.
  void start(std::function<Result<bool>()> step);
  void stop();
  Status health();
  void publish(innodb::Lsn copied);
  innodb::Lsn copied() const { return copied_.load(); }
  // Waits until copied() >= lsn (or a failure, an interrupt, the timeout), then stops the loop.
  Status wait_and_stop(innodb::Lsn lsn, std::chrono::seconds timeout);

 private:
  void run(const std::function<Result<bool>()>& step);
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<innodb::Lsn> copied_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  Status error_;
};

}  // namespace mysqlclone
