#include "libclone/command/remote/clone_apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "innodb/new_tablespace.h"
#include "innodb/tablespace_flags.h"
#include "libclone/io/directory_storage.h"
#include "libclone/manifest/target.h"
#include "libclone/base/text.h"
#include "libclone/server/preflight.h"

namespace mysqlclone::clone {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kMaxFileEnd = uint64_t(1) << 48;
// A renamed file's name until the state after its rename begins (the stock recipient's too).
constexpr const char* kDdlSuffix = ".#clone_ddl";
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
  return begin(options, std::make_unique<DirectoryStorage>(options.target_dir.string()));
}

Result<std::unique_ptr<Applier>> Applier::begin(const ApplyOptions& options, std::unique_ptr<Storage> storage) {
  if (Status s = storage->make_dir("mysql"); !s.is_ok()) return s;
  if (Status s = storage->put(kCloneInProgress, ""); !s.is_ok()) return s;
  if (Status s = storage->sync(); !s.is_ok()) return s;
  return std::unique_ptr<Applier>(new Applier(options, std::move(storage)));
}

Applier::~Applier() = default;

Status Applier::begin_state(SnapshotState state) {
  std::lock_guard lock(mutex_);
  for (auto& [key, file] : files_) {
    if (!file.renaming) continue;
    if (auto owner = owners_.find(file.path); owner != owners_.end() && owner->second != key)
      return Status::error(ExitCode::kProtocol, "the donor renamed '" + printable(file.donor_name) +
                                                    "' onto a name another file of the clone still has");
    if (Status s = storage_->rename(on_disk(file), relative(file.path)); !s.is_ok()) return s;
    file.renaming = false;
    owners_[file.path] = key;
  }
  state_ = state;
  return Status::ok();
}

Status Applier::add_file(const FileDescriptor& d) {
  SnapshotState now;
  {
    std::lock_guard lock(mutex_);
    now = state_;  // changed by the main stream only, which also carries every DDL batch
  }
  // The batch after FILE COPY or PAGE COPY carries the next state's number (MySQL: ddl_desc);
  // after PAGE COPY that is REDO COPY's, but the files are data files all the same. A redo file
  // is told by its space id: a worker may get REDO COPY's redo files before the main stream has
  // seen that state begin.
  const bool redo_space = d.space_id == kRedoLogSpaceId;
  const bool by_ddl = is_data_state(now) && uint32_t(d.state) == uint32_t(now) + 1 && !redo_space;
  const bool redo = is_redo_state(d.state) && !by_ddl;
  if (!redo && !by_ddl && !is_data_state(d.state))
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
  if (d.file_size > kMaxFileEnd)
    return Status::error(ExitCode::kProtocol, "the donor announced " + shown + " with size " +
                                                  std::to_string(d.file_size) + ", beyond any possible file size");
  if (redo && (d.flags & (kFileFlagRenamed | kFileFlagDeleted)))
    return Status::error(ExitCode::kProtocol, "the donor reports DDL on " + shown);
  const FileKey key{redo, d.file_index};
  std::lock_guard lock(mutex_);
  if (auto it = files_.find(key); it != files_.end()) {
    OpenFile& file = it->second;
    // Announced again after a network hiccup on the donor's side, or once during the state and
    // once in the batch: a second delete is a no-op.
    if (d.flags & kFileFlagDeleted) return delete_file(key, file);
    if (file.deleted) return Status::ok();
    if (d.flags & kFileFlagRenamed) return rename_file(file, path, d);
    if (file.path != path)
      return Status::error(ExitCode::kProtocol, "the donor announced file index " + std::to_string(d.file_index) +
                                                    " as " + shown + " after " + printable(file.donor_name));
    // A repeat, or (in a batch) a change of the file's compression: pages arrive whole either way.
    file.size = std::max(file.size, d.file_size);
    return Status::ok();
  }
  if (files_.size() >= (size_t(1) << 22))
    return Status::error(ExitCode::kProtocol, "the donor announced more than 4 million files");
  if (d.flags & kFileFlagDeleted) {
    // Created and dropped before we heard of it: nothing to write, its blocks are dropped.
    OpenFile file{path, d.name, nullptr, d.file_size, d.fsp_flags, {}, true, false};
    files_.emplace(key, std::move(file));
    ++ddl_.deleted;
    file_added_.notify_all();
    return Status::ok();
  }
  if (auto owner = owners_.find(path); owner != owners_.end())
    return Status::error(ExitCode::kProtocol, "the donor announced " + shown + " twice under different indexes");
  return create_file(key, path, d, by_ddl);
}

Status Applier::create_file(const FileKey& key, const fs::path& path, const FileDescriptor& d, bool by_ddl) {
  auto out = storage_->create(relative(path));
  if (!out.is_ok()) return out.status();
  std::shared_ptr<StorageFile> file_out = std::move(out).value();
  uint64_t size = d.file_size;
  if (by_ddl) {
    // A tablespace the donor's DDL created: the file as the server creates it, before any redo.
    const auto& v = options_.donor_version;
    const auto initial = innodb::mysql_new_tablespace_file(d.space_id, d.fsp_flags, v.major * 10000 + v.minor * 100 + v.patch);
    if (!initial)
      return Status::error(ExitCode::kUnsupported, "the donor created '" + printable(d.name) +
                                                       "' during the clone with tablespace flags " +
                                                       fmt::format("0x{:x}", d.fsp_flags) + ", which mysqlclone cannot initialise");
    if (Status s = file_out->write_at(0, initial->page0); !s.is_ok()) return s;
    if (Status s = file_out->extend_to(initial->size_bytes); !s.is_ok()) return s;
    size = std::max(size, initial->size_bytes);
    ++ddl_.created;
  }
  OpenFile file{path, key.first ? "" : d.name, std::move(file_out), size, d.fsp_flags, {}, false, false};
  owners_[path] = key;
  files_.emplace(key, std::move(file));
  file_added_.notify_all();
  return Status::ok();
}

Status Applier::delete_file(const FileKey& key, OpenFile& file) {
  if (file.deleted) return Status::ok();
  if (Status s = storage_->remove(on_disk(file)); !s.is_ok()) return s;
  if (auto owner = owners_.find(file.path); owner != owners_.end() && owner->second == key) owners_.erase(owner);
  file.deleted = true;
  file.renaming = false;
  ++ddl_.deleted;
  return Status::ok();
}

Status Applier::rename_file(OpenFile& file, const fs::path& path, const FileDescriptor& d) {
  file.size = std::max(file.size, d.file_size);  // page 0 may have grown it during PAGE COPY
  if (file.path == path && !file.renaming) return Status::ok();  // announced again
  for (const auto& [other_key, other] : files_)
    if (&other != &file && other.renaming && other.path == path)
      return Status::error(ExitCode::kProtocol, "the donor renamed two files to '" + printable(d.name) + "'");
  const std::string from = on_disk(file);
  if (!file.renaming)
    if (auto owner = owners_.find(file.path); owner != owners_.end()) owners_.erase(owner);
  file.path = path;
  file.donor_name = d.name;
  file.renaming = true;
  if (Status s = storage_->rename(from, on_disk(file)); !s.is_ok()) return s;
  ++ddl_.renamed;
  return Status::ok();
}

std::string Applier::relative(const fs::path& path) const {
  return path.lexically_relative(options_.target_dir).string();
}

std::string Applier::on_disk(const OpenFile& file) const {
  return relative(file.path) + (file.renaming ? kDdlSuffix : "");
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
    if (file.deleted) return Status::ok();  // dropped on the donor: read and discarded
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
    if (file.deleted) {
      // Removed by name when the donor deleted it, but a block in flight may still have been
      // written to it since: closed only now that every stream has ended (a stream's reader
      // wants every file it was told of closed).
      if (file.out)
        if (Status s = file.out->close(); !s.is_ok()) return s;
      continue;
    }
    if (file.renaming)
      return Status::error(ExitCode::kProtocol, "the clone ended before the donor's rename of '" +
                                                    printable(file.donor_name) + "' took effect");
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
    if (!file.deleted)
      out.push_back({relative(file.path), file.donor_name, file.size, file.fsp_flags != kNotATablespace});
  return out;
}

ConcurrentDdl Applier::concurrent_ddl() const {
  std::lock_guard lock(mutex_);
  return ddl_;
}

std::vector<std::string> Applier::absolute_donor_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, file] : files_)
    if (!file.deleted && is_absolute_donor_name(file.donor_name)) out.push_back(file.donor_name);
  return out;
}

}  // namespace mysqlclone::clone
