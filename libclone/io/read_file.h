// A source file opened for positional reads: every byte the engine reads from a data file comes
// through here, so tests and later sources (a stream, a peer) share one narrow shape.
//
// Source files are read with O_DIRECT where the file system allows it. The servers write data
// pages (innodb_flush_method=O_DIRECT, the default of MariaDB 10.6+ and MySQL 8.4+) and
// MariaDB's redo log (innodb_log_file_buffering=OFF) with direct I/O; a buffered read racing
// such a write can leave a stale page in the page cache that later reads keep returning — an
// old page image in the copy, or redo that never seems to arrive. Direct reads see what is on
// disk. They also leave the source host's page cache alone.
#pragma once

#include <compare>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "libclone/base/status.h"

namespace mysqlclone {

// Memory aligned for direct I/O. A size that is a whole number of kHugePageBytes is mapped on its
// own, aligned to that, and asked for transparent huge pages (madvise: where the kernel has none
// to give, it is ordinary memory): a direct read goes to the device as one request only when its
// memory is few enough physically contiguous segments. A MiB in 4 KiB pages is 256 of them, and a
// virtio disk takes 254 (max_segments), so every 1 MiB read went out as two requests (iostat:
// 512 KiB on average); in huge pages it is one. A 1 GiB `local` copy took ~10 % less time.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t size);
  std::span<uint8_t> span() { return {data_.get(), size_}; }
  uint8_t* data() { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    size_t mapped;  // bytes mapped with mmap; 0: from aligned_alloc
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_;
};

constexpr size_t kHugePageBytes = 2 << 20;
constexpr size_t kDirectIoAlignment = 4096;
inline bool direct_io_aligned(uint64_t v) { return v % kDirectIoAlignment == 0; }

// Which file on disk an open file is: a name can come to mean another file (a table dropped and
// created again, a tablespace imported over a discarded one) while the space id stays the same.
// The inode alone can be reused at once by the next file created; with its birth time (where
// the file system keeps one: ext4, XFS, btrfs) it names one file for good.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t birth_ns = 0;  // 0 where the file system keeps no birth time
  auto operator<=>(const FileIdentity&) const = default;
};

// Which file a name is, and when it last changed: the ctime moves with every write (and rename,
// chmod), and nothing sets it back. `taken_ns`: the wall clock just before the stat.
struct FileStamp {
  FileIdentity identity;
  uint64_t size = 0;
  int64_t changed_ns = 0;
  int64_t taken_ns = 0;
};

// Whether `now` is the very file `then` was taken of, unwritten since: the same file, size and
// ctime, and that ctime older than `then` by more than the file system's timestamp granularity
// (a coarse clock tick; a whole second on some) and than a write() may take (a second): a write in
// the same tick as the first stat, or one begun before it and still under way, leaves the ctime
// as it was, so a file changed that recently is never vouched for. Writes through a shared mapping
// move the ctime only at a page's first store after write-back: no stamp vouches for such a file.
bool unchanged_since(const FileStamp& then, const FileStamp& now);

// The stamp of the file at `path` now (following symlinks, as opening it does); nullopt when there
// is none (ENOENT). Any other failure is an error naming the path.
Result<std::optional<FileStamp>> stamp_path(const std::string& path);

class ReadFile {
 public:
  static Result<ReadFile> open(const std::string& path);
  ReadFile(ReadFile&& other) noexcept;
  ReadFile& operator=(ReadFile&& other) noexcept;
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;
  ~ReadFile();

  // Fills `buf` from `offset`; returns fewer bytes only at end of file. Any offset, length and
  // buffer work; aligned ones (kDirectIoAlignment) avoid a bounce copy.
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> buf) const;
  Result<uint64_t> size() const;
  Result<FileStamp> stamp() const;
  // Tells the kernel we read front to back (more readahead).
  void advise_sequential() const;
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  ReadFile(int fd, std::string path, bool direct) : fd_(fd), path_(std::move(path)), direct_(direct) {}
  int fd_ = -1;
  std::string path_;
  bool direct_ = false;
};

// Opens `path` read-only, with O_DIRECT when the file system takes it; `direct` says which.
Result<int> open_for_direct_read(const std::string& path, bool& direct);
// pread() of any range from an fd opened by open_for_direct_read(): unaligned requests on a
// direct fd go through an aligned bounce buffer. Short only at end of file.
Result<size_t> read_fully(int fd, bool direct, uint64_t offset, std::span<uint8_t> out, const std::string& path);

// "<what> <path>: <strerror(errno)>" as a Status with the given code.
Status errno_status(ExitCode code, const std::string& what, const std::string& path, int err);

}  // namespace mysqlclone
