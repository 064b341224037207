// Applies one connection's data blocks on a thread of its own, so the connection keeps receiving
// while the disk writes: a write can wait for the device (the target's drop-behind, see
// directory_storage.h), and done in line it would stall the donor's stream for every block. A few
// blocks are held at most (a bounded number of bytes), each copied once out of the receive
// buffer. Blocks of one connection are written in the order they arrived.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "libclone/command/remote/clone_apply.h"
#include "libclone/io/read_file.h"

namespace mysqlclone::clone {

class BlockWriter {
 public:
  explicit BlockWriter(Applier& applier, size_t max_bytes_queued = size_t(8) << 20);
  ~BlockWriter();  // waits for the queued blocks
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // Queues a copy of `data` for `block`; waits while the queue is full. Fails with the error of
  // an earlier block, which stops the stream.
  Status submit(const DataDescriptor& block, std::span<const uint8_t> data);
  // Waits until every queued block is written; the first error, if any.
  Status drain();

 private:
  struct Job {
    DataDescriptor block;
    std::unique_ptr<AlignedBuffer> buffer;
    size_t size = 0;
  };
  void run();

  Applier& applier_;
  const size_t max_bytes_queued_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  // Written buffers kept for reuse, at most max_bytes_queued_ of them: with a slow storage (a
  // stream) more blocks are in flight, and keeping every buffer made for them held ~70 MiB per
  // connection after the rush.
  std::vector<std::unique_ptr<AlignedBuffer>> spare_;
  size_t spare_bytes_ = 0;
  size_t bytes_queued_ = 0;
  bool writing_ = false;
  bool stopping_ = false;
  Status error_;
  std::thread thread_;
};

}  // namespace mysqlclone::clone
