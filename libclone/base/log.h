// The one writer of stderr: timestamped human lines, and an optional status line (the progress
// bar on a terminal) that log lines are printed above instead of through.
#pragma once

#include <string>

#include <fmt/format.h>

namespace mysqlclone {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void set_log_level(LogLevel min_level);  // --quiet raises it to kWarning
void log_line(LogLevel level, const std::string& text);

// Replaces the status line (printed without a newline, redrawn after every log line).
// An empty string removes it.
void set_status_line(const std::string& text);

template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warning(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::kWarning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace mysqlclone
