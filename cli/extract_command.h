// The `extract` subcommand: options, the call into libclone, and the result.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/global_options.h"
#include "libclone/command/extract/extract.h"

namespace mysqlclone {

// The result document (--json) or summary of a stream written into a directory by `command`
// (extract, receive, remote --ssh): `from` names where the stream came from in the summary,
// `extra` adds the command's own keys to the document.
void print_extract_result(const ExtractResult& r, const std::string& command, const std::string& from,
                          const nlohmann::json& extra, const GlobalOptions& global);

void add_extract_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

// A finished extract as `command` ("extract", or "remote" for `remote --ssh`) reports it: the
// JSON document of --json, or the human summary, the start hint and the replica statements.
nlohmann::json extract_result_json(const ExtractResult& r, const std::string& command);
void print_extract_result(const ExtractResult& r, const std::string& from);

}  // namespace mysqlclone
