// MariaDB 10.8+: copies whole mini-transactions out of the circular ib_logfile0 and lays them
// out from offset 12288 of the target's ib_logfile0 with first_lsn = C, setting every
// terminator byte to 1 (the first pass of a file that never wraps) — mariabackup's layout,
// which the stock server recovers from (innodb-formats.md §4.3, §5.4).
//
// The ring's sequence bit only tells adjacent passes apart, so a reader lapped twice would see
// valid-looking bytes of the wrong pass. After every read the server's current LSN W is asked:
// bytes read at LSN x were intact when read if W < x + capacity (the server never writes more
// than one capacity ahead of what it overwrites).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <vector>

#include "innodb/redo_mariadb.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/read_file.h"
#include "libclone/redo/redo_archiver.h"
#include "libclone/redo/tail_loop.h"

namespace mysqlclone {
namespace {

namespace mr = innodb::mariadb_redo;
using innodb::Lsn;

constexpr size_t kViewBytes = 2 * mr::kMtrSizeMax;  // always room for one whole mini-transaction
constexpr size_t kProbeBytes = 16 << 10;
constexpr auto kLapCheckPeriod = std::chrono::milliseconds(50);
// Mini-transaction ends are remembered this far back: E is told to the tailer right after it is
// read, so the tailer can only have gone a little past it.
constexpr uint64_t kBoundaryWindow = 32ull << 20;
constexpr uint64_t kFileSlack = 2 << 20;

class MariadbRedoArchiver : public RedoArchiver {
 public:
  explicit MariadbRedoArchiver(RedoArchiverConfig config) : config_(std::move(config)) {}
  ~MariadbRedoArchiver() override {
    loop_.stop();
    if (in_fd_ >= 0) ::close(in_fd_);
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  Status start() override {
    const std::string in_path = config_.source_datadir + "/ib_logfile0";
    auto fd = open_for_direct_read(in_path, in_direct_);
    if (!fd.is_ok()) return fd.status();
    in_fd_ = *fd;
    std::vector<uint8_t> area(mr::kStartOffset);
    struct stat st {};
    auto n = read_fully(in_fd_, in_direct_, 0, area, in_path);
    if (!n.is_ok()) return n.status();
    if (*n != area.size() || ::fstat(in_fd_, &st) != 0)
      return errno_status(ExitCode::kSourceIo, "cannot read", in_path, errno);
    const mr::ParsedHeader parsed = mr::parse_header(area);
    if (parsed.status != mr::HeaderStatus::kValid)
      return Status::error(ExitCode::kSourceIo, in_path + ": not a MariaDB 10.8+ redo log header");
    header_ = parsed.header;
    encryption_ = mr::encryption_of(header_);
    if (encryption_ != mr::Encryption::kNone)
      return Status::error(ExitCode::kUnsupported, "the server's redo log is encrypted; not supported yet");
    ring_ = mr::Ring{header_.first_lsn, mr::ring_capacity(uint64_t(st.st_size))};
    auto cp = mr::choose_checkpoint(area, header_.first_lsn);
    if (!cp) return Status::error(ExitCode::kSourceIo, in_path + ": no valid checkpoint");
    checkpoint_ = *cp;
    pos_ = cp->checkpoint;
    loop_.publish(pos_);
    boundaries_.push_back(pos_);

    out_path_ = config_.target_dir + "/ib_logfile0.mysqlclone-partial";
    out_fd_ = ::open(out_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out_fd_ < 0) return errno_status(ExitCode::kPath, "cannot create", out_path_, errno);
    // "MariaDB 10.11.19" -> "10.11.19": the backup creator is "Backup " + that.
    std::string version = header_.creator;
    if (auto space = version.find(' '); space != std::string::npos) version = version.substr(space + 1);
    const std::vector<uint8_t> head = mr::backup_header_area(header_, checkpoint_, version);
    if (::pwrite(out_fd_, head.data(), head.size(), 0) != off_t(head.size()))
      return errno_status(ExitCode::kPath, "cannot write", out_path_, errno);
    loop_.start([this, view = std::vector<uint8_t>(kViewBytes), out = std::vector<uint8_t>()]() mutable {
      return step(view, out);
    });
    return Status::ok();
  }

  Lsn checkpoint_lsn() const override { return checkpoint_.checkpoint; }
  void set_end_lsn(Lsn end_lsn) override { end_lsn_ = end_lsn; }
  Lsn copied_lsn() const override { return loop_.copied(); }

  Status finish_at(Lsn end_lsn, std::chrono::seconds timeout) override {
    if (Status s = loop_.wait_and_stop(end_lsn, timeout); !s.is_ok()) return s;
    if (std::find(boundaries_.begin(), boundaries_.end(), end_lsn) == boundaries_.end())
      return Status::error(ExitCode::kInternal, "end LSN " + std::to_string(end_lsn) +
                                                    " is not the end of a mini-transaction copied from the log");
    if (!saw_file_checkpoint_)
      return Status::error(ExitCode::kSourceIo, "the copied redo log lacks the FILE_CHECKPOINT record for LSN " +
                                                    std::to_string(checkpoint_.checkpoint));
    const uint64_t data = end_lsn - checkpoint_.checkpoint;
    if (::ftruncate(out_fd_, off_t(mr::kStartOffset + data)) != 0 ||
        ::ftruncate(out_fd_, off_t(mr::backup_file_size(data, kFileSlack))) != 0 || ::fsync(out_fd_) != 0)
      return errno_status(ExitCode::kPath, "cannot write", out_path_, errno);
    return Status::ok();
  }

  // The server refuses a datadir without ib_logfile0: it appears only now, complete.
  Status publish() override {
    const std::string final_path = config_.target_dir + "/ib_logfile0";
    if (::rename(out_path_.c_str(), final_path.c_str()) != 0)
      return errno_status(ExitCode::kPath, "cannot rename into", final_path, errno);
    return sync_directory(config_.target_dir);
  }

  Status health() override { return loop_.health(); }

  void abort() override { loop_.stop(); }

 private:
  // Reads `n` bytes of the ring from LSN `lsn`, across the wrap point when needed.
  Status read_ring(Lsn lsn, std::span<uint8_t> out) {
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t off = mr::file_offset(ring_, lsn + done);
      const size_t run = size_t(std::min<uint64_t>(out.size() - done, mr::kStartOffset + ring_.capacity - off));
      auto n = read_fully(in_fd_, in_direct_, off, out.subspan(done, run), "ib_logfile0");
      if (!n.is_ok()) return n.status();
      if (*n != run) return Status::error(ExitCode::kSourceIo, "ib_logfile0 is shorter than its ring");
      done += run;
    }
    return Status::ok();
  }

  // Parses what the server has written since `pos_`; returns whether anything was copied.
  Result<bool> step(std::vector<uint8_t>& view, std::vector<uint8_t>& out) {
    // Small probes while the server is idle, large reads while it writes.
    const size_t want = size_t(std::min<uint64_t>(window_, ring_.capacity));
    if (Status s = read_ring(pos_, std::span<uint8_t>(view.data(), want)); !s.is_ok()) return s;
    out.clear();
    Lsn lsn = pos_;
    std::vector<Lsn> ends;
    for (size_t off = 0; off < want;) {
      const mr::MiniTransaction m =
          mr::parse_mini_transaction(std::span<const uint8_t>(view.data() + off, want - off), lsn, ring_, encryption_);
      if (m.status == mr::MtrStatus::kCorrupt)
        return Status::error(ExitCode::kSourceIo, "corrupt redo record at LSN " + std::to_string(lsn));
      if (m.status == mr::MtrStatus::kNeedMore && off == 0 && window_ < kViewBytes) window_ = kViewBytes;
      if (m.status != mr::MtrStatus::kComplete) break;  // need more / not written yet: later
      if (lsn >= end_lsn_.load()) break;  // nothing after E is needed
      const size_t at = out.size();
      out.insert(out.end(), view.begin() + long(off), view.begin() + long(off + m.size));
      mr::set_first_pass_terminator(std::span<uint8_t>(out.data() + at, m.size), m);
      if (mr::holds_file_checkpoint(m, checkpoint_.checkpoint)) saw_file_checkpoint_ = true;
      off += m.size;
      lsn += m.size;
      ends.push_back(lsn);
    }
    if (out.empty()) {
      if (window_ != kViewBytes) window_ = kProbeBytes;
      // Nothing new may also mean lapped: bytes of a later pass read as "not written yet".
      if (std::chrono::steady_clock::now() - last_lap_check_ > kLapCheckPeriod) {
        last_lap_check_ = std::chrono::steady_clock::now();
        auto server = config_.server_lsn();
        if (!server.is_ok()) return server.status();
        if (*server >= pos_ + ring_.capacity)
          return redo_lost(pos_, *server, ring_.capacity + mr::kStartOffset, "innodb_log_file_size");
      }
      return false;
    }
    window_ = kViewBytes;
    if (config_.throttle)
      if (Status s = config_.throttle->take(out.size()); !s.is_ok()) return s;
    // Were the bytes intact when read? Only if the server had not yet written a full lap past them.
    auto server = config_.server_lsn();
    if (!server.is_ok()) return server.status();
    if (*server >= pos_ + ring_.capacity)
      return redo_lost(pos_, *server, ring_.capacity + mr::kStartOffset, "innodb_log_file_size");
    const off_t at = off_t(mr::kStartOffset + (pos_ - checkpoint_.checkpoint));
    if (::pwrite(out_fd_, out.data(), out.size(), at) != off_t(out.size()))
      return errno_status(ExitCode::kPath, "cannot write", out_path_, errno);
    pos_ = lsn;
    boundaries_.insert(boundaries_.end(), ends.begin(), ends.end());
    while (!boundaries_.empty() && boundaries_.front() + kBoundaryWindow < pos_) boundaries_.pop_front();
    loop_.publish(pos_);
    return true;
  }

  RedoArchiverConfig config_;
  int in_fd_ = -1, out_fd_ = -1;
  bool in_direct_ = false;
  std::string out_path_;
  mr::Header header_;
  mr::Encryption encryption_ = mr::Encryption::kNone;
  mr::Ring ring_;
  mr::Checkpoint checkpoint_;
  Lsn pos_ = 0;
  std::atomic<Lsn> end_lsn_{~Lsn(0)};
  size_t window_ = kViewBytes;
  std::chrono::steady_clock::time_point last_lap_check_{};
  bool saw_file_checkpoint_ = false;
  std::deque<Lsn> boundaries_;  // mini-transaction ends of the last kBoundaryWindow bytes
  TailLoop loop_;  // last: its thread stops before the members it uses go
};

}  // namespace

std::unique_ptr<RedoArchiver> make_mariadb_redo_archiver(RedoArchiverConfig config) {
  return std::make_unique<MariadbRedoArchiver>(std::move(config));
}

}  // namespace mysqlclone
