// What the stock recipient InnoDB does with the bytes of a clone, reproduced for a fresh target
// directory (clone-protocol.md §3.6): create each announced file under DIR, write each data
// block at its offset, grow files as the donor reports, and at the end extend every file to its
// size (tablespaces to whole extents), fsync everything, and hand over with the `#clone/`
// markers that make the stock server finish the job at first start.
//
// Without the donor's backup lock, DDL on the donor goes on during the clone and the donor
// announces its file operations (clone-protocol.md §3.6; MySQL clone0apply.cc): after the end of
// FILE COPY and of PAGE COPY, on the main stream, a batch of file metadata with the next state's
// number, in ascending file index — deleted files (removed here), renamed ones (moved to
// `NAME.#clone_ddl` first, since a batch is not in the order the renames happened: swaps and
// reused names resolve when the next state starts and every rename takes its final name), and
// files created by DDL (appended indexes, written as the server writes a new tablespace's first
// page; the page copy or the redo fills them in). A delete may also be announced during a state,
// on any stream; blocks for a deleted file are dropped. DDL during REDO COPY reaches the target
// only through the redo, which the target server applies at its first start.
//
// Thread-safe: the main and the worker streams apply into one Applier. A worker may receive data
// for a file whose metadata the main stream has not applied yet; write() waits for it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "libclone/command/remote/clone_paths.h"
#include "libclone/command/remote/clone_wire.h"
#include "libclone/base/status.h"
#include "libclone/io/storage.h"

namespace mysqlclone::clone {

struct ApplyOptions {
  // Absolute: the root the donor's names are mapped under (for a stream, a name that stands
  // for the DIR that `extract` will write).
  std::filesystem::path target_dir;
  bool allow_absolute_paths = false;
  ServerVersion donor_version;
};

// What the donor's concurrent DDL did to the clone's files.
struct ConcurrentDdl {
  uint64_t created = 0, renamed = 0, deleted = 0;
};

struct AppliedFile {
  std::string path;  // relative to DIR
  std::string donor_name;
  uint64_t size = 0;
  bool tablespace = false;
};

class Applier {
 public:
  // Makes DIR/mysql, DIR/#clone and #clone/#status_in_progress in `storage` (a directory, or a
  // stream that `extract` writes into one), so that whatever happens next, a stock server
  // refuses DIR until hand_over() succeeds. Every byte then goes through `storage` (blocks land
  // at offsets: a random-access storage).
  static Result<std::unique_ptr<Applier>> begin(const ApplyOptions& options, std::unique_ptr<Storage> storage);
  // The same into the directory options.target_dir, created (or taken when empty) first.
  static Result<std::unique_ptr<Applier>> begin(const ApplyOptions& options);
  ~Applier();

  // The main stream's start of a state (FILE COPY, PAGE COPY, ...): files renamed by the batch
  // before it take their final names, then descriptors are judged against the new state.
  Status begin_state(SnapshotState state);

  // A file metadata descriptor (any stream): a new file, a repeat of a known one (merged), or one
  // of the donor's file operations (see above). A different file under a known index, or a name
  // that maps onto a file already claimed, is an error. Refused (kUnsupported): encrypted files
  // and keys.
  Status add_file(const FileDescriptor& file);

  // One data block: `data` goes to the file's offset. Waits up to a minute for the file's
  // metadata (it may still be in flight on another stream).
  Status write(const DataDescriptor& block, std::span<const uint8_t> data);

  // Wakes waiting writers with an error: another stream failed.
  void cancel();

  // After every stream ended: extends every file to its final size, fsyncs files and
  // directories. Then the caller writes its own metadata, then calls hand_over().
  Status finish_files();
  // #status_fix, an empty #replace_files and `view_status` as #view_status (the clone plugin's
  // record of the clone, into which the target server folds the binlog position at first start),
  // then #status_in_progress removed: DIR is startable.
  Status hand_over(const std::string& view_status);

  // The files DIR holds (none the donor deleted).
  std::vector<AppliedFile> files() const;
  ConcurrentDdl concurrent_ddl() const;
  // Where the clone is written; the command writes its manifest through it too.
  Storage& storage() { return *storage_; }
  std::vector<std::string> absolute_donor_names() const;
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct OpenFile {
    std::filesystem::path path;  // relative to DIR
    std::string donor_name;
    std::shared_ptr<StorageFile> out;  // shared: a writer keeps it while it writes outside the lock
    uint64_t size = 0;                 // the largest size the donor reported or written
    uint32_t fsp_flags = kNotATablespace;
    // Byte ranges [first, second) written by PAGE COPY: newer than any FILE COPY block.
    std::map<uint64_t, uint64_t> page_copied;
    bool deleted = false;   // by the donor's DDL: gone from DIR, its blocks dropped
    bool renaming = false;  // renamed by the donor's DDL: at `path` + kDdlSuffix until the next state
  };
  // Redo files (REDO COPY) have their own index space.
  using FileKey = std::pair<bool, uint32_t>;  // (redo, index)

  Applier(ApplyOptions options, std::unique_ptr<Storage> storage)
      : options_(std::move(options)), storage_(std::move(storage)) {}

  Status create_file(const FileKey& key, const std::filesystem::path& path, const FileDescriptor& d, bool by_ddl);
  Status delete_file(const FileKey& key, OpenFile& file);
  Status rename_file(OpenFile& file, const std::filesystem::path& path, const FileDescriptor& d);
  std::string relative(const std::filesystem::path& path) const;
  std::string on_disk(const OpenFile& file) const;  // relative to DIR

  ApplyOptions options_;
  std::unique_ptr<Storage> storage_;
  SnapshotState state_ = SnapshotState::kNone;  // the main stream's
  ConcurrentDdl ddl_;
  bool handed_over_ = false;
  mutable std::mutex mutex_;
  std::condition_variable file_added_;
  bool cancelled_ = false;
  std::map<FileKey, OpenFile> files_;
  std::map<std::filesystem::path, FileKey> owners_;
  std::atomic<uint64_t> bytes_written_{0};
  // Orders FILE COPY against PAGE COPY writes. With several connections a FILE COPY block can
  // still be in flight on one when PAGE COPY's fresher copy of a page in it arrives on another;
  // the stale bytes must never land over the fresh ones. FILE COPY writes share this lock and
  // skip ranges PAGE COPY already wrote; PAGE COPY writes take it exclusively.
  std::shared_mutex copy_order_;
};

}  // namespace mysqlclone::clone
