#include "libclone/command/remote/clone_apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include "innodb/tablespace_flags.h"
#include "libclone/io/directory_sink.h"
#include "libclone/base/log.h"
#include "libclone/base/text.h"
#include "libclone/server/preflight.h"
#include "libclone/io/read_file.h"

namespace mysqlclone::clone {
namespace fs = std::filesystem;
namespace {

constexpr const char* kInProgress = "#clone/#status_in_progress";
// No real file reaches 2^48 bytes (InnoDB's own limit is far lower): beyond is a hostile offset.
constexpr uint64_t kMaxFileEnd = uint64_t(1) << 48;
constexpr auto kMetadataWait = std::chrono::seconds(60);

Status create_empty_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot create", path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(ExitCode::kPath, "cannot fsync", path, err);
  return Status::ok();
}

bool is_redo_state(SnapshotState s) { return s == SnapshotState::kRedoCopy; }
bool is_data_state(SnapshotState s) { return s == SnapshotState::kFileCopy || s == SnapshotState::kPageCopy; }

Status pwrite_fully(int fd, std::span<const uint8_t> data, uint64_t offset, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_status(ExitCode::kPath, "cannot write", path, n < 0 ? errno : ENOSPC);
    data = data.subspan(size_t(n));
    offset += uint64_t(n);
  }
  return Status::ok();
}

// Writes one piece of a block. Aligned pieces go straight to the disk (O_DIRECT): through the page
// cache the copy and the write-back cost more CPU than the network does, and a clone is mostly
// whole pages at page offsets. Bytes at an unaligned address (the client library's buffer) pass
// through an aligned per-thread buffer first. The rest (the redo
// header and trailer, odd sizes) goes through the page cache, with write-back started at once.
Status write_piece(int fd, int direct_fd, std::span<const uint8_t> data, uint64_t offset, const fs::path& path) {
  const bool aligned = direct_fd >= 0 && offset % kDirectIoAlignment == 0 && data.size() % kDirectIoAlignment == 0;
  if (!aligned) {
    if (Status s = pwrite_fully(fd, data, offset, path); !s.is_ok()) return s;
    ::sync_file_range(fd, off_t(offset), off_t(data.size()), SYNC_FILE_RANGE_WRITE);  // a hint only
    return Status::ok();
  }
  if (reinterpret_cast<uintptr_t>(data.data()) % kDirectIoAlignment == 0)
    return pwrite_fully(direct_fd, data, offset, path);  // already in an aligned buffer (BlockWriter)
  thread_local std::unique_ptr<AlignedBuffer> buffer;
  if (!buffer || buffer->size() < data.size()) buffer = std::make_unique<AlignedBuffer>(data.size());
  std::memcpy(buffer->data(), data.data(), data.size());
  return pwrite_fully(direct_fd, std::span<const uint8_t>(buffer->data(), data.size()), offset, path);
}

// A tablespace's size rounded up to whole extents, as the stock recipient leaves it (InnoDB's
// recovery expects it); files of one extent or less, and unknown formats, stay as they are.
uint64_t extent_aligned_size(uint64_t size, uint32_t fsp_flags) {
  const auto format = innodb::decode_tablespace_flags(fsp_flags, innodb::Flavour::kMysql);
  if (!format) return size;
  const uint64_t extent = uint64_t(innodb::extent_pages(format->page_size)) * format->physical_size;
  if (extent == 0 || size <= extent) return size;
  return (size + extent - 1) / extent * extent;
}

}  // namespace

Result<std::unique_ptr<Applier>> Applier::begin(const ApplyOptions& options) {
  const std::string dir = options.target_dir.string();
  if (Status s = prepare_target(dir, 0); !s.is_ok()) return s;
  for (const char* sub : {"mysql", "#clone"})
    if (::mkdir((options.target_dir / sub).c_str(), 0750) != 0)
      return errno_status(ExitCode::kPath, "cannot create", options.target_dir / sub, errno);
  if (Status s = create_empty_file(options.target_dir / kInProgress); !s.is_ok()) return s;
  if (Status s = sync_directory((options.target_dir / "#clone").string()); !s.is_ok()) return s;
  if (Status s = sync_directory(dir); !s.is_ok()) return s;
  return std::unique_ptr<Applier>(new Applier(options));
}

Applier::~Applier() {
  for (auto& [key, file] : files_) {
    if (file.fd >= 0) ::close(file.fd);
    if (file.direct_fd >= 0) ::close(file.direct_fd);
  }
}

Status Applier::create_file(OpenFile& file) {
  // Each missing directory under DIR, 0750 like the server's own (not whatever the umask allows).
  fs::path dir = options_.target_dir;
  for (const auto& part : file.path.parent_path().lexically_relative(options_.target_dir)) {
    dir /= part;
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return errno_status(ExitCode::kPath, "cannot create", dir, errno);
  }
  // O_EXCL: a name we did not create ourselves in this run is never written through.
  file.fd = ::open(file.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (file.fd < 0) return errno_status(ExitCode::kPath, "cannot create", file.path, errno);
  file.direct_fd = ::open(file.path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECT);  // EINVAL on tmpfs
  return Status::ok();
}

Status Applier::add_file(const FileDescriptor& d) {
  const bool redo = is_redo_state(d.state);
  if (!redo && !is_data_state(d.state))
    return Status::error(ExitCode::kProtocol, std::string("file metadata in state ") + snapshot_state_name(d.state));
  fs::path path;
  if (redo) {
    path = redo_file_target(options_.target_dir, d.file_index, options_.donor_version);
  } else {
    auto target = data_file_target(d.name, PathRules{options_.target_dir, options_.allow_absolute_paths});
    if (!target.is_ok()) return target.status();
    path = std::move(*target);
  }
  // A named local, not "'" + printable(...): GCC 12 at -O3 reports a false -Wrestrict overlap in
  // operator+(const char*, std::string&&), which -Werror makes a failed Release build.
  const std::string name = printable(d.name);
  const std::string shown = redo ? "redo file " + std::to_string(d.file_index) : "'" + name + "'";
  if (d.flags & (kFileFlagEncrypted | kFileFlagHasKey))
    return Status::error(ExitCode::kUnsupported, "the donor's " + shown +
                                                     " is encrypted; mysqlclone remote cannot apply encrypted "
                                                     "tablespaces or redo/undo yet (use CLONE INSTANCE for this donor)");
  if (d.flags & (kFileFlagRenamed | kFileFlagDeleted))
    return Status::error(ExitCode::kUnsupported, "the donor reports concurrent DDL on " + shown +
                                                     " although the clone holds its backup lock; not applied");
  if (d.file_size > kMaxFileEnd)
    return Status::error(ExitCode::kProtocol, "the donor announced " + shown + " with size " +
                                                  std::to_string(d.file_size) + ", beyond any possible file size");
  const FileKey key{redo, d.file_index};
  std::lock_guard lock(mutex_);
  if (auto it = files_.find(key); it != files_.end()) {
    if (it->second.path != path)
      return Status::error(ExitCode::kProtocol, "the donor announced file index " + std::to_string(d.file_index) +
                                                    " as " + shown + " after " + printable(it->second.donor_name));
    it->second.size = std::max(it->second.size, d.file_size);
    return Status::ok();
  }
  if (auto owner = owners_.find(path); owner != owners_.end())
    return Status::error(ExitCode::kProtocol, "the donor announced " + shown + " twice under different indexes");
  if (files_.size() >= (size_t(1) << 22))
    return Status::error(ExitCode::kProtocol, "the donor announced more than 4 million files");
  OpenFile file{path, redo ? "" : d.name, -1, -1, d.file_size, d.fsp_flags, {}};
  if (Status s = create_file(file); !s.is_ok()) return s;
  owners_[path] = key;
  files_.emplace(key, std::move(file));
  file_added_.notify_all();
  return Status::ok();
}

Status Applier::write(const DataDescriptor& block, std::span<const uint8_t> data) {
  const bool redo = is_redo_state(block.state);
  if (!redo && !is_data_state(block.state))
    return Status::error(ExitCode::kProtocol, std::string("data block in state ") + snapshot_state_name(block.state));
  if (block.file_offset > kMaxFileEnd || data.size() > kMaxFileEnd - block.file_offset)
    return Status::error(ExitCode::kProtocol, "data block at offset " + std::to_string(block.file_offset) +
                                                  " is beyond any possible file size");
  if (block.file_size > kMaxFileEnd)
    return Status::error(ExitCode::kProtocol, "data block reports file size " + std::to_string(block.file_size) +
                                                  ", beyond any possible file size");
  const bool page_copy = block.state == SnapshotState::kPageCopy;
  const bool file_copy = block.state == SnapshotState::kFileCopy;
  std::unique_lock<std::shared_mutex> exclusive(copy_order_, std::defer_lock);
  std::shared_lock<std::shared_mutex> shared(copy_order_, std::defer_lock);
  if (page_copy) exclusive.lock();
  if (file_copy) shared.lock();

  const uint64_t begin = block.file_offset, end = begin + data.size();
  int fd = -1, direct_fd = -1;
  fs::path path;
  std::vector<std::pair<uint64_t, uint64_t>> fresher;  // PAGE COPY ranges inside this block
  {
    std::unique_lock lock(mutex_);
    const FileKey key{redo, block.file_index};
    auto found = [&] { return cancelled_ || files_.count(key) > 0; };
    if (!file_added_.wait_for(lock, kMetadataWait, found))
      return Status::error(ExitCode::kProtocol, "the donor sent data for " + std::string(redo ? "redo " : "") +
                                                    "file index " + std::to_string(block.file_index) +
                                                    " but never announced the file");
    if (cancelled_) return Status::error(ExitCode::kInterrupted, "cancelled");
    OpenFile& file = files_.at(key);
    file.size = std::max<uint64_t>({file.size, block.file_size, end});
    fd = file.fd;
    direct_fd = file.direct_fd;
    path = file.path;
    if (page_copy) {
      file.page_copied[begin] = std::max(file.page_copied[begin], end);
    } else if (file_copy && !file.page_copied.empty()) {
      auto it = file.page_copied.upper_bound(begin);
      if (it != file.page_copied.begin()) --it;
      for (; it != file.page_copied.end() && it->first < end; ++it)
        if (it->second > begin) fresher.emplace_back(std::max(it->first, begin), std::min(it->second, end));
    }
  }
  // Files are only closed when every stream has ended, so the descriptor stays valid here.
  uint64_t at = begin;
  fresher.emplace_back(end, end);
  for (const auto& [skip_from, skip_to] : fresher) {
    if (skip_from > at)
      if (Status s = write_piece(fd, direct_fd, data.subspan(at - begin, skip_from - at), at, path); !s.is_ok())
        return s;
    at = std::max(at, skip_to);
  }
  bytes_written_ += data.size();
  return Status::ok();
}

void Applier::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  file_added_.notify_all();
}

Status Applier::extend(OpenFile& file) {
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return errno_status(ExitCode::kPath, "cannot stat", file.path, errno);
  const uint64_t current = uint64_t(st.st_size);
  uint64_t wanted = std::max(current, file.size);
  if (file.fsp_flags != kNotATablespace) wanted = extent_aligned_size(wanted, file.fsp_flags);
  if (wanted == current) return Status::ok();
  // Allocated, not sparse, like the stock recipient: InnoDB expects to own the blocks.
  int rc = ::posix_fallocate(file.fd, off_t(current), off_t(wanted - current));
  if (rc == EOPNOTSUPP || rc == EINVAL) rc = ::ftruncate(file.fd, off_t(wanted)) == 0 ? 0 : errno;
  if (rc != 0) return errno_status(ExitCode::kPath, "cannot extend", file.path, rc);
  return Status::ok();
}

Status Applier::finish_files() {
  std::lock_guard lock(mutex_);
  std::set<fs::path> dirs{options_.target_dir, options_.target_dir / "mysql", options_.target_dir / "#clone"};
  for (auto& [key, file] : files_) {
    if (Status s = extend(file); !s.is_ok()) return s;
    if (::fdatasync(file.fd) != 0) return errno_status(ExitCode::kPath, "cannot fsync", file.path, errno);
    if (::close(file.fd) != 0) return errno_status(ExitCode::kPath, "cannot close", file.path, errno);
    file.fd = -1;
    if (file.direct_fd >= 0) ::close(file.direct_fd);
    file.direct_fd = -1;
    for (fs::path p = file.path.parent_path(); p.string().size() > options_.target_dir.string().size();
         p = p.parent_path())
      dirs.insert(p);
  }
  // Deepest first, so every new name is durable before the directory holding it.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
    if (Status s = sync_directory(it->string()); !s.is_ok()) return s;
  return Status::ok();
}

Status Applier::hand_over(const std::string& view_status) {
  const fs::path clone_dir = options_.target_dir / "#clone";
  if (Status s = write_file_atomically(clone_dir.string(), "#view_status", view_status); !s.is_ok()) return s;
  if (Status s = create_empty_file(clone_dir / "#status_fix"); !s.is_ok()) return s;
  if (Status s = create_empty_file(clone_dir / "#replace_files"); !s.is_ok()) return s;
  if (Status s = sync_directory(clone_dir.string()); !s.is_ok()) return s;
  // Last: until this name is gone the stock server refuses DIR as an unfinished clone.
  if (::unlink((options_.target_dir / kInProgress).c_str()) != 0)
    return errno_status(ExitCode::kPath, "cannot remove", options_.target_dir / kInProgress, errno);
  return sync_directory(clone_dir.string());
}

std::vector<AppliedFile> Applier::files() const {
  std::lock_guard lock(mutex_);
  std::vector<AppliedFile> out;
  const size_t root = options_.target_dir.string().size() + 1;
  for (const auto& [key, file] : files_)
    out.push_back({file.path.string().substr(root), file.donor_name, file.size, file.fsp_flags != kNotATablespace});
  return out;
}

std::vector<std::string> Applier::absolute_donor_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, file] : files_)
    if (is_absolute_donor_name(file.donor_name)) out.push_back(file.donor_name);
  return out;
}

}  // namespace mysqlclone::clone
