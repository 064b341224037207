// The `verify` subcommand: options, the call into libclone, and the report.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/global_options.h"

namespace mysqlclone {

void add_verify_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace mysqlclone
