#include "libclone/command/remote/clone_writer.h"

#include <cstring>

namespace mysqlclone::clone {

BlockWriter::BlockWriter(Applier& applier, size_t max_bytes_queued)
    : applier_(applier), max_bytes_queued_(max_bytes_queued), thread_([this] { run(); }) {}

BlockWriter::~BlockWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

Status BlockWriter::submit(const DataDescriptor& block, std::span<const uint8_t> data) {
  std::unique_ptr<AlignedBuffer> buffer;
  {
    std::unique_lock lock(mutex_);
    // One block is always let in, however large: the donor decides the block size, and the
    // stream has refused any block longer than a donor sends (max_block_bytes).
    changed_.wait(lock, [&] {
      return !error_.is_ok() || queue_.empty() || bytes_queued_ + data.size() <= max_bytes_queued_;
    });
    if (!error_.is_ok()) return error_;
    for (auto it = spare_.begin(); it != spare_.end(); ++it)
      if ((*it)->size() >= data.size()) {
        spare_bytes_ -= (*it)->size();
        buffer = std::move(*it);
        spare_.erase(it);
        break;
      }
  }
  if (!buffer) buffer = std::make_unique<AlignedBuffer>(data.size());
  std::memcpy(buffer->data(), data.data(), data.size());
  {
    std::lock_guard lock(mutex_);
    bytes_queued_ += data.size();
    queue_.push_back(Job{block, std::move(buffer), data.size()});
  }
  changed_.notify_all();
  return Status::ok();
}

Status BlockWriter::drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.empty() && !writing_; });
  return error_;
}

void BlockWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Job job = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    // After a failure the rest is dropped: the stream is ending with that error anyway.
    Status s = error_.is_ok() ? applier_.write(job.block, std::span<const uint8_t>(job.buffer->data(), job.size))
                              : Status::ok();
    lock.lock();
    writing_ = false;
    bytes_queued_ -= job.size;
    if (!s.is_ok() && error_.is_ok()) error_ = std::move(s);
    if (spare_bytes_ + job.buffer->size() <= max_bytes_queued_) {
      spare_bytes_ += job.buffer->size();
      spare_.push_back(std::move(job.buffer));
    }
    changed_.notify_all();
  }
}

}  // namespace mysqlclone::clone
