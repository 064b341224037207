// A repository: one directory holding a server's backups, named by their start time and kind,
// with their chains (full backup, then incrementals each on the one before), so that a scheduled
// job only says `--repo DIR` (and `--incremental`), `info` lists what is there and `expire`
// removes what is no longer wanted without ever breaking a chain that a kept backup needs.
//
//   REPO/mysqlclone-repository     marks the directory (written when `local --repo` makes it)
//   REPO/mysqlclone-repository.lock  flock()ed by every run that writes or reads backups
//   REPO/20261204T021500Z-full/    a backup directory, as `local --target-dir` writes it
//   REPO/20261205T021500Z-incr/    an incremental; its base is named in its mysqlclone.json
//
// The lock is an flock() on the lock file, held for the whole run: two runs at once are refused
// with the holder's pid and start named, and a run that died releases it with its process (a
// lock left by a dead process is never in the way).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/manifest/backup_chain.h"

namespace mysqlclone {

inline constexpr const char* kRepositoryMarker = "mysqlclone-repository";

// One backup directory of a repository, finished or not.
struct RepositoryBackup {
  std::string name;       // its directory's name
  std::string state;      // mysqlclone.json "state": complete, failed, in-progress, ...; or
                          // "unreadable": no mysqlclone.json, or one this version cannot read
  std::string error;      // of a failed one
  std::optional<BackupRecord> record;  // a finished backup
  std::string base_name;  // an incremental: its base's name ("" when outside the repository)
  std::string started_at;
};

// Held for a run's life; released (the file closed) by the destructor.
class RepositoryLock {
 public:
  RepositoryLock(RepositoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RepositoryLock& operator=(RepositoryLock&&) = delete;
  RepositoryLock(const RepositoryLock&) = delete;
  ~RepositoryLock();

 private:
  friend Result<RepositoryLock> lock_repository(const std::string& repo, const std::string& what);
  explicit RepositoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Makes REPO (and its marker) if it does not exist; refuses a directory that exists with other
// contents and no marker (kPath): a repository is never laid over something else.
Status create_repository(const std::string& repo);
// kPath unless REPO is a repository.
Status check_repository(const std::string& repo);
// Takes the repository's lock for `what` (e.g. "local"), or fails with kPath naming the run
// holding it.
Result<RepositoryLock> lock_repository(const std::string& repo, const std::string& what);

// What every command that works on a repository does first: create it (`local`) or check it is
// one, then take its lock for `what`.
Result<RepositoryLock> open_repository(const std::string& repo, const std::string& what, bool create);

// Every backup directory in REPO, oldest first (by name: the start time).
Result<std::vector<RepositoryBackup>> list_repository(const std::string& repo);

// The name of a new backup started at `t`.
std::string repository_backup_name(std::chrono::system_clock::time_point t, bool incremental);

// The newest finished backup of REPO (an incremental's base); kPath when there is none.
Result<std::string> newest_backup(const std::string& repo);

// What `expire` keeps: the newest `keep_full` full backups and the incrementals built on them,
// less the incrementals older than `keep_incremental_days` (when set) that no kept incremental
// needs. Everything else goes, unfinished backups included (a failed or interrupted run is never
// a base). A backup a kept one needs (its base, and its base's base...) is always kept, and so
// is what cannot be read (not mysqlclone's, a newer version's, or a read that failed): expire
// removes only what it knows it may.
struct ExpireRules {
  unsigned keep_full = 0;  // at least 1
  std::optional<unsigned> keep_incremental_days;
};
struct ExpirePlan {
  std::vector<std::string> keep, remove;  // names, oldest first
};
ExpirePlan plan_expire(const std::vector<RepositoryBackup>& backups, const ExpireRules& rules,
                       std::chrono::system_clock::time_point now);

}  // namespace mysqlclone
