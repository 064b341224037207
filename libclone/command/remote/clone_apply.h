// What the stock recipient InnoDB does with the bytes of a clone, reproduced for a fresh target
// directory (clone-protocol.md §3.6): create each announced file under DIR, write each data
// block at its offset, grow files as the donor reports, and at the end extend every file to its
// size (tablespaces to whole extents), fsync everything, and hand over with the `#clone/`
// markers that make the stock server finish the job at first start.
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
  std::filesystem::path target_dir;  // absolute; must not exist or be empty
  bool allow_absolute_paths = false;
  ServerVersion donor_version;
};

struct AppliedFile {
  std::string path;  // relative to DIR
  std::string donor_name;
  uint64_t size = 0;
  bool tablespace = false;
};

class Applier {
 public:
  // Creates DIR (or takes an empty one), DIR/mysql, DIR/#clone and #clone/#status_in_progress,
  // so that whatever happens next, a stock server refuses DIR until hand_over() succeeds. Every
  // byte then goes through the Storage of DIR (blocks land at offsets: a random-access storage).
  static Result<std::unique_ptr<Applier>> begin(const ApplyOptions& options);
  ~Applier();

  // A file metadata descriptor (any stream). Repeats of a known file are merged; a different
  // file under a known index, or a name that maps onto a file already claimed, is an error.
  // Refused (kUnsupported): encrypted files and keys, and the renamed/deleted flags of
  // concurrent DDL (we take the backup lock, so a donor sending them breaks our contract).
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

  std::vector<AppliedFile> files() const;
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
  };
  // Redo files (REDO COPY) have their own index space.
  using FileKey = std::pair<bool, uint32_t>;  // (redo, index)

  Applier(ApplyOptions options, std::unique_ptr<Storage> storage)
      : options_(std::move(options)), storage_(std::move(storage)) {}

  ApplyOptions options_;
  std::unique_ptr<Storage> storage_;
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
