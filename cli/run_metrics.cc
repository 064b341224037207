#include "cli/run_metrics.h"

#include "libclone/base/log.h"

namespace mysqlclone {

void label_run(const GlobalOptions& global, const std::string& target_dir) {
  global.metrics->config = global.files.defaults_file ? config_name(*global.files.defaults_file) : "";
  global.metrics->target = target_dir;
}

int write_run_metrics(const CLI::App& app, const std::string& path, RunMetrics& metrics,
                      std::chrono::system_clock::time_point started, int exit_code) {
  const auto unix_seconds = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  };
  metrics.started = unix_seconds(started);
  metrics.finished = unix_seconds(std::chrono::system_clock::now());
  metrics.exit_code = exit_code;
  for (const CLI::App* sub : app.get_subcommands()) metrics.command = sub->get_name();
  if (Status s = write_metrics_file(path, metrics); !s.is_ok()) {
    log_error("cannot write the metrics file: {}", s.message());
    return exit_code == 0 ? int(s.code()) : exit_code;
  }
  return exit_code;
}

}  // namespace mysqlclone
