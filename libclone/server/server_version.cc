#include "libclone/server/server_version.h"

#include <cctype>

#include <fmt/format.h>

namespace mysqlclone {

bool ServerVersion::at_least(unsigned ma, unsigned mi, unsigned pa) const {
  if (major != ma) return major > ma;
  if (minor != mi) return minor > mi;
  return patch >= pa;
}

std::string ServerVersion::text() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

Result<ServerVersion> parse_server_version(const std::string& text) {
  auto bad = [&] {
    return Status::error(ExitCode::kUnsupported, fmt::format("server version \"{}\" is not of the form N.N.N", text));
  };
  ServerVersion v;
  unsigned* parts[3] = {&v.major, &v.minor, &v.patch};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != '.') return bad();
      ++pos;
    }
    const size_t start = pos;
    unsigned n = 0;
    // Five digits at most: no real version comes close, and it keeps n far from overflow.
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) && pos - start < 5) {
      n = n * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    if (pos == start) return bad();
    *parts[i] = n;
  }
  // MySQL appends its suffixes ("-log", "-debug", a distribution's "-0ubuntu0.22.04.1") after '-'.
  if (pos != text.size() && text[pos] != '-') return bad();
  return v;
}

}  // namespace mysqlclone
