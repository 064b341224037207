#include "libclone/io/byte_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "libclone/base/interrupt.h"
#include "libclone/io/read_file.h"

namespace mysqlclone {
namespace {

// A pipe holds 64 KiB by default: a MiB record crossed it in 16 pieces, each a wake-up of the
// other side. Grown to the size an unprivileged process may set (fs.pipe-max-size, 1 MiB by
// default), both ends of `local --stream | extract` move a record at a time. Best effort: any
// descriptor that is not a pipe, or a smaller limit, leaves it as it is.
void widen_if_pipe(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) (void)::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

}  // namespace

FdSink::FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  widen_if_pipe(fd_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return;
  if (S_ISSOCK(st.st_mode)) {
    socket_ = true;  // send() takes MSG_DONTWAIT per call
  } else if (S_ISFIFO(st.st_mode)) {
    // The pipe opened again through /proc: a description of its own, non-blocking, while the one
    // `fd` has stays blocking for whoever shares it (stdin may be the same pipe or socket).
    const int own = ::open(("/proc/self/fd/" + std::to_string(fd_)).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (own >= 0) fd_ = own_fd_ = own;
    else blocking_pipe_ = true;  // no /proc, or another user's pipe (EACCES): see pipe_room()
  }
}

// What a write to a blocking pipe takes without waiting: the pipe's capacity less what it holds,
// counted in whole slots (a page each; the first and the last slot in use may be partly empty,
// hence two more), so that SIGINT/SIGTERM are seen between writes. At least a page once poll()
// says the pipe has room (a free slot); 0 after 100 ms without.
size_t FdSink::pipe_room() const {
  static const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const int capacity = ::fcntl(fd_, F_GETPIPE_SZ);
  int queued = 0;
  if (capacity > 0 && ::ioctl(fd_, FIONREAD, &queued) == 0) {
    const size_t used = (size_t(queued) + page - 1) / page * page + 2 * page;
    if (size_t(capacity) > used + page) return size_t(capacity) - used;
  }
  pollfd p{fd_, POLLOUT, 0};
  return ::poll(&p, 1, 100) > 0 ? page : 0;  // also a reader gone (POLLERR): the write says EPIPE
}

FdSink::~FdSink() {
  if (own_fd_ >= 0) ::close(own_fd_);
}

FdSource::FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) { widen_if_pipe(fd_); }

Status FdSink::write(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal; the target is incomplete");
    size_t want = bytes.size();
    if (blocking_pipe_) {
      want = std::min(want, pipe_room());
      if (want == 0) continue;
    }
    const ssize_t n = socket_ ? ::send(fd_, bytes.data(), want, MSG_DONTWAIT | MSG_NOSIGNAL)
                              : ::write(fd_, bytes.data(), want);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      (void)::poll(&p, 1, 100);  // room, a broken pipe, or 100 ms: the loop looks again
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return errno_status(ExitCode::kNetwork, "cannot write the stream to", name_, n < 0 ? errno : ENOSPC);
    bytes = bytes.subspan(size_t(n));
  }
  return Status::ok();
}

Status FdSink::sync() {
  struct stat st {};
  // A pipe or socket has nothing to sync; a file is made durable.
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && ::fdatasync(fd_) != 0)
    return errno_status(ExitCode::kNetwork, "cannot sync the stream", name_, errno);
  return Status::ok();
}

FdSource::~FdSource() {
  if (owned_) ::close(fd_);
}

Status FdSource::open(const std::string& path) {
  name_ = path.empty() || path == "-" ? "standard input" : path;
  if (path.empty() || path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return errno_status(ExitCode::kPath, "cannot open the stream", path, errno);
    owned_ = true;
  }
  widen_if_pipe(fd_);
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = uint64_t(st.st_size);
  return Status::ok();
}

Result<size_t> FdSource::read(std::span<uint8_t> out) {
  while (true) {
    if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal; the target is incomplete");
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return size_t(n);
    if (errno != EINTR) return errno_status(ExitCode::kNetwork, "cannot read the stream from", name_, errno);
  }
}

}  // namespace mysqlclone
