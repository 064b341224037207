// A source file opened for positional reads: every byte the engine reads from a data file comes
// through here, so tests and later sources (a stream, a peer) share one narrow shape.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "libclone/status.h"

namespace mysqlclone {

class ReadFile {
 public:
  static Result<ReadFile> open(const std::string& path);
  ReadFile(ReadFile&& other) noexcept;
  ReadFile& operator=(ReadFile&& other) noexcept;
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;
  ~ReadFile();

  // Fills `buf` from `offset`; returns fewer bytes only at end of file.
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> buf) const;
  Result<uint64_t> size() const;
  // Tells the kernel we read front to back (more readahead).
  void advise_sequential() const;
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  ReadFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// "<what> <path>: <strerror(errno)>" as a Status with the given code.
Status errno_status(ExitCode code, const std::string& what, const std::string& path, int err);

}  // namespace mysqlclone
