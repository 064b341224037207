#include "cli/progress.h"

#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "libclone/base/log.h"

namespace mysqlclone {
namespace {
constexpr auto kTtyPeriod = std::chrono::milliseconds(200);
constexpr auto kPlainPeriod = std::chrono::seconds(5);
}  // namespace

ProgressDisplay::ProgressDisplay(std::string label, const std::atomic<uint64_t>& done,
                                 const std::atomic<uint64_t>& total, bool enabled)
    : ProgressDisplay([label] { return label; }, done, total, enabled) {}

ProgressDisplay::ProgressDisplay(std::function<std::string()> label, const std::atomic<uint64_t>& done,
                                 const std::atomic<uint64_t>& total, bool enabled)
    : label_(std::move(label)), done_(done), total_(total), tty_(isatty(STDERR_FILENO)) {
  if (enabled) thread_ = std::thread([this] { run(); });
}

ProgressDisplay::~ProgressDisplay() { stop(); }

void ProgressDisplay::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ProgressDisplay::line(double elapsed) const {
  const double done = double(done_.load()), total = double(total_.load());
  const double rate = elapsed > 0 ? done / elapsed : 0;
  const double pct = total > 0 ? 100.0 * done / total : 0;
  std::string eta = "--:--";
  if (rate > 0 && total >= done) {
    auto s = static_cast<long>((total - done) / rate);
    eta = fmt::format("{:02}:{:02}", s / 60, s % 60);
  }
  if (!tty_)
    return fmt::format("{}: {} of {} ({:.0f}%), {}/s, ETA {}", label_(), human_bytes(done), human_bytes(total), pct,
                       human_bytes(rate), eta);
  constexpr int kWidth = 30;
  int filled = total > 0 ? int(kWidth * done / total) : 0;
  return fmt::format("{} [{}{}] {:3.0f}% {} / {}  {}/s  ETA {}", label_(), std::string(size_t(filled), '#'),
                     std::string(size_t(kWidth - filled), '.'), pct, human_bytes(done), human_bytes(total),
                     human_bytes(rate), eta);
}

void ProgressDisplay::run() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, tty_ ? kTtyPeriod : kPlainPeriod, [this] { return stopping_; })) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (tty_)
      set_status_line(line(elapsed));
    else
      log_info("{}", line(elapsed));
  }
  if (tty_) set_status_line("");
}

}  // namespace mysqlclone
