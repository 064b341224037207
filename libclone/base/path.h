// The one form of a directory the user names (--repo, --backup, --target-dir), so that two
// spellings of it compare equal.
#pragma once

#include <string>

namespace mysqlclone {

// `dir` made absolute (against the working directory) and normalised: ".", ".." and doubled
// '/' folded, no trailing '/' ("/" stays "/"). Lexical only: symlinks are not followed.
std::string absolute_dir(const std::string& dir);

}  // namespace mysqlclone
