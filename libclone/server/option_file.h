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

// Option name -> value (empty for a bare flag) from `groups` of `files`; later wins.
// Names are normalised: "loose-" removed, '_' turned into '-'.
Result<std::map<std::string, std::string>> read_option_groups(const std::vector<std::string>& files,
                                                              const std::vector<std::string>& groups,
                                                              const OptionFileChoice& choice);

}  // namespace mysqlclone
