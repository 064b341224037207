// The `info` and `expire` subcommands (a repository: `local --repo`): options, the calls into
// libclone, and the results.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/global_options.h"

namespace mysqlclone {

void add_info_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_expire_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace mysqlclone
