// The Storage of a stream (stream_format.h): every create, write, append, extend, close, put,
// rename, remove and sync becomes a record in one ByteSink (stdout, a file, a peer connection).
// Data records name their file and offset, so it carries the sequential writers (page copier,
// redo archivers, metadata) and the clone applier's blocks at offsets alike: the reader replays
// them in stream order. At most stream::kMaxOpenFiles files may be open at once.
//
// Thread-safe: copy threads append to their files at once. Each chunk is compressed on the
// thread that appends it, then sealed (numbered, encrypted, framed) and written under one lock,
// so records interleave in the order they are sealed. The first write error (the reader went
// away, no space) is kept: every later call returns it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "libclone/io/byte_stream.h"
#include "libclone/io/storage.h"
#include "libclone/io/stream_format.h"

namespace mysqlclone {

// Where `--stream` or `--to` sends a copy (local, remote) instead of into a directory: a sink
// (stdout, a peer) and how to write the stream.
struct StreamOutput {
  std::shared_ptr<ByteSink> sink;
  stream::Settings settings;
};

class StreamStorage : public Storage {
 public:
  // Writes to `sink` (which must outlive it).
  StreamStorage(ByteSink& sink, stream::Settings settings);
  // The preamble: the first bytes of the stream.
  Status start();
  Result<std::unique_ptr<StorageFile>> create(const std::string& rel_path) override;
  Status make_dir(const std::string& rel_path) override;
  Status remove(const std::string& rel_path) override;
  Status remove_dir(const std::string& rel_path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status put(const std::string& rel_path, const std::string& contents) override;
  // A sync record; the bytes so far are written out (and made durable: ByteSink::sync).
  Status sync() override;
  bool random_access() const override { return true; }
  const std::string& describe() const override { return sink_.name(); }
  // The end record, after everything else: only a stream that has it is complete. Then the sink
  // is finished (a peer confirms it has all of it).
  Status finish();
  // Bytes written to the sink so far.
  uint64_t bytes_written() const;

  // For StreamFile: packs `record` on the calling thread, then seals and writes it.
  Status emit(const stream::Record& record);
  Status close_file(const stream::Record& record);  // emit() of a close record

 private:
  Status seal_and_write(stream::Packed packed);
  Status flush_locked(bool durable);

  ByteSink& sink_;
  stream::Encoder encoder_;
  mutable std::mutex mutex_;
  std::vector<uint8_t> out_;  // sealed records not yet written
  uint64_t written_ = 0;
  uint32_t next_file_ = 1;
  size_t open_files_ = 0;
  Status failed_;
};

}  // namespace mysqlclone
