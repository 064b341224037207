#include "libclone/command/expire/expire.h"

#include <filesystem>

#include "libclone/base/log.h"
#include "libclone/base/path.h"
#include "libclone/base/text.h"

namespace mysqlclone {

namespace fs = std::filesystem;

Result<ExpirePlan> run_expire(const ExpireOptions& options) {
  if (options.rules.keep_full < 1)
    return Status::error(ExitCode::kUsage, "--keep-full must be at least 1: expire never removes every full backup");
  auto lock = open_repository(options.repo, "expire", false);
  if (!lock.is_ok()) return lock.status();
  auto backups = list_repository(options.repo);
  if (!backups.is_ok()) return backups.status();
  const fs::path repo = absolute_dir(options.repo);
  for (const auto& b : *backups)
    if (b.state == "unreadable") log_warning("left {} alone: {}", printable((repo / b.name).string()), printable(b.error));
  ExpirePlan plan = plan_expire(*backups, options.rules, std::chrono::system_clock::now());
  if (options.dry_run) return plan;
  // What an earlier run had decided to remove and renamed, when it was cut short.
  std::error_code list_ec;
  for (fs::directory_iterator it(repo, list_ec), end; !list_ec && it != end; it.increment(list_ec)) {
    if (!it->path().filename().string().starts_with(".expiring-")) continue;
    std::error_code ec;
    fs::remove_all(it->path(), ec);
    if (ec) return Status::error(ExitCode::kPath, "cannot remove " + printable(it->path().string()) + ": " + ec.message());
    log_info("removed {}, left by an expire cut short", printable(it->path().string()));
  }
  for (auto it = plan.remove.rbegin(); it != plan.remove.rend(); ++it) {
    const fs::path dir = repo / *it;
    const fs::path hidden = repo / (".expiring-" + *it);
    std::error_code ec;
    fs::rename(dir, hidden, ec);
    if (!ec) fs::remove_all(hidden, ec);
    if (ec) return Status::error(ExitCode::kPath, "cannot remove " + printable(dir.string()) + ": " + ec.message());
    log_info("removed {}", printable(dir.string()));
  }
  return plan;
}

}  // namespace mysqlclone
