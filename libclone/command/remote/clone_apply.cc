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
#include "libclone/io/directory_storage.h"
#include "libclone/manifest/target.h"
#include "libclone/base/text.h"
#include "libclone/server/preflight.h"

namespace mysqlclone::clone {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kMaxFileEnd = uint64_t(1) << 48;
constexpr auto kMetadataWait = std::chrono::seconds(60);

bool is_redo_state(SnapshotState s) { return s == SnapshotState::kRedoCopy; }
bool is_data_state(SnapshotState s) { return s == SnapshotState::kFileCopy || s == SnapshotState::kPageCopy; }

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
  if (Status s = prepare_target(options.target_dir.string(), 0); !s.is_ok()) return s;
  auto storage = std::make_unique<DirectoryStorage>(options.target_dir.string());
  if (Status s = storage->make_dir("mysql"); !s.is_ok()) return s;
  if (Status s = storage->put(kCloneInProgress, ""); !s.is_ok()) return s;
  if (Status s = storage->sync(); !s.is_ok()) return s;
  return std::unique_ptr<Applier>(new Applier(options, std::move(storage)));
}

Applier::~Applier() = default;

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
  auto out = storage_->create(path.lexically_relative(options_.target_dir).string());
  if (!out.is_ok()) return out.status();
  OpenFile file{path, redo ? "" : d.name, std::move(out).value(), d.file_size, d.fsp_flags, {}};
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
  std::shared_ptr<StorageFile> out;
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
    out = file.out;
    if (page_copy) {
      file.page_copied[begin] = std::max(file.page_copied[begin], end);
    } else if (file_copy && !file.page_copied.empty()) {
      auto it = file.page_copied.upper_bound(begin);
      if (it != file.page_copied.begin()) --it;
      for (; it != file.page_copied.end() && it->first < end; ++it)
        if (it->second > begin) fresher.emplace_back(std::max(it->first, begin), std::min(it->second, end));
    }
  }
  // Files are only closed when every stream has ended.
  uint64_t at = begin;
  fresher.emplace_back(end, end);
  for (const auto& [skip_from, skip_to] : fresher) {
    if (skip_from > at)
      if (Status s = out->write_at(at, data.subspan(at - begin, skip_from - at)); !s.is_ok()) return s;
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

Status Applier::finish_files() {
  std::lock_guard lock(mutex_);
  for (auto& [key, file] : files_) {
    // Tablespaces to whole extents, as the stock recipient leaves them.
    const uint64_t wanted = file.fsp_flags != kNotATablespace ? extent_aligned_size(file.size, file.fsp_flags) : file.size;
    if (Status s = file.out->extend_to(wanted); !s.is_ok()) return s;
    if (Status s = file.out->close(); !s.is_ok()) return s;
  }
  return storage_->sync();
}

Status Applier::hand_over(const std::string& view_status) {
  if (handed_over_) return Status::error(ExitCode::kInternal, "the clone in " + storage_->describe() + " was already handed over");
  if (Status s = storage_->put("#clone/#view_status", view_status); !s.is_ok()) return s;
  if (Status s = storage_->put("#clone/#status_fix", ""); !s.is_ok()) return s;
  if (Status s = storage_->put("#clone/#replace_files", ""); !s.is_ok()) return s;
  // Last: until this name is gone the stock server refuses DIR as an unfinished clone.
  if (Status s = storage_->remove(kCloneInProgress); !s.is_ok()) return s;
  handed_over_ = true;
  return storage_->sync();
}

std::vector<AppliedFile> Applier::files() const {
  std::lock_guard lock(mutex_);
  std::vector<AppliedFile> out;
  for (const auto& [key, file] : files_)
    out.push_back({file.path.lexically_relative(options_.target_dir).string(), file.donor_name, file.size,
                   file.fsp_flags != kNotATablespace});
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
