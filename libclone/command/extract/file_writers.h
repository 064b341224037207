// extract's writes of file data, on threads of their own. A write into the target can wait for
// the device (then with O_DIRECT writes; now the drop-behind of directory_storage.h): one thread
// writing every chunk the stream brings kept a single request in flight and made extract half as
// fast as `local --target-dir`, whose copy threads write side by side. Here every file is given to one
// writer thread, the one writing the fewest files when its first record comes, which applies its data,
// extend and close records in stream order (overlapping writes of the Clone applier land as they
// would in one thread); different files are written in parallel.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/io/storage.h"

namespace mysqlclone {

class FileWriters {
 public:
  // At most 2 records per thread wait (each at most a stream data chunk, 1 MiB).
  explicit FileWriters(unsigned threads);
  // Stops the threads; what is still queued is dropped (the target is failed by then).
  ~FileWriters();
  FileWriters(const FileWriters&) = delete;
  FileWriters& operator=(const FileWriters&) = delete;

  // Queue one record of `file` (the stream's file id, whose StorageFile stays valid until its
  // close is done); they wait while that file's thread has a full queue. Each returns the
  // first failure of any record so far, after which nothing more is written.
  Status write(uint32_t file, StorageFile& to, uint64_t offset, std::vector<uint8_t> bytes);
  Status extend(uint32_t file, StorageFile& to, uint64_t size);
  // Extends to `size` (the size the writer closed at, zeros included) and closes (durable at the
  // storage's next sync()).
  // The writer thread owns `to` from here on.
  Status close(uint32_t file, std::unique_ptr<StorageFile> to, uint64_t size);
  // Waits until every queued record is applied: the first failure, or ok.
  Status drain();

 private:
  enum class Kind { kWrite, kExtend, kClose };
  struct Job {
    Kind kind = Kind::kWrite;
    StorageFile* file = nullptr;
    std::unique_ptr<StorageFile> owned;  // a close: the file, freed once closed
    uint64_t offset = 0;                 // write: where; extend, close: the size
    std::vector<uint8_t> bytes;
  };
  struct Lane {
    std::deque<Job> jobs;
    bool busy = false;  // a job taken from `jobs` is being applied
    size_t files = 0;   // open files given to this lane
  };
  Status queue(uint32_t file, Job job);
  void run(size_t lane);
  static Status apply(Job& job);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Lane> lanes_;
  std::map<uint32_t, size_t> lane_of_;  // open files: their lane
  Status failed_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once everything above is
};

}  // namespace mysqlclone
