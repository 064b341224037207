// MySQL 8.0.30+: copies 512-byte log blocks from #innodb_redo/#ib_redoN into the target's
// #innodb_redo/#ib_redo0 (and #ib_redo1… when the log outgrows a file) as they are written. Every block names its own place in the log
// (hdr_no + epoch), so a block of a later lap — the server reused log we had not copied — is
// recognised for certain and ends the backup with "redo lost".
//
// The output is appended front to back: the header area (format 6, a new uuid, start_lsn =
// the block of C, both checkpoints = C) at start — a server cannot start on it early, the
// target's #clone/#status_in_progress guard refuses it until the copy is complete — then full
// blocks as they are read, then the block holding E trimmed to end there, then zeros. A file
// that is full (config.span_file_size) is closed as it is and the next one begins with the
// same header but its own start_lsn and no checkpoint: no limit on the span, and nothing is
// ever rewritten.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "innodb/redo_mysql.h"
#include "libclone/io/read_file.h"
#include "libclone/redo/redo_archiver.h"
#include "libclone/redo/tail_loop.h"

namespace mysqlclone {
namespace {

namespace mr = innodb::mysql_redo;
using innodb::Lsn;

constexpr size_t kReadBytes = 256 * mr::kBlockSize;  // 128 KiB per read
constexpr auto kConsumerPeriod = std::chrono::milliseconds(50);
constexpr auto kServerPeriod = std::chrono::seconds(1);
const char* const kRedoDir = "#innodb_redo";

std::string output_name(size_t index) { return std::string(kRedoDir) + "/#ib_redo" + std::to_string(index); }

// One #ib_redoN of the source, kept open while the name exists: the server recycles a file by
// renaming it (to #ib_redoN_tmp, later to a new id with a new header), so a name that is gone
// means the server is done with that file, and its descriptor is closed.
struct SourceFile {
  int fd = -1;
  bool direct = false;
  uint64_t size = 0;
  mr::FileHeader header;
  mr::FileRange range{0, 0};
};

// "#ib_redo" followed by digits only: the files in use (spares end in "_tmp").
bool is_redo_file_name(const std::string& name) {
  constexpr size_t kPrefix = 8;
  return name.rfind("#ib_redo", 0) == 0 && name.size() > kPrefix &&
         name.find_first_not_of("0123456789", kPrefix) == std::string::npos;
}

// -1 when the file is gone (renamed away by the server between readdir and open: recycled).
// Every other failure is an error: taking it for "recycled" would leave the tailer idle while
// the server waits for it (EMFILE did, with --redo-consumer).
Result<int> open_redo_file(const std::string& path, bool& direct) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
  direct = fd >= 0;
  if (fd < 0 && errno == EINVAL) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // e.g. tmpfs
  if (fd >= 0) return fd;
  if (errno == ENOENT) return -1;
  return errno_status(ExitCode::kSourceIo, "cannot open", path, errno);
}

class MysqlRedoArchiver : public RedoArchiver {
 public:
  explicit MysqlRedoArchiver(RedoArchiverConfig config) : config_(std::move(config)) {}
  ~MysqlRedoArchiver() override {
    loop_.stop();
    for (auto& [name, f] : files_) ::close(f.fd);
  }

  Status start() override {
    if (Status s = refresh_files(); !s.is_ok()) return s;
    std::vector<std::array<uint8_t, 1024>> blocks;  // checkpoint blocks 1 and 3 of each file
    std::vector<mr::RedoFileHeaders> headers;
    std::vector<const SourceFile*> order;
    blocks.reserve(files_.size());
    for (auto& [name, f] : files_) {
      std::array<uint8_t, 1024> cp{};
      auto c1 = read_fully(f.fd, f.direct, mr::kCheckpoint1Offset, std::span<uint8_t>(cp.data(), 512), name);
      auto c2 = read_fully(f.fd, f.direct, mr::kCheckpoint2Offset, std::span<uint8_t>(cp.data() + 512, 512), name);
      if (!c1.is_ok()) return c1.status();
      if (!c2.is_ok()) return c2.status();
      blocks.push_back(cp);
      order.push_back(&f);
    }
    for (size_t i = 0; i < blocks.size(); ++i)
      headers.push_back({order[i]->header, order[i]->size, mr::ConstBlock(blocks[i].data(), 512),
                         mr::ConstBlock(blocks[i].data() + 512, 512)});
    auto cp = mr::find_checkpoint(headers);
    if (!cp) return Status::error(ExitCode::kSourceIo, "no valid checkpoint in " + config_.source_datadir + "/" + kRedoDir);
    const mr::FileHeader& h = order[cp->file_index]->header;
    if (h.flags & mr::kFlagNoLogging)
      return Status::error(ExitCode::kUnsupported, "the server's redo log is disabled: a copy could not be recovered");
    checkpoint_ = cp->lsn;
    appended_end_ = mr::block_start_of(checkpoint_);
    // Copied so far: nothing of the block holding the checkpoint. Published as the checkpoint
    // itself, an end LSN equal to it (an idle server) counted as reached before the block was
    // read, and finish_at() failed.
    loop_.publish(appended_end_);

    std::random_device rd;
    uint32_t uuid = 0;
    while (uuid == 0) uuid = rd();
    auto header = mr::build_header_area(checkpoint_, uuid, h.creator);
    if (!header) return Status::error(ExitCode::kInternal, "cannot build a redo header for creator '" + h.creator + "'");
    first_header_ = *header;
    file_size_ = config_.span_file_size ? config_.span_file_size : mr::kSpanFileSize;
    if (file_size_ % (1 << 20) != 0 || file_size_ > mr::kMaxFileSize)
      return Status::error(ExitCode::kInternal, "redo output files of " + std::to_string(file_size_) + " bytes");
    if (Status s = open_output(0, *header); !s.is_ok()) return s;
    loop_.start([this, buf = std::make_shared<AlignedBuffer>(kReadBytes)] { return step(*buf); });
    return Status::ok();
  }

  Lsn checkpoint_lsn() const override { return checkpoint_; }
  void hold() override { held_ = true; }
  void set_end_lsn(Lsn end_lsn) override {
    held_ = true;
    end_lsn_ = end_lsn;
  }
  Lsn copied_lsn() const override { return loop_.copied(); }

  Status finish_at(Lsn end_lsn, std::chrono::seconds timeout) override {
    if (end_lsn != end_lsn_.load())
      return Status::error(ExitCode::kInternal, "the redo log is finished at " + std::to_string(end_lsn) +
                                                    ", not at the end LSN it was given");
    if (Status s = loop_.wait_and_stop(end_lsn, timeout); !s.is_ok()) return s;
    // What was appended before E was known may already reach past it (and count as copied).
    if (!done_) return written_past(end_lsn);
    // The last file: its blocks, then room for the restarted server to write.
    auto size = mr::recovery_file_size(appended_end_ - file_start_);
    if (!size) return Status::error(ExitCode::kInternal, "the last redo file outgrew its size");
    if (Status s = out_->extend_to(*size); !s.is_ok()) return s;
    return out_->close();
  }

  Status publish() override { return Status::ok(); }  // the #clone marker guards MySQL targets

  Status health() override { return loop_.health(); }

  void abort() override { loop_.stop(); }

 private:
  static Status written_past(Lsn end) {
    return Status::error(ExitCode::kInternal, "the redo log was written past the end LSN " + std::to_string(end) +
                                                  " before it was known (hold() was not called before reading it)");
  }

  // Where the next block to read starts: after what is appended and what is held.
  Lsn next_block() const { return appended_end_ + pending_.size(); }

  // The progress figures; the server is asked at most once a second (the tailer needs nothing
  // from it).
  Status report() {
    if (!config_.progress) return Status::ok();
    if (config_.server_log && std::chrono::steady_clock::now() - server_asked_ > kServerPeriod) {
      server_asked_ = std::chrono::steady_clock::now();
      auto server = config_.server_log();
      if (!server.is_ok()) return server.status();
      server_current_ = server->current;
    }
    config_.progress->record(checkpoint_, appended_end_, server_current_);
    return Status::ok();
  }

  // Starts output file `index`, whose data begins at appended_end_.
  Status open_output(size_t index, const mr::HeaderArea& header) {
    if (out_)
      if (Status s = out_->close(); !s.is_ok()) return s;
    auto out = config_.storage->create(output_name(index));
    if (!out.is_ok()) return out.status();
    out_ = std::move(out).value();
    file_index_ = index;
    file_start_ = appended_end_;
    return out_->append(header);
  }

  // Whole blocks, into as many files as they fill.
  Status append(const uint8_t* data, size_t n) {
    while (n > 0) {
      const uint64_t room = file_size_ - mr::kHeaderAreaSize - (appended_end_ - file_start_);
      if (room == 0) {
        auto header = mr::build_next_header_area(first_header_, appended_end_);
        if (!header) return Status::error(ExitCode::kInternal, "cannot build the header of a redo file");
        if (Status s = open_output(file_index_ + 1, *header); !s.is_ok()) return s;
        continue;
      }
      const size_t take = size_t(std::min<uint64_t>(room, n));
      if (Status s = out_->append(std::span<const uint8_t>(data, take)); !s.is_ok()) return s;
      appended_end_ += take;
      data += take;
      n -= take;
    }
    return Status::ok();
  }

  // Appends `n` bytes of whole blocks, the last of which holds `end` and is trimmed to end there.
  Status append_through_end(uint8_t* data, size_t n, Lsn end) {
    if (!mr::trim_last_block(mr::MutableBlock(data + n - mr::kBlockSize, mr::kBlockSize), end))
      return Status::error(ExitCode::kInternal, "cannot end the redo log at " + std::to_string(end));
    if (Status s = append(data, n); !s.is_ok()) return s;
    done_ = true;
    return Status::ok();
  }

  // E is known: the held blocks before the one holding E go out as they are; that one, if held,
  // goes out trimmed and ends the copy; the blocks after it are dropped.
  Status release_pending(Lsn end) {
    const Lsn last = mr::block_start_of(end);
    Status s;
    if (last >= next_block())
      s = append(pending_.data(), pending_.size());
    else
      s = append_through_end(pending_.data(), size_t(last - appended_end_) + mr::kBlockSize, end);
    std::vector<uint8_t>().swap(pending_);
    return s;
  }

  // Opens #ib_redoN files not seen yet, closes those whose name is gone, and re-reads the header
  // of the others (a reused file gets a new start LSN).
  Status refresh_files() {
    const std::string dir = config_.source_datadir + "/" + kRedoDir;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return errno_status(ExitCode::kSourceIo, "cannot read", dir, errno);
    std::set<std::string> present;
    Status failed;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (!is_redo_file_name(name)) continue;
      present.insert(name);
      if (files_.count(name)) continue;
      SourceFile f;
      auto fd = open_redo_file(dir + "/" + name, f.direct);
      if (!fd.is_ok()) {
        failed = fd.status();
        break;
      }
      if (*fd < 0) continue;
      f.fd = *fd;
      files_[name] = f;
    }
    ::closedir(d);
    if (!failed.is_ok()) return failed;
    for (auto it = files_.begin(); it != files_.end();) {
      if (present.count(it->first)) {
        ++it;
        continue;
      }
      ::close(it->second.fd);
      it = files_.erase(it);
    }
    for (auto& [name, f] : files_) {
      std::array<uint8_t, mr::kBlockSize> hb{};
      struct stat st {};
      auto n = read_fully(f.fd, f.direct, 0, hb, name);
      if (!n.is_ok() || *n != hb.size() || ::fstat(f.fd, &st) != 0) continue;
      auto h = mr::parse_file_header(hb);
      if (!h) continue;  // being (re)initialised
      f.header = *h;
      f.size = uint64_t(st.st_size);
      f.range = mr::file_range(h->start_lsn, f.size);
    }
    return Status::ok();
  }

  const SourceFile* covering(Lsn lsn) const {
    for (const auto& [name, f] : files_)
      if (f.range.contains(lsn)) return &f;
    return nullptr;
  }

  // The end of the newest file the server has: at least how far its log has gone.
  Lsn newest_end() const {
    Lsn newest = 0;
    for (const auto& [name, f] : files_) newest = std::max(newest, f.range.end_lsn);
    return newest;
  }

  // The LSN a block's own header says it was written for (a later lap's, when overwritten).
  static Lsn content_lsn(mr::ConstBlock block) {
    const mr::DataBlockHeader h = mr::read_data_block_header(block);
    return (Lsn(h.epoch_no - 1) * mr::kBlocksPerEpoch + (h.hdr_no - 1)) * mr::kBlockSize;
  }

  Lsn oldest_start() const {
    Lsn oldest = ~Lsn(0);
    for (const auto& [name, f] : files_)
      if (f.range.end_lsn > f.range.start_lsn) oldest = std::min(oldest, f.range.start_lsn);
    return oldest;
  }

  // One read at the current position; returns whether anything new was copied.
  Result<bool> step(AlignedBuffer& buf) {
    if (done_) return false;
    const Lsn end = end_lsn_.load();
    if (end != kNoEndLsn) {
      // Only log read before E was asked for can have been appended without waiting for it.
      if (!mr::is_mtr_boundary(end))
        return Status::error(ExitCode::kInternal, "end LSN " + std::to_string(end) + " is not a mini-transaction boundary");
      if (appended_end_ > mr::block_start_of(end)) return written_past(end);
      if (!pending_.empty()) {
        if (Status s = release_pending(end); !s.is_ok()) return s;
        if (done_) {
          loop_.publish(end);
          return true;
        }
      }
    } else if (pending_.size() >= kRedoHoldBytes) {
      return false;  // E comes soon: wait for it rather than hold more
    }
    const Lsn pos = next_block();
    const SourceFile* f = covering(pos);
    if (!f) {
      if (Status s = refresh_files(); !s.is_ok()) return s;
      f = covering(pos);
      if (!f) {
        if (pos < oldest_start())
          return redo_lost(pos, newest_end(), config_.source_capacity, "innodb_redo_log_capacity");
        return false;  // the server has not started the file holding pos yet
      }
    }
    const uint64_t offset = f->range.offset_of(pos);
    // One block while the server is idle, large reads while it writes.
    const size_t want = size_t(std::min<uint64_t>(idle_ ? mr::kBlockSize : kReadBytes, f->size - offset));
    auto got = read_fully(f->fd, f->direct, offset, std::span<uint8_t>(buf.data(), want), "the source redo log");
    if (!got.is_ok()) return got.status();
    // Read before hold() returned means read before E was asked for: it all ends at or before E.
    const bool held = held_.load();
    size_t full = 0;
    Lsn partial_end = 0;  // where the log ends in the first block that is not full, if partial
    for (size_t off = 0; off + mr::kBlockSize <= *got; off += mr::kBlockSize) {
      const Lsn block_lsn = pos + off;
      mr::ConstBlock block(buf.data() + off, mr::kBlockSize);
      const mr::BlockVerdict v = mr::classify_block(block, block_lsn);
      if (v.state == mr::BlockState::kFull) {
        full += mr::kBlockSize;
        continue;
      }
      if (v.state == mr::BlockState::kPartial) partial_end = v.end_lsn;
      if (v.state == mr::BlockState::kOverwritten)
        return redo_lost(block_lsn, content_lsn(block), config_.source_capacity, "innodb_redo_log_capacity");
      if (v.state == mr::BlockState::kMalformed)
        return Status::error(ExitCode::kSourceIo, "malformed redo block at LSN " + std::to_string(block_lsn));
      break;  // partial or not written yet: read again from here next time
    }
    // The block holding E ends the copy once it is read far enough: full, or partial up to E.
    size_t take = full;
    bool last = false;
    if (end != kNoEndLsn) {
      const Lsn end_block = mr::block_start_of(end);
      if (end_block < pos + full || (end_block == pos + full && partial_end >= end)) {
        take = size_t(end_block - pos) + mr::kBlockSize;
        last = true;
      }
    }
    if (last) {
      if (Status s = append_through_end(buf.data(), take, end); !s.is_ok()) return s;
    } else if (held && end == kNoEndLsn) {
      pending_.insert(pending_.end(), buf.data(), buf.data() + take);
    } else if (take) {
      if (Status s = append(buf.data(), take); !s.is_ok()) return s;
    }
    // A partial block that grew is progress too (it is read again until full).
    const bool progressed = take > 0 || partial_end > partial_seen_;
    partial_seen_ = std::max(partial_seen_, partial_end);
    idle_ = !progressed;
    if (config_.consumer_advance && next_block() > consumer_lsn_ &&
        std::chrono::steady_clock::now() - consumer_advanced_ > kConsumerPeriod) {
      // Full blocks held in memory count as copied too: they reach the target or the copy fails.
      if (Status s = config_.consumer_advance(next_block()); !s.is_ok()) return s;
      consumer_lsn_ = next_block();
      consumer_advanced_ = std::chrono::steady_clock::now();
    }
    loop_.publish(done_ ? end : appended_end_);
    if (Status s = report(); !s.is_ok()) return s;
    return progressed;
  }

  RedoArchiverConfig config_;
  std::map<std::string, SourceFile> files_;
  Lsn checkpoint_ = 0;
  mr::HeaderArea first_header_{};  // of #ib_redo0; the later files' headers derive from it
  uint64_t file_size_ = 0;         // of each output file but the last
  std::unique_ptr<StorageFile> out_;  // the output file being appended to
  size_t file_index_ = 0;
  Lsn file_start_ = 0;    // LSN of its first data byte
  Lsn appended_end_ = 0;  // end of the blocks appended to the target
  std::vector<uint8_t> pending_;  // full blocks read after hold(), from appended_end_ on
  Lsn partial_seen_ = 0;  // the furthest end of a partial block seen
  bool done_ = false;     // the block holding E is appended
  bool idle_ = false;
  std::atomic<bool> held_{false};
  std::atomic<Lsn> end_lsn_{kNoEndLsn};
  Lsn consumer_lsn_ = 0;
  Lsn server_current_ = 0;  // the server's LSN as last asked (for the lag)
  std::chrono::steady_clock::time_point server_asked_{};
  std::chrono::steady_clock::time_point consumer_advanced_{};
  TailLoop loop_;  // last: its thread stops before the members it uses go
};

}  // namespace

std::unique_ptr<RedoArchiver> make_mysql_redo_archiver(RedoArchiverConfig config) {
  return std::make_unique<MysqlRedoArchiver>(std::move(config));
}

void RedoProgress::record(innodb::Lsn checkpoint, innodb::Lsn copied, innodb::Lsn server) {
  span = copied > checkpoint ? copied - checkpoint : 0;
  if (server == 0) return;  // not asked yet
  const uint64_t behind = server > copied ? server - copied : 0;
  lag = behind;
  uint64_t peak = peak_lag.load();
  while (behind > peak && !peak_lag.compare_exchange_weak(peak, behind)) {
  }
}

Status redo_lost(innodb::Lsn needed, innodb::Lsn server_reached, uint64_t capacity, const std::string& setting) {
  const bool mysql = setting == "innodb_redo_log_capacity";
  return Status::error(ExitCode::kRedoLost,
                       "redo lost: the copy needed redo from LSN " + std::to_string(needed) +
                           " but the server, already at LSN " + std::to_string(server_reached) +
                           ", had overwritten it; the redo log (" + setting + " = " + std::to_string(capacity >> 20) +
                           " MiB) is too small for the write load during the copy: make it larger, so that the "
                           "copy has more room to fall behind" +
                           (mysql ? ", or use --redo-consumer (the server then waits for the copy)" : ""));
}

}  // namespace mysqlclone
