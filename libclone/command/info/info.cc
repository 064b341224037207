#include "libclone/command/info/info.h"

#include "libclone/base/path.h"

namespace mysqlclone {

Result<RepositoryInfo> run_info(const std::string& repo) {
  auto backups = list_repository(repo);
  if (!backups.is_ok()) return backups.status();
  return RepositoryInfo{absolute_dir(repo), std::move(backups).value()};
}

}  // namespace mysqlclone
