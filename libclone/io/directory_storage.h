// The Storage of a local directory (the target of `local`, `remote`, `extract` and `restore`).
// Files are created exclusively (O_EXCL | O_NOFOLLOW) in 0750 directories. Aligned writes from
// aligned memory (the copier's chunks) go straight to the device (O_DIRECT); the others through
// the page cache with write-back started at once and a drop-behind (DirectoryFile::write_at):
// no dirty pile-up for one long fsync, no host cache pushed out. close() writes a file out and
// waits for the device; sync() fdatasync()s every file closed since the last sync(), then fsyncs
// every directory that received a name, deepest first (why the files wait: DirectoryStorage::sync).
#pragma once

#include <map>
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
  Status overwrite_in_place(const std::string& rel_path, const std::string& contents) override;
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
  // The names of the files written that are not yet durable, by absolute path: the open ones
  // (a rename() or remove() of a file still open changes or ends its name: the clone applier
  // and extract rename files before they close them) and the closed ones until a sync() takes
  // them. Shared with the files, which add themselves when created and move over when closed.
  struct Unsynced {
    std::mutex mutex;
    std::set<std::string> paths;  // closed since the last sync(), not yet fdatasynced
    std::set<std::string> syncing;  // taken by a sync() under way (a rename then moves into `paths`)
    std::multimap<std::string, std::shared_ptr<std::string>> open;  // name -> the open file's name
    std::shared_ptr<std::string> opened(const std::string& path);
    // The file is closed (or dropped unclosed: `written` false) under its name as it is now.
    void closed(const std::shared_ptr<std::string>& name, bool written);
    void renamed(const std::string& from, const std::string& to);
    void removed(const std::string& path);

   private:
    void end_open(const std::string& path);  // the open files of that name: their bytes are gone
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
