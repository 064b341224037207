#include "libclone/base/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace mysqlclone {
namespace {

std::mutex g_mutex;
LogLevel g_min_level = LogLevel::kInfo;
std::string g_status;

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

const char* level_word(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug: ";
    case LogLevel::kInfo: return "";
    case LogLevel::kWarning: return "warning: ";
    case LogLevel::kError: return "error: ";
  }
  return "";
}

void erase_status() {
  if (!g_status.empty()) std::fputs("\r\033[K", stderr);
}

}  // namespace

void set_log_level(LogLevel min_level) {
  std::lock_guard lock(g_mutex);
  g_min_level = min_level;
}

void log_line(LogLevel level, const std::string& text) {
  std::lock_guard lock(g_mutex);
  if (level < g_min_level) return;
  erase_status();
  std::fprintf(stderr, "%s mysqlclone: %s%s\n", timestamp().c_str(), level_word(level), text.c_str());
  if (!g_status.empty()) std::fputs(g_status.c_str(), stderr);
  std::fflush(stderr);
}

void set_status_line(const std::string& text) {
  std::lock_guard lock(g_mutex);
  erase_status();
  g_status = text;
  if (!g_status.empty()) std::fputs(g_status.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace mysqlclone
