#include "libclone/io/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "libclone/base/text.h"

namespace mysqlclone {

Status errno_status(ExitCode code, const std::string& what, const std::string& path, int err) {
  return Status::error(code, what + " " + printable(path) + ": " + std::strerror(err));
}

AlignedBuffer::AlignedBuffer(size_t size)
    : data_(static_cast<uint8_t*>(std::aligned_alloc(kDirectIoAlignment,
                                                     (size + kDirectIoAlignment - 1) / kDirectIoAlignment *
                                                         kDirectIoAlignment))),
      size_(size) {
  if (!data_) throw std::bad_alloc();
}

Result<int> open_for_direct_read(const std::string& path, bool& direct) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
  direct = fd >= 0;
  if (fd < 0 && errno == EINVAL) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // e.g. tmpfs
  if (fd < 0) return errno_status(ExitCode::kSourceIo, "cannot open", path, errno);
  return fd;
}

namespace {

Result<size_t> pread_all(int fd, uint64_t offset, std::span<uint8_t> buf, const std::string& path) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, off_t(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(ExitCode::kSourceIo, "cannot read", path, errno);
    }
    if (n == 0) break;
    done += size_t(n);
    if (done % kDirectIoAlignment) break;  // a direct read ends short only at end of file
  }
  return done;
}

bool aligned(uint64_t v) { return v % kDirectIoAlignment == 0; }

}  // namespace

Result<size_t> read_fully(int fd, bool direct, uint64_t offset, std::span<uint8_t> out, const std::string& path) {
  if (!direct || (aligned(offset) && aligned(out.size()) && aligned(reinterpret_cast<uintptr_t>(out.data()))))
    return pread_all(fd, offset, out, path);
  // Unaligned on a direct fd: read the aligned range around it, copy out the part asked for.
  const uint64_t start = offset / kDirectIoAlignment * kDirectIoAlignment;
  const uint64_t end = (offset + out.size() + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment;
  AlignedBuffer bounce(size_t(end - start));
  auto n = pread_all(fd, start, bounce.span(), path);
  if (!n.is_ok()) return n.status();
  const uint64_t skip = offset - start;
  const size_t got = *n > skip ? size_t(std::min<uint64_t>(*n - skip, out.size())) : 0;
  std::memcpy(out.data(), bounce.data() + skip, got);
  return got;
}

Result<ReadFile> ReadFile::open(const std::string& path) {
  bool direct = false;
  auto fd = open_for_direct_read(path, direct);
  if (!fd.is_ok()) return fd.status();
  return ReadFile(*fd, path, direct);
}

ReadFile::ReadFile(ReadFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)), direct_(other.direct_) {
  other.fd_ = -1;
}

ReadFile& ReadFile::operator=(ReadFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    direct_ = other.direct_;
    other.fd_ = -1;
  }
  return *this;
}

ReadFile::~ReadFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> ReadFile::read_at(uint64_t offset, std::span<uint8_t> buf) const {
  return read_fully(fd_, direct_, offset, buf, path_);
}

Result<uint64_t> ReadFile::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return errno_status(ExitCode::kSourceIo, "cannot stat", path_, errno);
  return uint64_t(st.st_size);
}

Result<FileIdentity> ReadFile::identity() const {
  struct statx st {};
  if (::statx(fd_, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &st) != 0)
    return errno_status(ExitCode::kSourceIo, "cannot stat", path_, errno);
  FileIdentity id;
  id.device = (uint64_t(st.stx_dev_major) << 32) | st.stx_dev_minor;
  id.inode = st.stx_ino;
  if (st.stx_mask & STATX_BTIME) id.birth_ns = int64_t(st.stx_btime.tv_sec) * 1000000000 + st.stx_btime.tv_nsec;
  return id;
}

void ReadFile::advise_sequential() const { ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL); }

}  // namespace mysqlclone
