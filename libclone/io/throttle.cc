#include "libclone/io/throttle.h"

#include <algorithm>
#include <thread>

#include "libclone/base/interrupt.h"

namespace mysqlclone {

void Throttle::set_rate(double bytes_per_second) {
  rate_ = bytes_per_second;
  taken_ = 0;
  started_ = std::chrono::steady_clock::now();
}

Status Throttle::take(uint64_t bytes) {
  const uint64_t taken = taken_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (rate_ <= 0) return Status::ok();
  using Clock = std::chrono::steady_clock;
  const auto due =
      started_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(taken) / rate_));
  while (Clock::now() < due) {
    if (interrupted()) return interrupted_status();
    std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), std::chrono::milliseconds(100)));
  }
  return Status::ok();
}

}  // namespace mysqlclone
