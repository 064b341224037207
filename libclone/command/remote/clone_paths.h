// Where a file the donor announces lands in the target directory. The donor's names are
// untrusted: a name may only ever resolve to a path under DIR, never onto the files the
// recipient itself owns (#clone/ markers, mysqlclone.json), and never through "..".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "libclone/server/server_version.h"
#include "libclone/base/status.h"

namespace mysqlclone::clone {

struct PathRules {
  std::filesystem::path target_dir;  // DIR, absolute
  // The donor may name files by absolute path (tables created with DATA DIRECTORY). Refused
  // unless this is set; then /a/b/t.ibd is written to DIR/#external/a/b/t.ibd, and the user
  // moves it into place (mysqlclone.json lists every such file).
  bool allow_absolute = false;
};

constexpr const char* kExternalDir = "#external";

// The target of a data file (FILE COPY / PAGE COPY metadata). Accepts "name", "./a/b" and
// "a/b"; refuses (kProtocol) an empty name, NUL bytes, "..", empty or "." components past a
// leading "./", a trailing '/', names longer than kMaxNameLength, and names whose first
// component is reserved (#clone, #external, mysqlclone.json, #innodb_redo); refuses
// (kUnsupported, with the flag to use) an absolute name unless rules.allow_absolute.
Result<std::filesystem::path> data_file_target(const std::string& donor_name, const PathRules& rules);

// True when the name came in as an absolute path (recorded in mysqlclone.json).
bool is_absolute_donor_name(const std::string& donor_name);

// The redo file the stock recipient writes for redo file index N of the clone:
// DIR/ib_logfile<N> before 8.0.30, DIR/#innodb_redo/#ib_redo<N> from 8.0.30 on.
std::filesystem::path redo_file_target(const std::filesystem::path& target_dir, uint32_t index,
                                       const ServerVersion& donor);

}  // namespace mysqlclone::clone
