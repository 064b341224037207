// The `remote` subcommand: options, the call into libclone, and the result.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/connection_options.h"
#include "cli/global_options.h"

namespace mysqlclone {

void add_remote_command(CLI::App& app, const GlobalOptions& global, const PasswordArgs& password, int& exit_code);

}  // namespace mysqlclone
