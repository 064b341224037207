// --metrics-file: the outcome of the run (libclone's RunMetrics) filled from what the command
// line and the command's result say, and written after the command, success or failure.
#pragma once

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/global_options.h"
#include "libclone/server/connection.h"

namespace mysqlclone {

// The labels a command that writes a target knows: the option file's name and the target as
// given (a {timestamp} placeholder unexpanded, so every scheduled run updates one series).
void label_run(const GlobalOptions& global, const std::string& target_dir);

// Writes the metrics file with the command that ran, the times and the exit code. Returns the
// exit code to leave with: `exit_code`, or kPath when the file cannot be written after a success.
int write_run_metrics(const CLI::App& app, const std::string& path, RunMetrics& metrics,
                      std::chrono::system_clock::time_point started, int exit_code);

}  // namespace mysqlclone
