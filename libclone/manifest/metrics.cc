#include "libclone/manifest/metrics.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "libclone/io/directory_storage.h"

namespace mysqlclone {
namespace {

constexpr std::string_view kLastSuccess = "mysqlclone_last_success_timestamp_seconds";

// A label value as the exposition format quotes it. Values must be UTF-8 and a file name is
// bytes: control bytes and bytes from 0x7f up appear as the four characters \xNN.
std::string label_value(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else if (c < 0x20 || c >= 0x7f) out += fmt::format("\\\\x{:02x}", c);
    else out += char(c);
  }
  return out;
}

struct Writer {
  std::string labels;
  std::string out;
  void gauge(std::string_view name, std::string_view help, double value, std::string_view extra_label = "") {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
    sample(name, value, extra_label);
  }
  void sample(std::string_view name, double value, std::string_view extra_label = "") {
    out += fmt::format("{}{{{}{}{}}} {}\n", name, labels, extra_label.empty() ? "" : ",", extra_label, value);
  }
};

}  // namespace

std::string config_name(const std::string& defaults_file) {
  std::string name = std::filesystem::path(defaults_file).filename().string();
  if (name.size() > 4 && name.ends_with(".cnf")) name.resize(name.size() - 4);
  return name;
}

std::optional<double> last_success_in(const std::string& previous_text) {
  std::istringstream in(previous_text);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(kLastSuccess) || line.size() == kLastSuccess.size()) continue;
    const char next = line[kLastSuccess.size()];
    if (next != '{' && next != ' ') continue;  // another metric whose name starts alike
    const auto space = line.rfind(' ');
    char* end = nullptr;
    const double v = std::strtod(line.c_str() + space + 1, &end);
    if (end && *end == '\0' && end != line.c_str() + space + 1) return v;
  }
  return std::nullopt;
}

std::string metrics_text(const RunMetrics& m, std::optional<double> last_success) {
  Writer w;
  w.labels = fmt::format("command=\"{}\",config=\"{}\",target=\"{}\"", label_value(m.command), label_value(m.config),
                         label_value(m.target));
  w.gauge("mysqlclone_last_run_success", "Whether the last run succeeded (1) or failed (0).", m.exit_code == 0);
  w.gauge("mysqlclone_last_run_exit_code", "Exit status of the last run (see mysqlclone(1), EXIT STATUS).",
          m.exit_code);
  w.gauge("mysqlclone_last_run_start_timestamp_seconds", "When the last run started, Unix time.", m.started);
  w.gauge("mysqlclone_last_run_end_timestamp_seconds", "When the last run ended, Unix time.", m.finished);
  w.gauge("mysqlclone_last_run_duration_seconds", "How long the last run took.", m.finished - m.started);
  if (m.bytes) w.gauge("mysqlclone_last_run_bytes", "Bytes the last run copied.", double(*m.bytes));
  if (m.ddl_blocked_seconds || m.commits_blocked_seconds) {
    w.out += "# HELP mysqlclone_last_run_lock_seconds How long the last run blocked DDL and commits on the server.\n"
             "# TYPE mysqlclone_last_run_lock_seconds gauge\n";
    if (m.ddl_blocked_seconds) w.sample("mysqlclone_last_run_lock_seconds", *m.ddl_blocked_seconds, "lock=\"ddl\"");
    if (m.commits_blocked_seconds)
      w.sample("mysqlclone_last_run_lock_seconds", *m.commits_blocked_seconds, "lock=\"commits\"");
  }
  if (m.redo_bytes)
    w.gauge("mysqlclone_last_run_redo_bytes", "Redo the last run's copy carries (end LSN - checkpoint LSN).",
            double(*m.redo_bytes));
  if (m.exit_code == 0) last_success = m.finished;
  if (last_success)
    w.gauge(kLastSuccess, "When a run last succeeded, Unix time (carried over by failed runs).", *last_success);
  return w.out;
}

Status write_metrics_file(const std::string& path, const RunMetrics& m) {
  std::ifstream in(path);
  std::ostringstream previous;
  previous << in.rdbuf();
  const std::filesystem::path p(path);
  DirectoryStorage dir(p.has_parent_path() ? p.parent_path().string() : ".");
  return dir.put_with_mode(p.filename().string(), metrics_text(m, last_success_in(previous.str())), 0644);
}

}  // namespace mysqlclone
