// A Storage in front of another that records the size and SHA-256 of every file written through
// it, under the name it ends with: what the copy writes besides the tablespaces (the redo log in
// the server's format, the binlog index, the metadata files), so that mysqlclone.json lists them
// and `verify` and `restore` check them like the data. Files are hashed as they are written,
// front to back; nothing is read back (a stream cannot be).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "libclone/io/storage.h"

namespace mysqlclone {

struct HashedFile {
  std::string rel_path;
  uint64_t bytes = 0;
  std::string sha256;
};

class HashingStorage : public Storage {
 public:
  explicit HashingStorage(Storage& target) : target_(target) {}

  // Every file closed (or put) through this storage and still there, by name. A file written at
  // offsets (write_at), or never closed, is not listed: its bytes were not seen in order.
  std::vector<HashedFile> files() const;

  Result<std::unique_ptr<StorageFile>> create(const std::string& rel_path) override;
  Status make_dir(const std::string& rel_path) override { return target_.make_dir(rel_path); }
  Status remove(const std::string& rel_path) override;
  Status remove_dir(const std::string& rel_path) override { return target_.remove_dir(rel_path); }
  Status rename(const std::string& from, const std::string& to) override;
  Status put(const std::string& rel_path, const std::string& contents) override;
  Status sync() override { return target_.sync(); }
  bool random_access() const override { return target_.random_access(); }
  const std::string& describe() const override { return target_.describe(); }

  // Called by a file of this storage once it is closed whole.
  void record(HashedFile file);

 private:
  Storage& target_;
  mutable std::mutex mutex_;
  std::map<std::string, HashedFile> files_;
};

}  // namespace mysqlclone
