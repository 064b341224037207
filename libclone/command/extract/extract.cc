#include "libclone/command/extract/extract.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <memory>

#include "libclone/base/log.h"
#include "libclone/base/text.h"
#include "libclone/command/extract/file_writers.h"
#include "libclone/datadir/datadir.h"
#include "libclone/io/byte_stream.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/read_file.h"
#include "libclone/io/stream_format.h"
#include "libclone/manifest/target.h"
#include "libclone/server/preflight.h"
#include "libclone/server/replication.h"

namespace mysqlclone {
namespace {

using stream::Record;
using stream::RecordType;

// Name operations held back at once: the tail of a copy is a few puts (metadata, the manifest
// of up to stream::kMaxPut) and renames.
constexpr uint64_t kMaxHeldBytes = uint64_t(2) * stream::kMaxPut;

// Replays records into DIR, holding name operations back (see extract.h).
class Replay {
 public:
  Replay(DirectoryStorage& storage, unsigned writers) : storage_(storage), writers_(writers) {}

  Status apply(Record r) {
    switch (r.type) {
      case RecordType::kCreate: {
        if (Status s = release(); !s.is_ok()) return s;
        auto f = storage_.create(r.path);
        if (!f.is_ok()) return f.status();
        files_[r.file] = std::move(f).value();
        ++created_;
        return Status::ok();
      }
      case RecordType::kData:
      case RecordType::kExtend:
      case RecordType::kClose: {
        if (Status s = release(); !s.is_ok()) return s;
        auto f = files_.find(r.file);  // the reader proved the id open
        if (r.type == RecordType::kData) {
          data_bytes_ += r.bytes.size();
          return writers_.write(r.file, *f->second, r.offset, std::move(r.bytes));
        }
        if (r.type == RecordType::kExtend) return writers_.extend(r.file, *f->second, r.offset);
        std::unique_ptr<StorageFile> closing = std::move(f->second);
        files_.erase(f);
        return writers_.close(r.file, std::move(closing), r.offset);
      }
      case RecordType::kEnd:
        if (Status s = writers_.drain(); !s.is_ok()) return s;
        return release();
      default:
        held_bytes_ += r.path.size() + r.to.size() + r.bytes.size();
        if (held_bytes_ > kMaxHeldBytes)
          return Status::error(ExitCode::kVerifyFailed, "the stream holds more than " +
                                                            human_bytes(double(kMaxHeldBytes)) +
                                                            " of metadata between two file records");
        held_.push_back(std::move(r));
        return Status::ok();
    }
  }

  // Every file record so far applied (after a failure: the writes stopped).
  Status drain() { return writers_.drain(); }
  uint64_t created() const { return created_; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  // The held name operations, once every file record before them is applied: a name is never
  // made, moved or removed ahead of the data the stream wrote before it.
  Status release() {
    if (held_.empty()) return Status::ok();
    if (Status s = writers_.drain(); !s.is_ok()) return s;
    for (const Record& r : held_) {
      Status s;
      switch (r.type) {
        case RecordType::kPut: s = storage_.put(r.path, std::string(r.bytes.begin(), r.bytes.end())); break;
        case RecordType::kMakeDir: s = storage_.make_dir(r.path); break;
        case RecordType::kRemove: s = storage_.remove(r.path); break;
        case RecordType::kRemoveDir: s = storage_.remove_dir(r.path); break;
        case RecordType::kRename: s = storage_.rename(r.path, r.to); break;
        default: s = storage_.sync(); break;
      }
      if (!s.is_ok()) return s;
    }
    held_.clear();
    held_bytes_ = 0;
    return Status::ok();
  }

  DirectoryStorage& storage_;
  std::map<uint32_t, std::unique_ptr<StorageFile>> files_;  // open: created, not yet closed
  FileWriters writers_;  // after files_: stopped before the files it writes are freed
  std::vector<Record> held_;
  uint64_t held_bytes_ = 0;
  uint64_t created_ = 0;
  uint64_t data_bytes_ = 0;
};

// The error named by where the stream came from, unless it names it already (a peer's errors do).
Status in_input(const Status& s, const ByteSource& input) {
  return s.message().find(input.name()) == std::string::npos ? s.with_context(input.name()) : s;
}

}  // namespace

Result<ExtractResult> run_extract(const ExtractOptions& options, ExtractProgress& progress) {
  FdSource input;
  if (Status s = input.open(options.input); !s.is_ok()) return s;
  return extract_from(options, input, progress);
}

Result<ExtractResult> extract_from(const ExtractOptions& options, ByteSource& input, ExtractProgress& progress) {
  const auto started = std::chrono::steady_clock::now();
  std::optional<SecretKey> key;
  if (!options.key_file.empty()) {
    auto loaded = load_key_file(options.key_file);
    if (!loaded.is_ok()) return loaded.status();
    key.emplace(*loaded);
  }
  progress.total_bytes = input.size().value_or(0);
  const unsigned threads = options.parallel ? options.parallel : std::max(2u, std::thread::hardware_concurrency());
  stream::Reader reader(
      [&](std::span<uint8_t> out) -> Result<size_t> {
        auto n = input.read(out);
        if (n.is_ok()) progress.done_bytes += *n;
        return n;
      },
      std::move(key), threads);
  // The preamble (and the key) are checked before DIR is touched: a wrong key leaves nothing.
  if (Status s = reader.open(); !s.is_ok()) return in_input(s, input);
  if (Status s = prepare_target(options.target_dir, 0); !s.is_ok()) return s;

  DirectoryStorage storage(options.target_dir);
  Manifest manifest;
  manifest.kind = "backup";
  manifest.command = "extract";
  manifest.started_at = utc_now_iso8601();
  Replay replay(storage, threads);
  Status s = begin_target(storage, manifest, StartGuard::kNone);
  bool ended = false;
  while (s.is_ok() && !ended) {
    auto record = reader.next();
    if (!record.is_ok()) {
      s = in_input(record.status(), input);
      break;
    }
    ended = record->type == RecordType::kEnd;
    s = replay.apply(std::move(record).value());
  }
  if (s.is_ok()) s = storage.sync();
  if (!s.is_ok()) {
    (void)replay.drain();  // no write lands after DIR is marked failed
    fail_target(storage, manifest, s);
    return s;
  }
  ExtractResult result;
  result.target_dir = options.target_dir;
  result.stream_bytes = reader.position();
  result.files = replay.created();
  result.data_bytes = replay.data_bytes();
  result.encrypted = reader.encrypted();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto summary = check_target_finished(options.target_dir);
  if (!summary.is_ok()) return summary.status();
  result.manifest = *summary;
  if (result.manifest) result.replication = result.manifest->document.value("replication", nlohmann::json());
  log_info("extracted {} files ({}) from {} of stream", result.files, human_bytes(double(result.data_bytes)),
           human_bytes(double(result.stream_bytes)));
  return result;
}

}  // namespace mysqlclone
