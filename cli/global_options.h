// Options every subcommand understands.
#pragma once

#include "libclone/server/option_file.h"
#include <string>

#include "libclone/manifest/metrics.h"

namespace mysqlclone {

struct GlobalOptions {
  bool json = false;   // one result document on stdout
  bool quiet = false;  // warnings and errors only, no progress (cron)
  OptionFileChoice files;  // --defaults-file, --defaults-extra-file, --no-defaults
  std::string metrics_file;  // Prometheus text file written after the command, success or not
  // What the command knows of its work for the metrics file (bytes, lock times); main fills the
  // labels, times and exit code.
  RunMetrics* metrics = nullptr;
};

}  // namespace mysqlclone
