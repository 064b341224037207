// The two ends a stream (stream_format.h) travels between: a ByteSink the writer's records go
// into and a ByteSource the reader takes them from. A descriptor (stdout, a file, stdin) is one;
// a peer connection (peer.h) is another, so `local --stream`/`extract` and `local --to`/`receive`
// share every line of the stream code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "libclone/base/status.h"

namespace mysqlclone {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // All of `bytes`, or an error (kNetwork) that every later call returns too.
  virtual Status write(std::span<const uint8_t> bytes) = 0;
  // Everything written so far is durable where that means something (a regular file).
  virtual Status sync() = 0;
  // The last byte was written: a peer confirms it has the whole stream.
  virtual Status finish() = 0;
  // What to call it in messages ("stdout", "127.0.0.1:4444").
  virtual const std::string& name() const = 0;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to out.size() bytes, at least one unless the input ended (0). kInterrupted on a signal.
  virtual Result<size_t> read(std::span<uint8_t> out) = 0;
  // The whole input's size when it is known in advance (a regular file).
  virtual std::optional<uint64_t> size() const = 0;
  virtual const std::string& name() const = 0;
};

// A descriptor the caller keeps open (stdout, a stream file). Writes come from the stream's own
// threads, where a signal does not interrupt a blocked write(): to a pipe or socket they do not
// block (a pipe is written through a non-blocking description of its own, or where it cannot be
// opened again, another user's pipe, no more than it has room for; a socket with MSG_DONTWAIT;
// the caller's descriptor, which stdin or a shell may share, is left as it is) and each wait for
// room is a poll() in short slices, so SIGINT/SIGTERM end a write to a consumer that stopped
// reading.
class FdSink : public ByteSink {
 public:
  FdSink(int fd, std::string name);
  ~FdSink() override;
  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;
  Status write(std::span<const uint8_t> bytes) override;
  Status sync() override;
  Status finish() override { return sync(); }
  const std::string& name() const override { return name_; }

 private:
  int fd_;  // what is written to: the caller's descriptor, or own_fd_
  std::string name_;
  size_t pipe_room() const;
  int own_fd_ = -1;      // a pipe's own non-blocking description (closed with the sink)
  bool socket_ = false;  // a socket: send() with MSG_DONTWAIT
  bool blocking_pipe_ = false;  // a pipe written through the caller's (blocking) descriptor
};

// A stream file, or standard input for "" and "-"; or a descriptor already open (a pipe from a
// child process), which stays the caller's.
class FdSource : public ByteSource {
 public:
  FdSource() = default;
  FdSource(int fd, std::string name);
  ~FdSource() override;
  Status open(const std::string& path);
  Result<size_t> read(std::span<uint8_t> out) override;
  std::optional<uint64_t> size() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::optional<uint64_t> size_;
  std::string name_;
};

}  // namespace mysqlclone
