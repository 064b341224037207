// The outcome of one run in Prometheus text exposition format, for node_exporter's textfile
// collector: the file is replaced atomically (a temporary file in the same directory, renamed),
// every run rewrites it — a failed one too — and a failed run carries the last success's time
// over from the file it replaces, so "no successful backup for 26 h" is one alert rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "libclone/base/status.h"

namespace mysqlclone {

struct RunMetrics {
  // Labels of every sample.
  std::string command;  // "local", "remote", "verify"
  std::string config;   // the option file's name (config_name), "" without --defaults-file
  std::string target;   // --target-dir as given (a {timestamp} placeholder unexpanded: one series)
  int exit_code = 0;    // 0: success
  double started = 0, finished = 0;  // Unix time, seconds
  // What the command knows of its work (absent ones are not written).
  std::optional<uint64_t> bytes;
  std::optional<double> ddl_blocked_seconds, commits_blocked_seconds;
  std::optional<uint64_t> redo_bytes;  // end LSN - checkpoint LSN: the redo the copy carries
};

// "nightly" for /etc/mysqlclone/nightly.cnf: the file name without its directory and ".cnf".
std::string config_name(const std::string& defaults_file);

// The value of mysqlclone_last_success_timestamp_seconds in a metrics file's text, if any.
std::optional<double> last_success_in(const std::string& previous_text);

// The file's text. last_success: the time of the last successful run (this one's end when it
// succeeded); none, and no such sample, when no run has succeeded yet.
std::string metrics_text(const RunMetrics& m, std::optional<double> last_success);

// Reads `path`'s previous last success (a missing file has none), then replaces `path` (mode 0644,
// readable by the exporter) atomically. kPath when the directory is not writable.
Status write_metrics_file(const std::string& path, const RunMetrics& m);

}  // namespace mysqlclone
