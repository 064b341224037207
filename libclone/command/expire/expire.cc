#include "libclone/command/expire/expire.h"

#include <filesystem>

#include "libclone/base/log.h"
#include "libclone/base/text.h"

namespace mysqlclone {

Result<ExpirePlan> run_expire(const ExpireOptions& options) {
  if (options.rules.keep_full < 1)
    return Status::error(ExitCode::kUsage, "--keep-full must be at least 1: expire never removes every full backup");
  auto lock = open_repository(options.repo, "expire", false);
  if (!lock.is_ok()) return lock.status();
  auto backups = list_repository(options.repo);
  if (!backups.is_ok()) return backups.status();
  ExpirePlan plan = plan_expire(*backups, options.rules, std::chrono::system_clock::now());
  if (options.dry_run) return plan;
  namespace fs = std::filesystem;
  for (auto it = plan.remove.rbegin(); it != plan.remove.rend(); ++it) {
    const fs::path dir = fs::path(options.repo) / *it;
    const fs::path hidden = fs::path(options.repo) / (".expiring-" + *it);
    std::error_code ec;
    fs::rename(dir, hidden, ec);
    if (!ec) fs::remove_all(hidden, ec);
    if (ec) return Status::error(ExitCode::kPath, "cannot remove " + printable(dir.string()) + ": " + ec.message());
    log_info("removed {}", printable(dir.string()));
  }
  return plan;
}

}  // namespace mysqlclone
