#include "libclone/io/stream_storage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>

#include <fmt/format.h>

#include "libclone/base/interrupt.h"

namespace mysqlclone {
namespace {

// Sealed records gather up to this size before one write(): small records (creates, closes of
// tens of thousands of small files) do not cost a system call each.
constexpr size_t kWriteBatch = size_t(1) << 20;
// While one thread writes (outside the lock: a pipe or a peer may hold it for a while), the
// others seal on; callers wait for room once this much has gathered.
constexpr size_t kMaxGathered = 2 * kWriteBatch;

using stream::Record;
using stream::RecordType;

class StreamFile : public StorageFile {
 public:
  StreamFile(StreamStorage& storage, uint32_t id, std::string path)
      : storage_(storage), id_(id), path_(std::move(path)) {}

  Status append(std::span<const uint8_t> bytes) override { return write_at(end_.fetch_add(bytes.size()), bytes); }

  // Data records name their offset: the reader applies them where they say, in stream order, so
  // later bytes of a range overwrite earlier ones exactly as on a disk.
  Status write_at(uint64_t offset, std::span<const uint8_t> bytes) override {
    grow(offset + bytes.size());
    while (!bytes.empty()) {
      const size_t n = std::min(bytes.size(), stream::kMaxChunk);
      if (Status s = storage_.emit(RecordType::kData, stream::data_body(id_, offset, bytes.first(n))); !s.is_ok())
        return s;
      bytes = bytes.subspan(n);
      offset += n;
    }
    return Status::ok();
  }

  Status extend_to(uint64_t size) override {
    grow(size);
    return storage_.emit(Record{RecordType::kExtend, id_, size, {}, {}, {}});
  }

  Status close() override {
    if (closed_) return Status::ok();
    closed_ = true;
    return storage_.close_file(Record{RecordType::kClose, id_, end_.load(), {}, {}, {}});
  }

 private:
  void grow(uint64_t size) {
    for (uint64_t seen = end_.load(); seen < size && !end_.compare_exchange_weak(seen, size);) {
    }
  }

  StreamStorage& storage_;
  uint32_t id_;
  std::string path_;
  std::atomic<uint64_t> end_{0};
  bool closed_ = false;
};

}  // namespace

StreamStorage::StreamStorage(ByteSink& sink, stream::Settings settings, unsigned threads)
    : sink_(sink), encoder_(std::move(settings)), max_queued_(2 * std::max(threads, 1u)) {
  for (unsigned i = 0; i < std::max(threads, 1u); ++i) threads_.emplace_back([this] { compress_loop(); });
}

StreamStorage::~StreamStorage() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_) t.join();
}

Status StreamStorage::start() {
  std::lock_guard lock(mutex_);
  out_ = encoder_.preamble();
  return flush_locked(false);
}

void StreamStorage::append_locked(const stream::Packed& packed) {
  encoder_.seal(packed);
  out_.insert(out_.end(), packed.frame.begin(), packed.frame.end());
  out_.insert(out_.end(), packed.body.begin(), packed.body.end());
}

Status StreamStorage::flush_locked(bool durable) {
  if (!failed_.is_ok()) return failed_;
  failed_ = sink_.write(out_);
  if (failed_.is_ok()) written_ += out_.size();
  out_.clear();
  if (failed_.is_ok() && durable) failed_ = sink_.sync();
  return failed_;
}

Status StreamStorage::wait_locked(std::unique_lock<std::mutex>& lock, const std::function<bool()>& ready) {
  while (failed_.is_ok() && !ready()) {
    if (interrupted()) {
      failed_ = Status::error(ExitCode::kInterrupted, "interrupted by a signal while " + sink_.name() +
                                                          " took no more of the stream; the target is incomplete");
      changed_.notify_all();
      break;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
  return failed_;
}

Status StreamStorage::wait_room_locked(std::unique_lock<std::mutex>& lock) {
  if (Status s = wait_locked(lock, [&] {
        return ending_ || (next_ticket_ - next_seal_ < max_queued_ && out_.size() < kMaxGathered);
      });
      !s.is_ok())
    return s;
  // A record queued once finish() has begun would take the end record's number, and under a key
  // its nonce: refused, never written.
  if (ending_) return Status::error(ExitCode::kInternal, sink_.name() + ": a record written after the stream's end");
  return Status::ok();
}

uint64_t StreamStorage::queue_locked(const Record& record) {
  return queue_locked(record.type, stream::record_body(record));
}

uint64_t StreamStorage::queue_locked(RecordType type, std::vector<uint8_t> body) {
  const uint64_t ticket = next_ticket_++;
  jobs_.push_back(Job{ticket, type, std::move(body)});
  changed_.notify_all();
  return ticket;
}

void StreamStorage::compress_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and nothing left to do
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    stream::Packed packed;
    if (failed_.is_ok()) {
      lock.unlock();
      Status error;
      try {
        packed = encoder_.pack_body(job.type, std::move(job.body), job.ticket);
      } catch (const std::exception& e) {
        error = Status::error(ExitCode::kInternal, std::string("packing a stream record: ") + e.what());
      }
      job.body = {};
      lock.lock();
      if (!error.is_ok() && failed_.is_ok()) failed_ = error;
    }
    packed_[job.ticket] = std::move(packed);
    seal_ready_locked(lock);
  }
}

void StreamStorage::seal_ready_locked(std::unique_lock<std::mutex>& lock) {
  bool sealed = false;
  for (auto it = packed_.find(next_seal_); it != packed_.end(); it = packed_.find(next_seal_)) {
    if (failed_.is_ok()) {
      if (it->second.type == RecordType::kSync) gathered_sync_ = true;
      append_locked(it->second);
    }
    packed_.erase(it);
    ++next_seal_;
    sealed = true;
  }
  if (sealed) changed_.notify_all();
  if (!writing_ && (gathered_sync_ || out_.size() >= kWriteBatch)) write_out_locked(lock);
}

void StreamStorage::write_out_locked(std::unique_lock<std::mutex>& lock) {
  writing_ = true;
  while (failed_.is_ok() && (gathered_sync_ || out_.size() >= kWriteBatch)) {
    std::swap(out_, writing_now_);
    const bool durable = gathered_sync_;
    gathered_sync_ = false;
    const uint64_t through = next_seal_ - 1;
    lock.unlock();
    Status s = sink_.write(writing_now_);
    if (s.is_ok() && durable) s = sink_.sync();
    lock.lock();
    if (s.is_ok()) {
      written_ += writing_now_.size();
      written_through_ = through;
    } else if (failed_.is_ok()) {
      failed_ = s;
    }
    writing_now_.clear();
    changed_.notify_all();
  }
  writing_ = false;
  changed_.notify_all();
}

Status StreamStorage::emit(const Record& record) { return emit(record.type, stream::record_body(record)); }

Status StreamStorage::emit(RecordType type, std::vector<uint8_t> body) {
  std::unique_lock lock(mutex_);
  if (Status s = wait_room_locked(lock); !s.is_ok()) return s;
  queue_locked(type, std::move(body));
  return Status::ok();
}

Status StreamStorage::close_file(const Record& record) {
  std::unique_lock lock(mutex_);
  --open_files_;
  if (Status s = wait_room_locked(lock); !s.is_ok()) return s;
  queue_locked(record);
  return Status::ok();
}

Result<std::unique_ptr<StorageFile>> StreamStorage::create(const std::string& rel_path) {
  std::unique_lock lock(mutex_);
  if (Status s = wait_room_locked(lock); !s.is_ok()) return s;
  // A reader keeps every open file open (a descriptor each) and refuses more than this: the
  // writer refuses first, with words, rather than write a stream nobody can extract.
  if (open_files_ >= stream::kMaxOpenFiles)
    return Status::error(ExitCode::kUnsupported,
                         fmt::format("{}: a stream holds at most {} files open at once (creating {})", sink_.name(),
                                     stream::kMaxOpenFiles, rel_path));
  // The id and the create record's place are taken together (the lock held since the wait for
  // room), so ids appear in order.
  const uint32_t id = next_file_++;
  queue_locked(Record{RecordType::kCreate, id, 0, rel_path, {}, {}});
  ++open_files_;
  return std::unique_ptr<StorageFile>(new StreamFile(*this, id, rel_path));
}

Status StreamStorage::make_dir(const std::string& rel_path) { return emit({RecordType::kMakeDir, 0, 0, rel_path, {}, {}}); }
Status StreamStorage::remove(const std::string& rel_path) { return emit({RecordType::kRemove, 0, 0, rel_path, {}, {}}); }
Status StreamStorage::remove_dir(const std::string& rel_path) {
  return emit({RecordType::kRemoveDir, 0, 0, rel_path, {}, {}});
}
Status StreamStorage::rename(const std::string& from, const std::string& to) {
  return emit({RecordType::kRename, 0, 0, from, to, {}});
}
Status StreamStorage::put(const std::string& rel_path, const std::string& contents) {
  if (contents.size() > stream::kMaxPut)
    return Status::error(ExitCode::kInternal, rel_path + " is too large for a stream put");
  return emit({RecordType::kPut, 0, 0, rel_path, {}, {contents.begin(), contents.end()}});
}
Status StreamStorage::sync() {
  std::unique_lock lock(mutex_);
  if (Status s = wait_room_locked(lock); !s.is_ok()) return s;
  const uint64_t ticket = queue_locked(Record{RecordType::kSync, 0, 0, {}, {}, {}});
  return wait_locked(lock, [&] { return written_through_ >= ticket; });
}

Status StreamStorage::finish() {
  std::unique_lock lock(mutex_);
  ending_ = true;
  changed_.notify_all();
  // Every record sealed and no write under way: what is gathered, and the end, go out from here.
  // The end record takes the next number (no record is queued after it: wait_room_locked).
  const uint64_t last = next_ticket_ - 1;
  if (Status s = wait_locked(lock, [&] { return !writing_ && next_seal_ > last; }); !s.is_ok()) return s;
  ++next_ticket_;
  append_locked(encoder_.end());
  if (Status s = flush_locked(true); !s.is_ok()) return s;
  failed_ = sink_.finish();
  return failed_;
}

uint64_t StreamStorage::bytes_written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

}  // namespace mysqlclone
