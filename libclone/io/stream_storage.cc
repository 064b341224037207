#include "libclone/io/stream_storage.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

namespace mysqlclone {
namespace {

// Sealed records gather up to this size before one write(): small records (creates, closes of
// tens of thousands of small files) do not cost a system call each.
constexpr size_t kWriteBatch = size_t(1) << 20;

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
      Record r{RecordType::kData, id_, offset, {}, {}, {bytes.begin(), bytes.begin() + long(n)}};
      if (Status s = storage_.emit(r); !s.is_ok()) return s;
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

StreamStorage::StreamStorage(ByteSink& sink, stream::Settings settings)
    : sink_(sink), encoder_(std::move(settings)) {}

Status StreamStorage::start() {
  std::lock_guard lock(mutex_);
  out_ = encoder_.preamble();
  return flush_locked(false);
}

Status StreamStorage::flush_locked(bool durable) {
  if (!failed_.is_ok()) return failed_;
  failed_ = sink_.write(out_);
  if (failed_.is_ok()) written_ += out_.size();
  out_.clear();
  if (failed_.is_ok() && durable) failed_ = sink_.sync();
  return failed_;
}

Status StreamStorage::seal_and_write(stream::Packed packed) {
  std::lock_guard lock(mutex_);
  if (!failed_.is_ok()) return failed_;
  const bool durable = packed.type == RecordType::kSync;
  encoder_.seal(std::move(packed), out_);
  if (durable || out_.size() >= kWriteBatch) return flush_locked(durable);
  return Status::ok();
}

Status StreamStorage::emit(const Record& record) { return seal_and_write(encoder_.pack(record)); }

Status StreamStorage::close_file(const Record& record) {
  Status s = emit(record);
  std::lock_guard lock(mutex_);
  --open_files_;
  return s;
}

Result<std::unique_ptr<StorageFile>> StreamStorage::create(const std::string& rel_path) {
  uint32_t id = 0;
  {
    // The id and the create record go out together, so ids appear in order.
    std::lock_guard lock(mutex_);
    if (!failed_.is_ok()) return failed_;
    // A reader keeps every open file open (a descriptor each) and refuses more than this: the
    // writer refuses first, with words, rather than write a stream nobody can extract.
    if (open_files_ >= stream::kMaxOpenFiles)
      return Status::error(ExitCode::kUnsupported,
                           fmt::format("{}: a stream holds at most {} files open at once (creating {})", sink_.name(),
                                       stream::kMaxOpenFiles, rel_path));
    ++open_files_;
    id = next_file_++;
    encoder_.seal(encoder_.pack(Record{RecordType::kCreate, id, 0, rel_path, {}, {}}), out_);
    if (out_.size() >= kWriteBatch)
      if (Status s = flush_locked(false); !s.is_ok()) return s;
  }
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
Status StreamStorage::sync() { return emit({RecordType::kSync, 0, 0, {}, {}, {}}); }

Status StreamStorage::finish() {
  std::lock_guard lock(mutex_);
  if (!failed_.is_ok()) return failed_;
  encoder_.end(out_);
  if (Status s = flush_locked(true); !s.is_ok()) return s;
  failed_ = sink_.finish();
  return failed_;
}

uint64_t StreamStorage::bytes_written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

}  // namespace mysqlclone
