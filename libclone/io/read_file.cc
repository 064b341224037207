#include "libclone/io/read_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>

#include "libclone/base/text.h"

namespace mysqlclone {

Status errno_status(ExitCode code, const std::string& what, const std::string& path, int err) {
  return Status::error(code, what + " " + printable(path) + ": " + std::strerror(err));
}

AlignedBuffer::AlignedBuffer(size_t size) : data_(nullptr, Free{0}), size_(size) {
  if (size == 0 || size % kHugePageBytes != 0) {
    const size_t bytes = (size + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment;
    data_.reset(static_cast<uint8_t*>(std::aligned_alloc(kDirectIoAlignment, std::max(bytes, kDirectIoAlignment))));
    if (!data_) throw std::bad_alloc();
    return;
  }
  // mmap aligns to a page only: map a huge page more and unmap what lies outside the aligned part.
  void* mapped = ::mmap(nullptr, size + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = (start + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  if (aligned > start) ::munmap(mapped, aligned - start);
  if (const size_t tail = start + size + kHugePageBytes - (aligned + size); tail > 0)
    ::munmap(reinterpret_cast<void*>(aligned + size), tail);
  ::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);  // advice: without it, 4 KiB pages
  data_ = std::unique_ptr<uint8_t, Free>(reinterpret_cast<uint8_t*>(aligned), Free{size});
}

void AlignedBuffer::Free::operator()(uint8_t* p) const {
  if (mapped) ::munmap(p, mapped);
  else std::free(p);
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

}  // namespace

Result<size_t> read_fully(int fd, bool direct, uint64_t offset, std::span<uint8_t> out, const std::string& path) {
  if (!direct || (direct_io_aligned(offset) && direct_io_aligned(out.size()) &&
                  direct_io_aligned(reinterpret_cast<uintptr_t>(out.data()))))
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

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// statx of `path` relative to `fd` (AT_EMPTY_PATH with "": the open file itself).
int stamp_at(int fd, const char* path, int flags, FileStamp& out) {
  out.taken_ns = now_ns();
  struct statx st {};
  if (::statx(fd, path, flags, STATX_INO | STATX_SIZE | STATX_CTIME | STATX_BTIME, &st) != 0) return errno;
  out.identity.device = (uint64_t(st.stx_dev_major) << 32) | st.stx_dev_minor;
  out.identity.inode = st.stx_ino;
  if (st.stx_mask & STATX_BTIME)
    out.identity.birth_ns = int64_t(st.stx_btime.tv_sec) * 1000000000 + st.stx_btime.tv_nsec;
  out.size = st.stx_size;
  out.changed_ns = int64_t(st.stx_ctime.tv_sec) * 1000000000 + st.stx_ctime.tv_nsec;
  return 0;
}

// How long after a change a file's ctime may still show it. More than the timestamp granularity:
// file systems stamp with the kernel's coarse clock (one tick: 10 ms at most); those that keep
// whole seconds (ext4 with small inodes, ext3) are told by a ctime without nanoseconds (by chance
// only one in millions on the others, which then wait longer). And more than a write takes: the
// ctime moves when a write() begins, not when its bytes land, so a write held up meanwhile (dirty
// page throttling pauses up to 200 ms at a time) may still be changing the file with the ctime
// already at its start. A second covers that; a file changed within it is read again.
int64_t settle_ns(int64_t changed_ns) {
  constexpr int64_t kSecond = 1'000'000'000;
  return changed_ns % kSecond == 0 ? 2 * kSecond : kSecond;
}

}  // namespace

bool unchanged_since(const FileStamp& then, const FileStamp& now) {
  return then.identity == now.identity && then.size == now.size && then.changed_ns == now.changed_ns &&
         then.changed_ns < then.taken_ns - settle_ns(then.changed_ns);
}

Result<std::optional<FileStamp>> stamp_path(const std::string& path) {
  FileStamp stamp;
  if (int err = stamp_at(AT_FDCWD, path.c_str(), 0, stamp); err != 0) {
    if (err == ENOENT) return std::optional<FileStamp>();
    return errno_status(ExitCode::kSourceIo, "cannot stat", path, err);
  }
  return std::optional<FileStamp>(stamp);
}

Result<FileStamp> ReadFile::stamp() const {
  FileStamp stamp;
  if (int err = stamp_at(fd_, "", AT_EMPTY_PATH, stamp); err != 0)
    return errno_status(ExitCode::kSourceIo, "cannot stat", path_, err);
  return stamp;
}

void ReadFile::advise_sequential() const { ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL); }

}  // namespace mysqlclone
