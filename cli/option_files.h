// Every long option of every command from MySQL option files, as xtrabackup reads its options
// from [xtrabackup]: [mysqlclone] for every command, [mysqlclone-<command>] for one. The command
// line wins, then the command's group, then [mysqlclone]; connection options also come from
// [client], below these (resolve_connection reads those, with the same order).
//
// The options found become command-line words placed right after the command's name, before the
// user's own, and an option the command line sets is not taken from a file. An unknown or
// malformed key is an error naming file, line and key (exit 2), unless written `loose-name`; a
// key of [mysqlclone] that only other commands know is left to them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "libclone/base/status.h"

namespace mysqlclone {

struct ArgsWithOptionFiles {
  std::vector<std::string> args;  // argv[0] first
  // For the errors CLI11 finds in a value: "--name" -> "FILE:LINE: option 'name'".
  std::map<std::string, std::string> origin;
};

// `args` (argv[0] first) with the option files' options of the command they run.
Result<ArgsWithOptionFiles> with_option_files(const CLI::App& app, const std::vector<std::string>& args);

// CLI11's message for a bad value, with the file and line it came from when it came from one.
std::string locate_parse_error(const std::string& message, const ArgsWithOptionFiles& parsed);

}  // namespace mysqlclone
