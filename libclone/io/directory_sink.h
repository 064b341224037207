// A Sink that writes into a local directory (the target of `mysqlclone local`). Files are
// created exclusively (never overwriting) and written with O_DIRECT where the file system
// allows it: aligned chunks go straight to the disk at its speed instead of piling up in the
// page cache for one long fsync; an unaligned tail is written through the page cache. Each
// file is fdatasync()ed when closed; sync_directories() then makes every created name durable.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "libclone/io/sink.h"

namespace mysqlclone {

class DirectorySink : public Sink {
 public:
  explicit DirectorySink(std::string root) : root_(std::move(root)) {}
  Result<std::unique_ptr<SinkFile>> create(const std::string& rel_path) override;
  Status make_dir(const std::string& rel_path) override;
  Status remove(const std::string& rel_path) override;
  // fsync() of every directory that received an entry, deepest first, then the root.
  Status sync_directories();
  const std::string& root() const { return root_; }

 private:
  Status ensure_parent(const std::string& rel_path);
  std::string root_;
  std::mutex mutex_;
  std::set<std::string> dirs_;  // relative paths of directories created or written into
};

// fsync() of a directory by path.
Status sync_directory(const std::string& path);
// Writes `contents` to root/rel_path atomically: a temporary name, fsync, rename, fsync of the
// directory. Used for metadata and for the state marker.
Status write_file_atomically(const std::string& root, const std::string& rel_path, const std::string& contents);

}  // namespace mysqlclone
