// MySQL option files (my.cnf) as the mysql client reads them, for the house connection
// conventions: default files in the client's order (or only --defaults-file, or none with
// --no-defaults), --defaults-extra-file after the global ones, groups [client] and [mysqlclone],
// `!include` / `!includedir`, `loose-` prefixes, '-' and '_' alike, quotes and escapes.
// Connector/C reads option files itself, but only one file per connection and not
// --defaults-extra-file; reading them here gives one set of rules for every option.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libclone/base/status.h"

namespace mysqlclone {

struct OptionFileChoice {
  std::optional<std::string> defaults_file;        // only this file
  std::optional<std::string> defaults_extra_file;  // read after the global files, before ~/.my.cnf
  bool no_defaults = false;
};

// The files the mysql client reads, in order, for a choice (missing default files are skipped
// by the reader; a missing --defaults-file or --defaults-extra-file is an error).
std::vector<std::string> option_files(const OptionFileChoice& choice);

// One `name[=value]` line of a group: where it is, for errors that name file, line and key.
struct OptionEntry {
  std::string group;
  std::string name;   // normalised: "loose-" removed, '_' turned into '-'
  std::string value;  // unquoted and unescaped; empty for a bare name
  bool bare = false;  // `name` alone, no '='
  bool loose = false; // written with the "loose-" prefix: unknown names are not errors
  std::string file;
  int line = 0;
  std::string where() const { return file + ":" + std::to_string(line); }
};

// Every entry of `groups` in `files`, in reading order (files in order, `!include`d files where
// they are included).
Result<std::vector<OptionEntry>> read_option_entries(const std::vector<std::string>& files,
                                                     const std::vector<std::string>& groups,
                                                     const OptionFileChoice& choice);

// Name -> value, the groups' order being their priority: a later group's entry wins over an
// earlier group's wherever it is; within a group a later entry wins.
std::map<std::string, std::string> merge_by_group(const std::vector<OptionEntry>& entries,
                                                  const std::vector<std::string>& groups);

}  // namespace mysqlclone
