#include "libclone/base/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <new>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "libclone/base/interrupt.h"

namespace mysqlclone {

Lane::Lane() : thread_([this] { loop(); }) {}

Lane::~Lane() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  ready_.notify_one();
  thread_.join();
}

void Lane::push(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
}

void Lane::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return closing_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // closing, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();  // a packaged_task: what the job throws goes to its future
  }
}

unsigned resolve_threads(unsigned requested) {
  return requested ? requested : std::max(4u, std::thread::hardware_concurrency());
}

Status run_parallel(size_t n, unsigned threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  Status first_error;
  auto worker = [&] {
    for (size_t i; !failed.load() && (i = next.fetch_add(1)) < n;) {
      Status s;
      // What escapes a job on a thread would end the process without a word (std::terminate):
      // out of memory for a buffer, above all. It fails the run like any error instead.
      try {
        s = interrupted() ? interrupted_status() : fn(i);
      } catch (const std::bad_alloc&) {
        s = Status::error(ExitCode::kInternal, "out of memory");
      } catch (const std::exception& e) {
        s = Status::error(ExitCode::kInternal, std::string("internal error: ") + e.what());
      }
      if (!s.is_ok()) {
        std::lock_guard lock(mutex);
        if (!failed.exchange(true)) first_error = s;
      }
    }
  };
  threads = unsigned(std::min<size_t>(std::max(1u, threads), std::max<size_t>(1, n)));
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  }
  return first_error;
}

}  // namespace mysqlclone
