#include "libclone/io/relative_path.h"

namespace mysqlclone {

const char* split_relative_path(std::string_view rel, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  while (true) {
    const size_t slash = rel.find('/', start);
    const bool last = slash == std::string_view::npos;
    const std::string_view c = rel.substr(start, last ? std::string_view::npos : slash - start);
    if (c.empty()) return last ? "ends with '/'" : "has an empty component";
    if (c == ".") return "has a '.' component";
    if (c == "..") return "has a '..' component";
    out.push_back(c);
    if (last) return nullptr;
    start = slash + 1;
  }
}

}  // namespace mysqlclone
