#include "libclone/command/extract/file_writers.h"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace mysqlclone {
namespace {
constexpr size_t kQueuedPerLane = 2;
}

FileWriters::FileWriters(unsigned threads) : lanes_(std::max(threads, 1u)) {
  for (size_t i = 0; i < lanes_.size(); ++i) threads_.emplace_back([this, i] { run(i); });
}

FileWriters::~FileWriters() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_) t.join();
}

Status FileWriters::write(uint32_t file, StorageFile& to, uint64_t offset, std::vector<uint8_t> bytes) {
  return queue(file, Job{Kind::kWrite, &to, nullptr, offset, std::move(bytes)});
}

Status FileWriters::extend(uint32_t file, StorageFile& to, uint64_t size) {
  return queue(file, Job{Kind::kExtend, &to, nullptr, size, {}});
}

Status FileWriters::close(uint32_t file, std::unique_ptr<StorageFile> to, uint64_t size) {
  StorageFile* f = to.get();
  return queue(file, Job{Kind::kClose, f, std::move(to), size, {}});
}

Status FileWriters::queue(uint32_t file, Job job) {
  std::unique_lock lock(mutex_);
  auto at = lane_of_.find(file);
  if (at == lane_of_.end()) {
    // A file's first record: the lane writing the fewest files (the writers' files interleave
    // for as long as they are open), then the one with the least work waiting.
    size_t best = 0;
    const auto load = [&](size_t i) {
      return std::pair(lanes_[i].files, lanes_[i].jobs.size() + (lanes_[i].busy ? 1 : 0));
    };
    for (size_t i = 1; i < lanes_.size(); ++i)
      if (load(i) < load(best)) best = i;
    at = lane_of_.emplace(file, best).first;
    ++lanes_[best].files;
  }
  Lane& lane = lanes_[at->second];
  if (job.kind == Kind::kClose) {
    --lane.files;
    lane_of_.erase(at);
  }
  changed_.wait(lock, [&] { return !failed_.is_ok() || lane.jobs.size() < kQueuedPerLane; });
  if (!failed_.is_ok()) return failed_;
  lane.jobs.push_back(std::move(job));
  changed_.notify_all();
  return Status::ok();
}

Status FileWriters::drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] {
    return !failed_.is_ok() ||
           std::all_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return l.jobs.empty() && !l.busy; });
  });
  return failed_;
}

Status FileWriters::apply(Job& job) {
  switch (job.kind) {
    case Kind::kWrite: return job.file->write_at(job.offset, job.bytes);
    case Kind::kExtend: return job.file->extend_to(job.offset);
    case Kind::kClose: {
      Status s = job.file->extend_to(job.offset);
      Status closed = job.file->close();
      return s.is_ok() ? closed : s;
    }
  }
  return Status::error(ExitCode::kInternal, "unknown file job");
}

void FileWriters::run(size_t index) {
  Lane& lane = lanes_[index];
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !lane.jobs.empty(); });
    if (stopping_) return;
    Job job = std::move(lane.jobs.front());
    lane.jobs.pop_front();
    lane.busy = true;
    const bool skip = !failed_.is_ok();  // after a failure nothing more is written
    lock.unlock();
    Status s;
    if (!skip) {
      try {
        s = apply(job);
      } catch (const std::exception& e) {
        s = Status::error(ExitCode::kInternal, std::string("writing a file of the stream: ") + e.what());
      }
    }
    job = Job{};  // a closed file is freed outside the lock
    lock.lock();
    lane.busy = false;
    if (!s.is_ok() && failed_.is_ok()) failed_ = s;
    changed_.notify_all();
  }
}

}  // namespace mysqlclone
