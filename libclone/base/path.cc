#include "libclone/base/path.h"

#include <filesystem>

namespace mysqlclone {

std::string absolute_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(dir, ec).lexically_normal();
  // "/repo/" and "/repo/." normalise to "/repo/": its parent_path() is "/repo", and a parent
  // compared with it would never match.
  if (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  return p.string();
}

}  // namespace mysqlclone
