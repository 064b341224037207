// The `extract` subcommand: options, the call into libclone, and the result.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/global_options.h"
#include "libclone/command/extract/extract.h"

namespace mysqlclone {

void add_extract_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

// A finished extract as `command` ("extract", or "remote" for `remote --ssh`) reports it: the
// JSON document of --json, or the human summary, the start hint and the replica statements.
nlohmann::json extract_result_json(const ExtractResult& r, const std::string& command);
void print_extract_result(const ExtractResult& r, const std::string& from);

}  // namespace mysqlclone
