// `mysqlclone completion bash` (hidden): the bash completion script, generated from the CLI11
// definitions themselves, so it always covers every subcommand and option. The build runs it to
// make the script the package installs.
#pragma once

#include <CLI/CLI.hpp>

namespace mysqlclone {

void add_completion_command(CLI::App& app, int& exit_code);

}  // namespace mysqlclone
