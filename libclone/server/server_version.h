// A server's version as three numbers, parsed from what the server reports about itself.
#pragma once

#include <compare>
#include <string>

#include "libclone/base/status.h"

namespace mysqlclone {

struct ServerVersion {
  unsigned major = 0, minor = 0, patch = 0;
  bool at_least(unsigned ma, unsigned mi, unsigned pa) const;
  std::string text() const;  // "9.7.4"
  auto operator<=>(const ServerVersion&) const = default;
};

// Parses "9.7.4-2", "8.4.3-log", "10.11.19-MariaDB-0+deb12u1-log": three numbers, then nothing
// or a '-' suffix. Anything else is kUnsupported.
Result<ServerVersion> parse_server_version(const std::string& text);

}  // namespace mysqlclone
