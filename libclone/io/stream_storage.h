// The Storage of a stream (stream_format.h): every create, write, append, extend, close, put,
// rename, remove and sync becomes a record in one ByteSink (stdout, a file, a peer connection).
// Data records name their file and offset, so it carries the sequential writers (page copier,
// redo archivers, metadata) and the clone applier's blocks at offsets alike: the reader replays
// them in stream order. At most stream::kMaxOpenFiles files may be open at once.
//
// Thread-safe: copy threads append to their files at once. Each call queues its record and
// returns with its place in the stream (its record number) taken; the storage's own threads
// compress, encrypt and frame records in parallel, and each is then sealed (counted into the end
// record) and written in the order the calls queued it, so the
// stream is what one thread calling in that order would write, while the callers read on. One
// of the threads at a time writes what was sealed, outside the lock, while the others compress
// and seal on (a slow reader holds up the writer alone). At most 2 records per thread (each ≤
// stream::kMaxChunk) wait at once, and 2 MiB sealed: a caller waits for room.
// The first error (the reader went away, no space) is kept: every later call returns it, and
// sync() and finish() wait for every record before them, so they report it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  unsigned compress_threads = 0;  // threads that compress; 0: as many as the copy's threads
};

class StreamStorage : public Storage {
 public:
  // Writes to `sink` (which must outlive it); `threads` (at least 1) compress.
  StreamStorage(ByteSink& sink, stream::Settings settings, unsigned threads);
  ~StreamStorage() override;
  // The preamble: the first bytes of the stream.
  Status start();
  Result<std::unique_ptr<StorageFile>> create(const std::string& rel_path) override;
  Status make_dir(const std::string& rel_path) override;
  Status remove(const std::string& rel_path) override;
  Status remove_dir(const std::string& rel_path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status put(const std::string& rel_path, const std::string& contents) override;
  // A sync record; once every record before it is written out (and made durable:
  // ByteSink::sync), the first error of any of them, or ok.
  Status sync() override;
  bool random_access() const override { return true; }
  const std::string& describe() const override { return sink_.name(); }
  // The end record, after everything else: only a stream that has it is complete. Then the sink
  // is finished (a peer confirms it has all of it).
  Status finish();
  // Bytes written to the sink so far.
  uint64_t bytes_written() const;

  // For StreamFile: queues a record (or its body, laid out: stream::data_body); the first error
  // so far, or ok.
  Status emit(const stream::Record& record);
  Status emit(stream::RecordType type, std::vector<uint8_t> body);
  Status close_file(const stream::Record& record);  // emit() of a close record

 private:
  struct Job {
    uint64_t ticket = 0;
    stream::RecordType type = stream::RecordType::kSync;
    std::vector<uint8_t> body;  // plain, laid out (stream::record_body)
  };
  // Under mutex_: waits until a record may be queued; the first error so far, or ok.
  Status wait_room_locked(std::unique_lock<std::mutex>& lock);
  // Under mutex_, after wait_room_locked: gives `record` the next ticket (its place in the
  // stream) and returns it.
  uint64_t queue_locked(const stream::Record& record);
  uint64_t queue_locked(stream::RecordType type, std::vector<uint8_t> body);
  void compress_loop();
  // Under mutex_: seals the packed records that are next in ticket order, and writes them out
  // once a batch or a sync record has gathered, unless another thread is writing.
  void seal_ready_locked(std::unique_lock<std::mutex>& lock);
  // Under mutex_, no other thread writing: writes out_ with the lock released (the others seal
  // on into a fresh out_), then again while a batch or a sync gathered meanwhile.
  void write_out_locked(std::unique_lock<std::mutex>& lock);
  // Under mutex_, nothing else writing (start, finish): writes out_ at once.
  Status flush_locked(bool durable);
  // Under mutex_: `packed`, the next record, sealed and appended to out_.
  void append_locked(const stream::Packed& packed);
  // Under mutex_: waits until `ready` (or the stream failed), and not past SIGINT/SIGTERM, which
  // fails the stream: a consumer that stalled must not keep the run, and the source's locks it
  // may hold, waiting. Returns failed_.
  Status wait_locked(std::unique_lock<std::mutex>& lock, const std::function<bool()>& ready);

  ByteSink& sink_;
  stream::Encoder encoder_;  // pack() on any thread; seal() and end() under mutex_
  size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // a job queued, a record sealed, stopping
  std::deque<Job> jobs_;             // queued, not yet taken by a thread
  std::map<uint64_t, stream::Packed> packed_;  // packed, waiting for the records before them
  uint64_t next_ticket_ = 1;
  uint64_t next_seal_ = 1;
  bool stopping_ = false;
  bool ending_ = false;  // finish() has begun: nothing more is queued
  std::vector<uint8_t> out_;  // sealed records not yet written
  bool gathered_sync_ = false;  // out_ holds a sync record: the sink is synced after writing it
  bool writing_ = false;        // a thread is writing writing_now_, outside the lock
  std::vector<uint8_t> writing_now_;
  uint64_t written_through_ = 0;  // every record up to this ticket is written (synced if asked)
  uint64_t written_ = 0;
  uint32_t next_file_ = 1;
  size_t open_files_ = 0;
  Status failed_;
  std::vector<std::thread> threads_;  // last: started once everything above is
};

}  // namespace mysqlclone
