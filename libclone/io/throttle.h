// The one --max-rate limit: the data a command moves (data files, a donor's blocks) passes
// through one Throttle shared by all its threads. The redo tailer does not: it must keep pace
// with the server, or the redo it needs is overwritten. Waiting ends at once on SIGINT/SIGTERM.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "libclone/base/status.h"

namespace mysqlclone {

class Throttle {
 public:
  // 0: unlimited.
  explicit Throttle(double bytes_per_second = 0) { set_rate(bytes_per_second); }
  // Starts counting afresh at this rate (call before the first take()).
  void set_rate(double bytes_per_second);
  bool limited() const { return rate_ > 0; }
  // Counts `bytes` and sleeps while everything counted so far runs ahead of the rate; kInterrupted
  // as soon as a signal arrives.
  Status take(uint64_t bytes);

 private:
  double rate_ = 0;
  std::atomic<uint64_t> taken_{0};
  std::chrono::steady_clock::time_point started_;
};

}  // namespace mysqlclone
