// The `restore` subcommand: options, the call into libclone, and the result.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/global_options.h"

namespace mysqlclone {

void add_restore_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace mysqlclone
