#include "libclone/command/info/info.h"

#include <filesystem>

namespace mysqlclone {

Result<RepositoryInfo> run_info(const std::string& repo) {
  auto backups = list_repository(repo);
  if (!backups.is_ok()) return backups.status();
  std::error_code ec;
  return RepositoryInfo{std::filesystem::absolute(repo, ec).lexically_normal().string(), std::move(backups).value()};
}

}  // namespace mysqlclone
