#include "libclone/datadir_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "libclone/read_file.h"

namespace mysqlclone {

Result<std::optional<pid_t>> datadir_lock_holder(const std::string& dir) {
  const std::string path = dir + "/ibdata1";
  // F_GETLK with a write-lock probe reports any conflicting lock; a read-only descriptor is
  // enough to ask, and asking takes no lock.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot open", path, errno);
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 0;
  int rc = ::fcntl(fd, F_GETLK, &probe);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(ExitCode::kPath, "cannot query locks on", path, err);
  if (probe.l_type == F_UNLCK) return std::optional<pid_t>{};
  return std::optional<pid_t>{probe.l_pid};
}

}  // namespace mysqlclone
