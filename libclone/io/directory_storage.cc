#include "libclone/io/directory_storage.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <vector>

#include "libclone/io/read_file.h"

namespace mysqlclone {
namespace {

std::string parent_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

Status pwrite_fully(int fd, std::span<const uint8_t> data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_status(ExitCode::kPath, "cannot write", path, n < 0 ? errno : ENOSPC);
    data = data.subspan(size_t(n));
    offset += uint64_t(n);
  }
  return Status::ok();
}

// How far behind the newest write of a file its pages are waited for and dropped from the page
// cache, and in steps of how much (see write_at).
constexpr uint64_t kDropBehindBytes = 8 << 20;
constexpr uint64_t kDropStepBytes = 1 << 20;

class DirectoryFile : public StorageFile {
 public:
  DirectoryFile(int fd, int direct_fd, std::string path, std::shared_ptr<DirectoryStorage::Unsynced> unsynced,
                uint64_t end = 0)
      : fd_(fd),
        direct_fd_(direct_fd),
        path_(std::move(path)),
        unsynced_(std::move(unsynced)),
        name_(unsynced_->opened(path_)),
        end_(end) {}
  ~DirectoryFile() override {
    if (fd_ >= 0) unsynced_->closed(name_, false);
    close_descriptors();
  }

  Status append(std::span<const uint8_t> bytes) override {
    const uint64_t at = end_.fetch_add(bytes.size());
    return write_at(at, bytes);
  }

  // Bytes whose offset, size and address are all aligned (the copier's chunks: whole pages in
  // huge-page buffers, see AlignedBuffer) go straight to the device (O_DIRECT): no copy into the
  // page cache, nothing of the host's cache pushed out, and a 2 MiB write is one request. The
  // copier keeps a read and a write in flight per thread, so the wait for the device overlaps
  // the next read. With 4 KiB-page buffers each 1 MiB direct write was split in two requests and
  // the page cache path below was faster; with huge-page buffers and 2 MiB chunks a 1 GiB `local`
  // copy took 1.20-1.26 s against 1.38-1.44 through the page cache (MySQL 9.7, 4 paired rounds;
  // CLONE LOCAL 1.18-1.23).
  // Other bytes (small files, redo, a stream's or a donor's blocks at any address) go through
  // the page cache with write-back started at once; what lies more than kDropBehindBytes before
  // them is waited for and dropped from the cache, a step at a time: close() finds little left
  // to sync, the dirty pages of a file stay within a few MiB, and a copy of a TiB does not push
  // the host's cache out.
  Status write_at(uint64_t offset, std::span<const uint8_t> bytes) override {
    if (fd_ < 0) return Status::error(ExitCode::kInternal, path_ + ": written after close");
    uint64_t end = offset + bytes.size();
    for (uint64_t seen = end_.load(); seen < end && !end_.compare_exchange_weak(seen, end);) {
    }
    if (direct_fd_ >= 0 && direct_io_aligned(offset) && direct_io_aligned(bytes.size()) &&
        direct_io_aligned(reinterpret_cast<uintptr_t>(bytes.data())))
      return pwrite_fully(direct_fd_, bytes, offset, path_);
    if (Status s = pwrite_fully(fd_, bytes, offset, path_); !s.is_ok()) return s;
    // A write-back error reported here is not reported again by the fdatasync in close() (the
    // wait consumes it for this descriptor), so each one fails the write.
    if (::sync_file_range(fd_, off_t(offset), off_t(bytes.size()), SYNC_FILE_RANGE_WRITE) != 0)
      return errno_status(ExitCode::kPath, "cannot write", path_, errno);
    if (offset < kDropBehindBytes) return Status::ok();
    const uint64_t upto = (offset - kDropBehindBytes) / kDropStepBytes * kDropStepBytes;
    uint64_t from = dropped_.load();
    // One thread drops each range (helpers write one file side by side).
    if (upto <= from || !dropped_.compare_exchange_strong(from, upto)) return Status::ok();
    if (::sync_file_range(fd_, off_t(from), off_t(upto - from),
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
      return errno_status(ExitCode::kPath, "cannot write", path_, errno);
    ::posix_fadvise(fd_, off_t(from), off_t(upto - from), POSIX_FADV_DONTNEED);  // advice: nothing to check
    return Status::ok();
  }

  Status extend_to(uint64_t size) override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errno_status(ExitCode::kPath, "cannot stat", path_, errno);
    const uint64_t current = uint64_t(st.st_size);
    for (uint64_t seen = end_.load(); seen < size && !end_.compare_exchange_weak(seen, size);) {
    }
    if (size <= current) return Status::ok();
    // Allocated, not sparse: InnoDB expects to own the blocks of its files.
    int rc = ::posix_fallocate(fd_, off_t(current), off_t(size - current));
    if (rc == EOPNOTSUPP || rc == EINVAL) rc = ::ftruncate(fd_, off_t(size)) == 0 ? 0 : errno;
    if (rc != 0) return errno_status(ExitCode::kPath, "cannot extend", path_, rc);
    return Status::ok();
  }

  Result<bool> append_shared(const ReadFile& source, uint64_t offset, uint64_t length) override {
    if (fd_ < 0) return Status::error(ExitCode::kInternal, path_ + ": written after close");
    const uint64_t at = end_.load();
    file_clone_range range{};
    range.src_fd = source.fd();
    range.src_offset = offset;
    range.src_length = length;
    range.dest_offset = at;
    if (::ioctl(fd_, FICLONERANGE, &range) != 0) {
      const int err = errno;
      // Not on this pair of files: another file system (EXDEV), one without reflinks
      // (EOPNOTSUPP, ENOTTY, EINVAL on XFS without reflink=1). Nothing was written.
      if (err == EXDEV || err == EOPNOTSUPP || err == ENOTTY || err == EINVAL || err == EPERM) return false;
      return errno_status(ExitCode::kPath, "cannot share the blocks of " + source.path() + " with", path_, err);
    }
    end_.store(at + length);
    return true;
  }

  Result<size_t> read_shared(uint64_t offset, std::span<uint8_t> into) override {
    if (read_fd_ < 0) {
      auto fd = open_for_direct_read(path_, read_direct_);
      if (!fd.is_ok()) return fd.status();
      read_fd_ = *fd;
    }
    return read_fully(read_fd_, read_direct_, offset, into, path_);
  }

  Status close() override {
    if (fd_ < 0) return Status::ok();
    if (read_fd_ >= 0) ::close(read_fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
    read_fd_ = direct_fd_ = -1;
    Status result;
    // Written out and waited for here (a write-back error is reported by this wait, which consumes
    // it for the descriptor); made durable by the storage's sync() (see there).
    if (::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
      result = errno_status(ExitCode::kPath, "cannot write", path_, errno);
    else ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);  // what the drop-behind left: the file's tail
    const int rc = ::close(fd_);
    const int err = errno;
    fd_ = -1;
    if (result.is_ok() && rc != 0) result = errno_status(ExitCode::kPath, "cannot close", path_, err);
    unsynced_->closed(name_, result.is_ok());
    return result;
  }

 private:
  void close_descriptors() {
    if (read_fd_ >= 0) ::close(read_fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
    if (fd_ >= 0) ::close(fd_);
    read_fd_ = direct_fd_ = fd_ = -1;
  }
  int fd_;
  int direct_fd_;  // the same file opened O_DIRECT; -1 where the file system refuses it (tmpfs)
  int read_fd_ = -1;  // opened by the first read_shared
  bool read_direct_ = false;
  std::string path_;
  std::shared_ptr<DirectoryStorage::Unsynced> unsynced_;
  std::shared_ptr<std::string> name_;  // its name now (renames while open), empty once removed or replaced
  std::atomic<uint64_t> end_;  // where the next append goes
  std::atomic<uint64_t> dropped_{0};  // synced and dropped before this (bytes written there later: at close)
};

}  // namespace

std::shared_ptr<std::string> DirectoryStorage::Unsynced::opened(const std::string& path) {
  auto name = std::make_shared<std::string>(path);
  std::lock_guard lock(mutex);
  open.emplace(path, name);
  return name;
}

void DirectoryStorage::Unsynced::closed(const std::shared_ptr<std::string>& name, bool written) {
  std::lock_guard lock(mutex);
  auto [first, last] = open.equal_range(*name);
  for (auto it = first; it != last; ++it)
    if (it->second == name) {
      open.erase(it);
      break;
    }
  if (written && !name->empty()) paths.insert(*name);
}

// A file open under `path` whose name was removed or replaced: what it holds is no one's any more.
void DirectoryStorage::Unsynced::end_open(const std::string& path) {
  auto [first, last] = open.equal_range(path);
  for (auto it = first; it != last; ++it) it->second->clear();
  open.erase(first, last);
}

void DirectoryStorage::Unsynced::renamed(const std::string& from, const std::string& to) {
  if (from == to) return;  // rename(2) of a name onto itself does nothing
  std::lock_guard lock(mutex);
  paths.erase(to);  // replaced
  end_open(to);
  if (paths.erase(from) || syncing.count(from)) paths.insert(to);
  auto [first, last] = open.equal_range(from);
  std::vector<std::shared_ptr<std::string>> moved;
  for (auto it = first; it != last; ++it) moved.push_back(it->second);
  open.erase(first, last);
  for (auto& name : moved) {
    *name = to;
    open.emplace(to, std::move(name));
  }
}

void DirectoryStorage::Unsynced::removed(const std::string& path) {
  std::lock_guard lock(mutex);
  paths.erase(path);
  end_open(path);
}

Status sync_directory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot open directory", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(ExitCode::kPath, "cannot sync directory", path, err);
  return Status::ok();
}

void DirectoryStorage::touched(const std::string& rel_path) {
  std::lock_guard lock(mutex_);
  dirs_.insert(parent_of(rel_path));
}

Status DirectoryStorage::ensure_parent(const std::string& rel_path) {
  const std::string parent = parent_of(rel_path);
  std::lock_guard lock(mutex_);
  if (dirs_.count(parent)) return Status::ok();
  // Create each missing level, 0750 like the server's own; remember them all so sync() reaches
  // every one.
  size_t pos = 0;
  while (!parent.empty() && pos <= parent.size()) {
    size_t next = parent.find('/', pos);
    if (next == std::string::npos) next = parent.size();
    const std::string path = parent.substr(0, next);
    const std::string abs = root_ + "/" + path;
    if (::mkdir(abs.c_str(), 0750) != 0 && errno != EEXIST)
      return errno_status(ExitCode::kPath, "cannot create directory", abs, errno);
    dirs_.insert(path);
    pos = next + 1;
  }
  dirs_.insert(parent);
  return Status::ok();
}

Result<std::unique_ptr<StorageFile>> DirectoryStorage::create(const std::string& rel_path) {
  if (Status s = ensure_parent(rel_path); !s.is_ok()) return s;
  const std::string abs = root_ + "/" + rel_path;
  const int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot create", abs, errno);
  const int direct_fd = ::open(abs.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECT);  // EINVAL on tmpfs
  return std::unique_ptr<StorageFile>(new DirectoryFile(fd, direct_fd, abs, unsynced_));
}

Result<std::unique_ptr<StorageFile>> DirectoryStorage::update(const std::string& rel_path) {
  const std::string abs = root_ + "/" + rel_path;
  const int fd = ::open(abs.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot open", abs, errno);
  struct stat st {};
  const int err = ::fstat(fd, &st) != 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
  if (err != 0) {
    ::close(fd);
    return errno_status(ExitCode::kPath, "cannot update", abs, err);
  }
  const int direct_fd = ::open(abs.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECT);  // EINVAL on tmpfs
  touched(rel_path);  // its name too may not be durable yet (left by a crash)
  return std::unique_ptr<StorageFile>(new DirectoryFile(fd, direct_fd, abs, unsynced_, uint64_t(st.st_size)));
}

Status DirectoryStorage::make_dir(const std::string& rel_path) { return ensure_parent(rel_path + "/x"); }

Status DirectoryStorage::remove(const std::string& rel_path) {
  const std::string abs = root_ + "/" + rel_path;
  if (::unlink(abs.c_str()) != 0 && errno != ENOENT) return errno_status(ExitCode::kPath, "cannot remove", abs, errno);
  unsynced_->removed(abs);
  touched(rel_path);
  return Status::ok();
}

Status DirectoryStorage::remove_dir(const std::string& rel_path) {
  const std::string abs = root_ + "/" + rel_path;
  if (::rmdir(abs.c_str()) != 0 && errno != ENOENT) return errno_status(ExitCode::kPath, "cannot remove", abs, errno);
  {
    std::lock_guard lock(mutex_);
    dirs_.erase(rel_path);
  }
  touched(rel_path);
  return Status::ok();
}

Status DirectoryStorage::rename(const std::string& from, const std::string& to) {
  if (Status s = ensure_parent(to); !s.is_ok()) return s;
  const std::string a = root_ + "/" + from, b = root_ + "/" + to;
  if (::rename(a.c_str(), b.c_str()) != 0) return errno_status(ExitCode::kPath, "cannot rename into", b, errno);
  unsynced_->renamed(a, b);
  touched(from);
  touched(to);  // a move into another directory changes both
  return Status::ok();
}

Status DirectoryStorage::put(const std::string& rel_path, const std::string& contents) {
  return put_with_mode(rel_path, contents, 0640);
}

Status DirectoryStorage::put_with_mode(const std::string& rel_path, const std::string& contents, mode_t mode) {
  if (Status s = ensure_parent(rel_path); !s.is_ok()) return s;
  const std::string final_path = root_ + "/" + rel_path;
  const std::string tmp = final_path + kPutSuffix;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot create", tmp, errno);
  Status s = pwrite_fully(fd, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(contents.data()), contents.size()),
                          0, tmp);
  if (s.is_ok() && ::fsync(fd) != 0) s = errno_status(ExitCode::kPath, "cannot sync", tmp, errno);
  if (::close(fd) != 0 && s.is_ok()) s = errno_status(ExitCode::kPath, "cannot close", tmp, errno);
  if (s.is_ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0)
    s = errno_status(ExitCode::kPath, "cannot rename into", final_path, errno);
  if (!s.is_ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // The new name is durable at once: a marker or the metadata state must not be lost in a crash.
  return sync_directory(parent_of(rel_path).empty() ? root_ : root_ + "/" + parent_of(rel_path));
}

Status DirectoryStorage::overwrite_in_place(const std::string& rel_path, const std::string& contents) {
  const std::string path = root_ + "/" + rel_path;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot open", path, errno);
  struct stat st {};
  Status s = ::fstat(fd, &st) == 0 ? Status::ok() : errno_status(ExitCode::kPath, "cannot stat", path, errno);
  if (s.is_ok() && (!S_ISREG(st.st_mode) || uint64_t(st.st_size) < contents.size()))
    s = Status::error(ExitCode::kPath, path + " has no room for " + std::to_string(contents.size()) + " bytes");
  std::string padded = contents;
  if (s.is_ok()) padded.resize(size_t(st.st_size), ' ');
  if (s.is_ok())
    s = pwrite_fully(fd, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(padded.data()), padded.size()), 0,
                     path);
  if (s.is_ok() && ::fdatasync(fd) != 0) s = errno_status(ExitCode::kPath, "cannot sync", path, errno);
  if (::close(fd) != 0 && s.is_ok()) s = errno_status(ExitCode::kPath, "cannot close", path, errno);
  return s;
}

// The files closed since the last sync are fdatasynced here, not each at its close: a sync
// flushes the device's write cache, and on a virtual disk under a copy's load each flush stalled
// every read and write for 0.1-1 s (iostat: f_await up to 1056 ms, 20-40 MB/s in those seconds).
// Once the copy is written the flushes cost little. 10 GiB `local` (MySQL 9.7): 6.6-7.7 s
// against 10.1-10.6 s (CLONE LOCAL, which also syncs only at its end, 6.3-8.3 s). The files'
// bytes are on the device already (close() waits for them); what waits is their metadata and the
// flush, which the target's completion (complete_target) always comes after.
Status DirectoryStorage::sync() {
  std::set<std::string> files;
  {
    std::lock_guard lock(unsynced_->mutex);
    files.swap(unsynced_->paths);
    unsynced_->syncing = files;
  }
  const auto done = [&] {
    std::lock_guard lock(unsynced_->mutex);
    unsynced_->syncing.clear();
  };
  for (auto it = files.begin(); it != files.end(); ++it) {
    const int fd = ::open(it->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);  // a FIFO put there: no hang
    // Gone by another way than remove() or rename() (nothing of it is left to make durable; one
    // renamed meanwhile is due again under its new name): the directory's fsync below covers the
    // name.
    if (fd < 0 && errno == ENOENT) continue;
    int err = fd < 0 ? errno : ::fdatasync(fd) != 0 ? errno : 0;
    if (fd >= 0) ::close(fd);
    if (err != 0) {
      done();
      // Still due for a later sync(). Its callers fail the target: a write-back error that this
      // fdatasync reported would not be reported again through the next descriptor.
      std::lock_guard lock(unsynced_->mutex);
      unsynced_->paths.insert(it, files.end());
      return errno_status(ExitCode::kPath, "cannot sync", *it, err);
    }
  }
  done();
  std::vector<std::string> dirs;
  {
    std::lock_guard lock(mutex_);
    dirs.assign(dirs_.rbegin(), dirs_.rend());  // reverse order: children before parents
  }
  for (const auto& d : dirs)
    if (!d.empty())
      if (Status s = sync_directory(root_ + "/" + d); !s.is_ok()) return s;
  return sync_directory(root_);
}

}  // namespace mysqlclone
