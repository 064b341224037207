// `mysqlclone info --repo REPO`: what a repository holds (repository.h), for the CLI to print.
#pragma once

#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/manifest/repository.h"

namespace mysqlclone {

struct RepositoryInfo {
  std::string repo;  // absolute
  std::vector<RepositoryBackup> backups;  // oldest first
};

// kPath unless REPO is a repository. Takes no lock: a run in progress shows as "in-progress".
Result<RepositoryInfo> run_info(const std::string& repo);

}  // namespace mysqlclone
