// What the integration tests check of a copy once a server runs on it.
#pragma once

#include <string>
#include <vector>

#include "test/integration/harness.h"

namespace it {

// CHECK TABLE of `names`; "" when each ends with status OK and none reports an error or a
// warning, else what went wrong.
std::string check_tables(const Server& s, const std::vector<std::string>& names);
// CHECKSUM TABLE ... EXTENDED of `names`, as the client prints it (compare two servers' outputs).
std::string checksums(const Server& s, const std::vector<std::string>& names);

}  // namespace it
