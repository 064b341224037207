// Options every subcommand understands.
#pragma once

#include <cstdio>
#include <string>

#include "libclone/manifest/metrics.h"
#include "libclone/server/option_file.h"

namespace mysqlclone {

struct GlobalOptions {
  bool json = false;   // one result document on stdout
  bool quiet = false;  // warnings and errors only, no progress (cron)
  OptionFileChoice files;  // --defaults-file, --defaults-extra-file, --no-defaults
  std::string metrics_file;  // Prometheus text file written after the command, success or not
  // What the command knows of its work for the metrics file (bytes, lock times); main fills the
  // labels, times and exit code.
  RunMetrics* metrics = nullptr;
  // Where results (the summary, the JSON document) go: stderr when stdout carries a stream.
  FILE* results = stdout;
};

}  // namespace mysqlclone
