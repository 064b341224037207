#include "libclone/manifest/repository.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "libclone/base/path.h"
#include "libclone/base/text.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/read_file.h"
#include "libclone/manifest/manifest.h"

namespace mysqlclone {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLockFile = "mysqlclone-repository.lock";

bool is_marked(const std::string& repo) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(repo) / kRepositoryMarker, ec);
}

// "2026-12-04T02:15:00Z" (utc_iso8601); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_utc(const std::string& text) {
  std::tm tm{};
  char z = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z')
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

}  // namespace

RepositoryLock::~RepositoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the file releases the flock
}

Status create_repository(const std::string& repo) {
  std::error_code ec;
  if (!fs::exists(repo, ec)) {
    if (!fs::create_directory(repo, ec) && ec)
      return Status::error(ExitCode::kPath, "cannot create the repository " + printable(repo) + ": " + ec.message());
  } else if (!is_marked(repo)) {
    if (!fs::is_directory(repo, ec))
      return Status::error(ExitCode::kPath, "--repo " + printable(repo) + " is not a directory");
    if (!fs::is_empty(repo, ec))
      return Status::error(ExitCode::kPath, "--repo " + printable(repo) + " is not a mysqlclone repository (no " +
                                                kRepositoryMarker + " in it) and not empty: give a new or empty directory");
  }
  if (is_marked(repo)) return Status::ok();
  // Written whole and synced, like a backup's own metadata.
  DirectoryStorage storage(repo);
  return storage.put(kRepositoryMarker, "mysqlclone repository: backups of one server (man mysqlclone)\n");
}

Status check_repository(const std::string& repo) {
  if (is_marked(repo)) return Status::ok();
  return Status::error(ExitCode::kPath, "--repo " + printable(repo) + " is not a mysqlclone repository (no " +
                                            kRepositoryMarker + " in it; `local --repo` makes one)");
}

Result<RepositoryLock> lock_repository(const std::string& repo, const std::string& what) {
  const std::string path = repo + "/" + kLockFile;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot open the repository lock", path, errno);
  RepositoryLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) return errno_status(ExitCode::kPath, "cannot lock", path, err);
    char holder[256] = {};
    const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    std::string who = n > 0 ? std::string(holder, size_t(n)) : "another run";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    return Status::error(ExitCode::kPath, "the repository " + printable(repo) + " is in use by " + printable(who) +
                                              ": one run at a time");
  }
  const std::string holder = "mysqlclone " + what + " (pid " + std::to_string(::getpid()) + ", since " +
                             utc_now_iso8601() + ")\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, holder.data(), holder.size(), 0) != ssize_t(holder.size()))
    return errno_status(ExitCode::kPath, "cannot write", path, errno);
  return lock;
}

Result<RepositoryLock> open_repository(const std::string& repo, const std::string& what, bool create) {
  if (Status s = create ? create_repository(repo) : check_repository(repo); !s.is_ok()) return s;
  return lock_repository(repo, what);
}

Result<std::vector<RepositoryBackup>> list_repository(const std::string& repo) {
  if (Status s = check_repository(repo); !s.is_ok()) return s;
  std::error_code ec;
  const std::string root = absolute_dir(repo);
  std::vector<std::string> names;
  // increment(ec), not a range-for: that throws on a read error.
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const std::string name = it->path().filename().string();
    if (it->is_directory(type_ec) && name[0] != '.') names.push_back(name);
  }
  if (ec) return Status::error(ExitCode::kPath, "cannot list the repository " + printable(repo) + ": " + ec.message());
  std::sort(names.begin(), names.end());
  std::vector<RepositoryBackup> backups;
  for (const std::string& name : names) {
    RepositoryBackup b;
    b.name = name;
    auto summary = read_manifest(root + "/" + name);
    if (!summary.is_ok() || !summary->has_value()) {
      b.state = "unreadable";
      b.error = summary.is_ok() ? "no mysqlclone.json" : summary.status().message();
    } else {
      b.state = (*summary)->state;
      b.error = (*summary)->error;
      b.started_at = (*summary)->document.value("started_at", "");
    }
    if (b.state == "complete") {
      auto record = read_backup(root + "/" + name);
      if (record.is_ok()) {
        if (record->incremental && fs::path(record->base_dir).parent_path() == fs::path(root))
          b.base_name = fs::path(record->base_dir).filename().string();
        b.record = std::move(record).value();
      } else {
        b.state = "unreadable";
        b.error = record.status().message();
      }
    }
    backups.push_back(std::move(b));
  }
  return backups;
}

std::string repository_backup_name(std::chrono::system_clock::time_point t, bool incremental) {
  return utc_compact_time(t) + (incremental ? "-incr" : "-full");
}

Result<std::string> newest_backup(const std::string& repo) {
  auto backups = list_repository(repo);
  if (!backups.is_ok()) return backups.status();
  for (auto it = backups->rbegin(); it != backups->rend(); ++it)
    if (it->record) return it->record->dir;
  return Status::error(ExitCode::kPath, "the repository " + printable(repo) +
                                            " has no finished backup to build an incremental on: take a full one first");
}

ExpirePlan plan_expire(const std::vector<RepositoryBackup>& backups, const ExpireRules& rules,
                       std::chrono::system_clock::time_point now) {
  std::map<std::string, const RepositoryBackup*> by_name;
  for (const auto& b : backups) by_name[b.name] = &b;
  // Where a finished backup's chain ends, down its bases: at its full backup, at a backup that
  // cannot be read, or null (the chain leaves the repository or is broken).
  auto root_of = [&by_name](const RepositoryBackup& b) {
    const RepositoryBackup* at = &b;
    for (size_t steps = 0; at && at->record && at->record->incremental && steps <= by_name.size(); ++steps) {
      auto it = by_name.find(at->base_name);
      at = it == by_name.end() ? nullptr : it->second;
    }
    return at && (at->state == "unreadable" || (at->record && !at->record->incremental)) ? at : nullptr;
  };
  std::vector<std::string> fulls;
  for (const auto& b : backups)
    if (b.record && !b.record->incremental) fulls.push_back(b.name);
  const size_t first_kept = fulls.size() > rules.keep_full ? fulls.size() - rules.keep_full : 0;
  const std::set<std::string> kept_fulls(fulls.begin() + long(first_kept), fulls.end());

  std::set<std::string> keep(kept_fulls);
  for (const auto& b : backups)
    if (b.state == "unreadable") keep.insert(b.name);
  for (const auto& b : backups) {
    if (!b.record || !b.record->incremental) continue;
    const RepositoryBackup* root = root_of(b);
    // On a backup that cannot be read: whether it is needed cannot be told, so it stays.
    const bool on_unreadable = root && root->state == "unreadable";
    if (!on_unreadable && (!root || !kept_fulls.count(root->name))) continue;
    if (rules.keep_incremental_days && !on_unreadable) {
      auto started = parse_utc(b.started_at);
      if (started && now - *started > std::chrono::hours(24) * *rules.keep_incremental_days) continue;
    }
    // Kept, and so is every base it needs.
    for (const RepositoryBackup* at = &b; at && keep.insert(at->name).second && at->record && at->record->incremental;) {
      auto it = by_name.find(at->base_name);
      at = it == by_name.end() ? nullptr : it->second;
    }
  }
  ExpirePlan plan;
  for (const auto& b : backups) (keep.count(b.name) ? plan.keep : plan.remove).push_back(b.name);
  return plan;
}

}  // namespace mysqlclone
