// The Storage of a local directory (the target of `local`, `remote`, `extract` and `restore`).
// Files are created exclusively (O_EXCL | O_NOFOLLOW) in 0750 directories. Aligned writes from
// aligned memory (the copier's chunks) go straight to the device (O_DIRECT); the others through
// the page cache with write-back started at once and a drop-behind (DirectoryFile::write_at):
// no dirty pile-up for one long fsync, no host cache pushed out. close() writes a file out and
// waits for the device; sync() fdatasync()s every file closed since the last sync(), then fsyncs
// every directory that received a name, deepest first (why the files wait: DirectoryStorage::sync).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <sys/types.h>

#include "libclone/io/storage.h"

namespace mysqlclone {

class DirectoryStorage : public Storage {
 public:
  // `root` must exist.
  explicit DirectoryStorage(std::string root) : root_(std::move(root)) {}
  Result<std::unique_ptr<StorageFile>> create(const std::string& rel_path) override;
  Result<std::unique_ptr<StorageFile>> update(const std::string& rel_path) override;
  Status make_dir(const std::string& rel_path) override;
  Status remove(const std::string& rel_path) override;
  Status remove_dir(const std::string& rel_path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status put(const std::string& rel_path, const std::string& contents) override;
  // put() with the file's permission bits (before the umask); put() itself uses 0640.
  Status put_with_mode(const std::string& rel_path, const std::string& contents, mode_t mode);
  Status sync() override;
  bool random_access() const override { return true; }
  const std::string& describe() const override { return root_; }
  const std::string& root() const { return root_; }

 private:
  Status ensure_parent(const std::string& rel_path);
  void touched(const std::string& rel_path);
  std::string root_;
  std::mutex mutex_;
  std::set<std::string> dirs_;  // relative paths of directories created or written into

 public:
  // Files closed since the last sync(), by absolute path: written out, not yet fdatasynced.
  // Shared with the files, which add themselves when closed.
  struct Unsynced {
    std::mutex mutex;
    std::set<std::string> paths;
  };

 private:
  std::shared_ptr<Unsynced> unsynced_ = std::make_shared<Unsynced>();
};

// put() writes NAME + kPutSuffix, then renames it to NAME: a reader that finds only the former
// knows the writer stopped mid-put.
constexpr const char* kPutSuffix = ".tmp";

// fsync() of a directory by path.
Status sync_directory(const std::string& path);

}  // namespace mysqlclone
