// Statements that make a copy a replica of its source, from the position the copy is
// consistent at. The account is left as placeholders (REPLICATION_USER / REPLICATION_PASSWORD):
// provisioning scripts substitute their own.
#pragma once

#include <string>
#include <vector>

#include "libclone/command/local/local_backup.h"

namespace mysqlclone {

std::vector<std::string> replica_statements(const LocalBackupResult& r);

}  // namespace mysqlclone
