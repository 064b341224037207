#include "libclone/datadir/datadir_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "libclone/io/read_file.h"

namespace mysqlclone {

namespace {

// The pid holding a write lock on `path`, nullopt when none (or when the file is not there).
std::optional<pid_t> lock_holder(const std::string& path) {
  // F_GETLK with a write-lock probe reports any conflicting lock; a read-only descriptor is
  // enough to ask, and asking takes no lock.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const int rc = ::fcntl(fd, F_GETLK, &probe);
  ::close(fd);
  if (rc != 0 || probe.l_type == F_UNLCK) return std::nullopt;
  return probe.l_pid;
}

}  // namespace

Result<std::optional<pid_t>> datadir_lock_holder(const std::string& dir) {
  if (::access((dir + "/ibdata1").c_str(), R_OK) != 0)
    return errno_status(ExitCode::kPath, "cannot open", dir + "/ibdata1", errno);
  return lock_holder_in(dir);
}

std::optional<pid_t> lock_holder_in(const std::string& dir) {
  std::vector<std::string> candidates{"ibdata1", "ibtmp1", "ib_logfile0", "aria_log_control"};
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if ((name.rfind("#ib_", 0) == 0 && name.size() > 6 && name.compare(name.size() - 6, 6, ".dblwr") == 0) ||
        name.rfind("undo", 0) == 0)
      candidates.push_back(name);
  }
  // The only files of a MySQL log or undo directory of its own: redo and undo tablespaces.
  for (const char* sub : {"#innodb_temp", "#innodb_redo"})
    for (const auto& e : std::filesystem::directory_iterator(dir + "/" + sub, ec))
      candidates.push_back(std::string(sub) + "/" + e.path().filename().string());
  for (const auto& name : candidates)
    if (auto pid = lock_holder(dir + "/" + name)) return pid;
  return std::nullopt;
}

}  // namespace mysqlclone
