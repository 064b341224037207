// Runs fn(i) for i in [0, n) on `threads` worker threads, handing out items in order; stops
// handing out new items after the first failure or an interrupt, and returns the first failure.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "libclone/base/status.h"

namespace mysqlclone {

Status run_parallel(size_t n, unsigned threads, const std::function<Status(size_t)>& fn);

// 0 means the default: one thread per CPU, but at least 4 — copying and checking pages mostly
// waits on the disk, which serves several requests at once.
unsigned resolve_threads(unsigned requested);

// A thread of its own that runs the jobs handed to it one after another, in the order given.
// The page copier keeps one for its reads and one for its writes, so a chunk's I/O overlaps the
// checks of the one before without a thread started per chunk (std::async started ~4,000 per
// GiB). The destructor runs the jobs still queued, then joins: whatever a job uses must outlive
// the Lane.
class Lane {
 public:
  Lane();
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  template <typename F>
  auto run(F job) -> std::future<decltype(job())> {
    auto task = std::make_shared<std::packaged_task<decltype(job())()>>(std::move(job));
    auto result = task->get_future();
    push([task] { (*task)(); });
    return result;
  }

 private:
  void push(std::function<void()> job);
  void loop();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool closing_ = false;
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace mysqlclone
