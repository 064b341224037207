// MySQL 8.0.30+: copies 512-byte log blocks from #innodb_redo/#ib_redoN into the target's
// #innodb_redo/#ib_redo0 as they are written. Every block names its own place in the log
// (hdr_no + epoch), so a block of a later lap — the server reused log we had not copied — is
// recognised for certain and ends the backup with "redo lost".
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "innodb/redo_mysql.h"
#include "libclone/io/directory_storage.h"
#include "libclone/base/log.h"
#include "libclone/io/read_file.h"
#include "libclone/redo/redo_archiver.h"
#include "libclone/redo/tail_loop.h"

namespace mysqlclone {
namespace {

namespace mr = innodb::mysql_redo;
using innodb::Lsn;

constexpr size_t kReadBytes = 256 * mr::kBlockSize;  // 128 KiB per read
constexpr auto kConsumerPeriod = std::chrono::milliseconds(50);
const char* const kRedoDir = "#innodb_redo";

// One #ib_redoN of the source, kept open: a file the server recycles keeps its old content
// until it is reused, and its header then says so.
struct SourceFile {
  int fd = -1;
  bool direct = false;
  uint64_t size = 0;
  mr::FileHeader header;
  mr::FileRange range{0, 0};
};

class MysqlRedoArchiver : public RedoArchiver {
 public:
  explicit MysqlRedoArchiver(RedoArchiverConfig config) : config_(std::move(config)) {}
  ~MysqlRedoArchiver() override {
    loop_.stop();
    for (auto& [name, f] : files_) ::close(f.fd);
    if (out_fd_ >= 0) ::close(out_fd_);
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
    creator_ = h.creator;
    start_block_ = mr::block_start_of(checkpoint_);
    appended_end_ = start_block_;
    loop_.publish(checkpoint_);

    const std::string dir = config_.target_dir + "/" + kRedoDir;
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
      return errno_status(ExitCode::kPath, "cannot create", dir, errno);
    out_path_ = dir + "/#ib_redo0";
    out_fd_ = ::open(out_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out_fd_ < 0) return errno_status(ExitCode::kPath, "cannot create", out_path_, errno);
    // The header area stays zero until finish_at(): a server that found this file before the
    // backup is complete sees no valid redo log and refuses to start.
    loop_.start([this, buf = std::make_shared<AlignedBuffer>(kReadBytes)] { return step(*buf); });
    return Status::ok();
  }

  Lsn checkpoint_lsn() const override { return checkpoint_; }
  void set_end_lsn(Lsn end_lsn) override { end_lsn_ = end_lsn; }
  Lsn copied_lsn() const override { return loop_.copied(); }

  Status finish_at(Lsn end_lsn, std::chrono::seconds timeout) override {
    if (Status s = loop_.wait_and_stop(end_lsn, timeout); !s.is_ok()) return s;
    if (!mr::is_mtr_boundary(end_lsn))
      return Status::error(ExitCode::kInternal, "end LSN " + std::to_string(end_lsn) + " is not a mini-transaction boundary");
    // The block holding E is either on disk already (it was full) or the partial one in memory.
    const Lsn last = mr::block_start_of(end_lsn);
    std::array<uint8_t, mr::kBlockSize> block{};
    if (last < appended_end_) {
      if (::pread(out_fd_, block.data(), block.size(), off_t(data_offset(last))) != off_t(block.size()))
        return errno_status(ExitCode::kPath, "cannot read back", out_path_, errno);
    } else if (partial_start_ == last) {
      block = partial_;
    } else {
      return Status::error(ExitCode::kInternal, "the redo block holding the end LSN was never read");
    }
    if (!mr::trim_last_block(block, end_lsn))
      return Status::error(ExitCode::kInternal, "cannot end the redo log at " + std::to_string(end_lsn));
    const uint64_t data_bytes = last + mr::kBlockSize - start_block_;
    auto size = mr::recovery_file_size(data_bytes);
    if (!size)
      return Status::error(ExitCode::kUnsupported, "the redo to keep (" + std::to_string(data_bytes) +
                                                       " bytes) needs more than one redo file, not supported yet");
    std::random_device rd;
    uint32_t uuid = 0;
    while (uuid == 0) uuid = rd();
    auto header = mr::build_header_area(checkpoint_, uuid, creator_);
    if (!header) return Status::error(ExitCode::kInternal, "cannot build a redo header for creator '" + creator_ + "'");
    // Everything after E goes: blocks appended past it are cut off, the rest of the file is zeros.
    if (::pwrite(out_fd_, block.data(), block.size(), off_t(data_offset(last))) != off_t(block.size()) ||
        ::ftruncate(out_fd_, off_t(data_offset(last) + mr::kBlockSize)) != 0 ||
        ::ftruncate(out_fd_, off_t(*size)) != 0 ||
        ::pwrite(out_fd_, header->data(), header->size(), 0) != off_t(header->size()) || ::fsync(out_fd_) != 0)
      return errno_status(ExitCode::kPath, "cannot write", out_path_, errno);
    return sync_directory(config_.target_dir + "/" + kRedoDir);
  }

  Status publish() override { return Status::ok(); }  // the #clone marker guards MySQL targets

  Status health() override { return loop_.health(); }

  void abort() override { loop_.stop(); }

 private:
  uint64_t data_offset(Lsn block_start) const { return mr::kHeaderAreaSize + (block_start - start_block_); }

  // Opens #ib_redoN files not seen yet and re-reads the header of known ones (a reused file
  // gets a new start LSN).
  Status refresh_files() {
    const std::string dir = config_.source_datadir + "/" + kRedoDir;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return errno_status(ExitCode::kSourceIo, "cannot read", dir, errno);
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.rfind("#ib_redo", 0) != 0 || name.size() == 8 || name.find('_', 8) != std::string::npos) continue;
      if (files_.count(name)) continue;
      SourceFile f;
      auto fd = open_for_direct_read(dir + "/" + name, f.direct);
      if (!fd.is_ok()) continue;  // recycled between readdir and open
      f.fd = *fd;
      files_[name] = f;
    }
    ::closedir(d);
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
    const Lsn pos = appended_end_;
    if (pos > end_lsn_.load()) return false;  // the block holding E is copied: nothing more needed
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
    const ssize_t n = ssize_t(*got);
    size_t full = 0;
    bool progressed = false;
    for (size_t off = 0; off + mr::kBlockSize <= size_t(n); off += mr::kBlockSize) {
      const Lsn block_lsn = pos + off;
      mr::ConstBlock block(buf.data() + off, mr::kBlockSize);
      const mr::BlockVerdict v = mr::classify_block(block, block_lsn);
      if (v.state == mr::BlockState::kFull) {
        full += mr::kBlockSize;
        continue;
      }
      if (v.state == mr::BlockState::kPartial) {
        if (v.end_lsn > partial_end_ || block_lsn != partial_start_) {
          std::copy(block.begin(), block.end(), partial_.begin());
          partial_start_ = block_lsn;
          partial_end_ = v.end_lsn;
          progressed = true;
        }
      } else if (v.state == mr::BlockState::kOverwritten) {
        return redo_lost(block_lsn, content_lsn(block), config_.source_capacity, "innodb_redo_log_capacity");
      } else if (v.state == mr::BlockState::kMalformed) {
        return Status::error(ExitCode::kSourceIo, "malformed redo block at LSN " + std::to_string(block_lsn));
      }
      break;  // partial or not written yet: read again from here next time
    }
    if (full) {
      if (config_.throttle)
        if (Status s = config_.throttle->take(full); !s.is_ok()) return s;
      if (::pwrite(out_fd_, buf.data(), full, off_t(data_offset(pos))) != off_t(full))
        return errno_status(ExitCode::kPath, "cannot write", out_path_, errno);
      appended_end_ = pos + full;
      progressed = true;
    }
    idle_ = !progressed;
    if (config_.consumer_advance && appended_end_ > consumer_lsn_ &&
        std::chrono::steady_clock::now() - consumer_advanced_ > kConsumerPeriod) {
      // Only full blocks on our disk count as copied.
      if (Status s = config_.consumer_advance(appended_end_); !s.is_ok()) return s;
      consumer_lsn_ = appended_end_;
      consumer_advanced_ = std::chrono::steady_clock::now();
    }
    loop_.publish(partial_start_ == appended_end_ ? std::max(appended_end_, partial_end_) : appended_end_);
    return progressed;
  }

  RedoArchiverConfig config_;
  std::map<std::string, SourceFile> files_;
  Lsn checkpoint_ = 0;
  std::string creator_;
  Lsn start_block_ = 0;
  Lsn appended_end_ = 0;  // end of the full blocks written to the target
  std::array<uint8_t, mr::kBlockSize> partial_{};
  Lsn partial_start_ = 0, partial_end_ = 0;
  bool idle_ = false;
  std::atomic<Lsn> end_lsn_{~Lsn(0)};
  Lsn consumer_lsn_ = 0;
  std::chrono::steady_clock::time_point consumer_advanced_{};
  std::string out_path_;
  int out_fd_ = -1;
  TailLoop loop_;  // last: its thread stops before the members it uses go
};

}  // namespace

std::unique_ptr<RedoArchiver> make_mysql_redo_archiver(RedoArchiverConfig config) {
  return std::make_unique<MysqlRedoArchiver>(std::move(config));
}

Status redo_lost(innodb::Lsn needed, innodb::Lsn server_reached, uint64_t capacity, const std::string& setting) {
  const bool mysql = setting == "innodb_redo_log_capacity";
  return Status::error(ExitCode::kRedoLost,
                       "redo lost: the copy needed redo from LSN " + std::to_string(needed) +
                           " but the server, already at LSN " + std::to_string(server_reached) +
                           ", had overwritten it; the redo log (" + setting + " = " + std::to_string(capacity >> 20) +
                           " MiB) is too small for the write load during the copy: make it larger, copy faster "
                           "(higher or no --max-rate)" +
                           (mysql ? ", or use --redo-consumer (the server then waits for the copy)" : ""));
}

}  // namespace mysqlclone
