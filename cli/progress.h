// Progress of a long job, drawn from counters the engine updates: a bar with bytes, rate and ETA
// on a terminal, a plain line every few seconds otherwise (cron logs), nothing with --quiet.
#pragma once

#include "libclone/base/text.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace mysqlclone {

class ProgressDisplay {
 public:
  // `done`/`total` are read until stop(); `label` names the stage ("verify").
  ProgressDisplay(std::string label, const std::atomic<uint64_t>& done, const std::atomic<uint64_t>& total,
                  bool enabled);
  // The label is asked for at every refresh: a job with stages shows the current one.
  ProgressDisplay(std::function<std::string()> label, const std::atomic<uint64_t>& done,
                  const std::atomic<uint64_t>& total, bool enabled);
  ~ProgressDisplay();
  void stop();

 private:
  void run();
  std::string line(double elapsed) const;

  std::function<std::string()> label_;
  const std::atomic<uint64_t>& done_;
  const std::atomic<uint64_t>& total_;
  bool tty_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// "1.5 GiB", "312.0 MiB" ...

}  // namespace mysqlclone
