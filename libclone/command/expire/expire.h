// `mysqlclone expire --repo REPO --keep-full N [--keep-incremental-days D]`: removes the backups
// the rules no longer keep (repository.h: plan_expire), never one that a kept backup needs.
#pragma once

#include <string>

#include "libclone/base/status.h"
#include "libclone/manifest/repository.h"

namespace mysqlclone {

struct ExpireOptions {
  std::string repo;
  ExpireRules rules;
  bool dry_run = false;  // say what would go, remove nothing
};

// Under the repository's lock. Removal goes newest first, each backup renamed to a hidden name
// before its files go: a run cut short leaves no half-removed backup that looks like one, and no
// kept backup without its base. kUsage for --keep-full 0, kPath for a repository in use.
Result<ExpirePlan> run_expire(const ExpireOptions& options);

}  // namespace mysqlclone
