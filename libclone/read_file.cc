#include "libclone/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mysqlclone {

Status errno_status(ExitCode code, const std::string& what, const std::string& path, int err) {
  return Status::error(code, what + " " + path + ": " + std::strerror(err));
}

Result<ReadFile> ReadFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(ExitCode::kSourceIo, "cannot open", path, errno);
  return ReadFile(fd, path);
}

ReadFile::ReadFile(ReadFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

ReadFile& ReadFile::operator=(ReadFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

ReadFile::~ReadFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> ReadFile::read_at(uint64_t offset, std::span<uint8_t> buf) const {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd_, buf.data() + done, buf.size() - done, off_t(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(ExitCode::kSourceIo, "cannot read", path_, errno);
    }
    if (n == 0) break;
    done += size_t(n);
  }
  return done;
}

Result<uint64_t> ReadFile::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return errno_status(ExitCode::kSourceIo, "cannot stat", path_, errno);
  return uint64_t(st.st_size);
}

void ReadFile::advise_sequential() const { ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL); }

}  // namespace mysqlclone
