#include "libclone/command/extract/extract.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <memory>

#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/base/text.h"
#include "libclone/datadir/datadir.h"
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

class Input {
 public:
  ~Input() {
    if (owned_) ::close(fd_);
  }
  Status open(const ExtractOptions& options, ExtractProgress& progress) {
    const std::string& path = options.input;
    name_ = path.empty() || path == "-" ? "standard input" : path;
    if (options.input_fd >= 0) {
      fd_ = options.input_fd;
      name_ = options.input_name;
    } else if (path.empty() || path == "-") {
      fd_ = STDIN_FILENO;
    } else {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) return errno_status(ExitCode::kPath, "cannot open the stream", path, errno);
      owned_ = true;
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) progress.total_bytes = uint64_t(st.st_size);
    return Status::ok();
  }
  Result<size_t> read(std::span<uint8_t> out) {
    while (true) {
      if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal; the target is incomplete");
      const ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return size_t(n);
      if (errno != EINTR) return errno_status(ExitCode::kNetwork, "cannot read the stream from", name_, errno);
    }
  }
  const std::string& name() const { return name_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::string name_;
};

// Replays records into DIR, holding name operations back (see extract.h).
class Replay {
 public:
  explicit Replay(DirectoryStorage& storage) : storage_(storage) {}

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
        StorageFile& f = *files_.at(r.file);  // the reader proved the id open
        if (r.type == RecordType::kData) {
          data_bytes_ += r.bytes.size();
          return f.write_at(r.offset, r.bytes);
        }
        if (r.type == RecordType::kExtend) return f.extend_to(r.offset);
        Status s = f.extend_to(r.offset);  // the size the writer closed at, zeros included
        if (s.is_ok()) s = f.close();
        files_.erase(r.file);
        return s;
      }
      case RecordType::kEnd: return release();
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

  uint64_t created() const { return created_; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  Status release() {
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
  std::map<uint32_t, std::unique_ptr<StorageFile>> files_;
  std::vector<Record> held_;
  uint64_t held_bytes_ = 0;
  uint64_t created_ = 0;
  uint64_t data_bytes_ = 0;
};

}  // namespace

Result<ExtractResult> run_extract(const ExtractOptions& options, ExtractProgress& progress) {
  const auto started = std::chrono::steady_clock::now();
  std::optional<SecretKey> key;
  if (!options.key_file.empty()) {
    auto loaded = load_key_file(options.key_file);
    if (!loaded.is_ok()) return loaded.status();
    key.emplace(*loaded);
  }
  Input input;
  if (Status s = input.open(options, progress); !s.is_ok()) return s;
  stream::Reader reader(
      [&](std::span<uint8_t> out) -> Result<size_t> {
        auto n = input.read(out);
        if (n.is_ok()) progress.done_bytes += *n;
        return n;
      },
      std::move(key));
  // The preamble (and the key) are checked before DIR is touched: a wrong key leaves nothing.
  if (Status s = reader.open(); !s.is_ok()) return s.with_context(input.name());
  if (Status s = prepare_target(options.target_dir, 0); !s.is_ok()) return s;

  DirectoryStorage storage(options.target_dir);
  Manifest manifest;
  manifest.kind = "backup";
  manifest.command = "extract";
  manifest.started_at = utc_now_iso8601();
  Replay replay(storage);
  Status s = begin_target(storage, manifest, StartGuard::kNone);
  bool ended = false;
  while (s.is_ok() && !ended) {
    auto record = reader.next();
    if (!record.is_ok()) {
      s = record.status().with_context(input.name());
      break;
    }
    ended = record->type == RecordType::kEnd;
    s = replay.apply(std::move(record).value());
  }
  if (s.is_ok()) s = storage.sync();
  if (!s.is_ok()) {
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
