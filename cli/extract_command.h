// The `extract` subcommand: options, the call into libclone, and the result.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/global_options.h"
#include "libclone/command/extract/extract.h"

namespace mysqlclone {

// The result document (--json) or summary of extract, and of receive (`command`).
void print_extract_result(const ExtractResult& r, const std::string& command, const GlobalOptions& global);

void add_extract_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace mysqlclone
