// MariaDB 10.8+: copies whole mini-transactions out of the circular ib_logfile0 and lays them
// out from offset 12288 of the target's ib_logfile0 with first_lsn = C, setting every
// terminator byte to 1 (the first pass of a file that never wraps) — mariabackup's layout,
// which the stock server recovers from (innodb-formats.md §4.3, §5.4).
//
// Which bytes of the ring are log of this LSN is not something the bytes can tell:
// - the server writes whole blocks, and the rest of its last block is left-over buffer bytes,
//   which can hold whole mini-transactions of an earlier LSN with the right terminator and CRC
//   (seen on 10.11: taken, they were followed by bytes that never parsed, and the tailer stalled
//   until the log was lost); a read racing a write can also tear;
// - the sequence bit only tells adjacent passes apart, so a reader lapped twice would see
//   valid-looking bytes of the wrong pass.
// So the server is asked (ServerLog): only log below its flushed LSN F, asked before the read,
// is taken; and bytes read at LSN x were intact when read if its current LSN W, asked after the
// read, is below x + capacity (the server never writes more than one capacity ahead of what it
// overwrites).
//
// The output is appended front to back: the header area at start (as ib_logfile0 of a backup,
// under a temporary name that publish() renames into ib_logfile0: the server refuses a datadir
// without one), then mini-transactions as they are copied, then zeros.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "innodb/redo_mariadb.h"
#include "libclone/base/log.h"
#include "libclone/io/read_file.h"
#include "libclone/redo/redo_archiver.h"
#include "libclone/redo/tail_loop.h"

namespace mysqlclone {
namespace {

namespace md = innodb::mariadb_redo;
using innodb::Lsn;

constexpr size_t kViewBytes = 2 * md::kMtrSizeMax;  // always room for one whole mini-transaction
// How often the server is asked while there is nothing final to read.
constexpr auto kPollPeriod = std::chrono::milliseconds(20);
// Log below the flushed LSN that does not parse this long is worth a warning naming the bytes.
constexpr auto kStuckWarning = std::chrono::seconds(10);
constexpr uint64_t kFileSlack = 2 << 20;
const char* const kPartialName = "ib_logfile0.mysqlclone-partial";
const char* const kFinalName = "ib_logfile0";

class MariadbRedoArchiver : public RedoArchiver {
 public:
  explicit MariadbRedoArchiver(RedoArchiverConfig config) : config_(std::move(config)) {}
  ~MariadbRedoArchiver() override {
    loop_.stop();
    if (in_fd_ >= 0) ::close(in_fd_);
  }

  Status start() override {
    const std::string in_path = config_.source_datadir + "/ib_logfile0";
    auto fd = open_for_direct_read(in_path, in_direct_);
    if (!fd.is_ok()) return fd.status();
    in_fd_ = *fd;
    std::vector<uint8_t> area(md::kStartOffset);
    struct stat st {};
    auto n = read_fully(in_fd_, in_direct_, 0, area, in_path);
    if (!n.is_ok()) return n.status();
    if (*n != area.size() || ::fstat(in_fd_, &st) != 0)
      return errno_status(ExitCode::kSourceIo, "cannot read", in_path, errno);
    const md::ParsedHeader parsed = md::parse_header(area);
    if (parsed.status != md::HeaderStatus::kValid)
      return Status::error(ExitCode::kSourceIo, in_path + ": not a MariaDB 10.8+ redo log header");
    header_ = parsed.header;
    encryption_ = md::encryption_of(header_);
    if (encryption_ != md::Encryption::kNone)
      return Status::error(ExitCode::kUnsupported, "the server's redo log is encrypted; not supported yet");
    ring_ = md::Ring{header_.first_lsn, md::ring_capacity(uint64_t(st.st_size))};
    auto cp = md::choose_checkpoint(area, header_.first_lsn);
    if (!cp) return Status::error(ExitCode::kSourceIo, in_path + ": no valid checkpoint");
    checkpoint_ = *cp;
    pos_ = cp->checkpoint;
    loop_.publish(pos_);

    auto out = config_.storage->create(kPartialName);
    if (!out.is_ok()) return out.status();
    out_ = std::move(out).value();
    // "MariaDB 10.11.19" -> "10.11.19": the backup creator is "Backup " + that.
    std::string version = header_.creator;
    if (auto space = version.find(' '); space != std::string::npos) version = version.substr(space + 1);
    if (Status s = out_->append(md::backup_header_area(header_, checkpoint_, version)); !s.is_ok()) return s;
    loop_.start([this, view = std::vector<uint8_t>(kViewBytes), out = std::vector<uint8_t>()]() mutable {
      return step(view, out);
    });
    return Status::ok();
  }

  Lsn checkpoint_lsn() const override { return checkpoint_.checkpoint; }
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
    if (pos_ != end_lsn) return not_a_boundary(end_lsn);
    if (file_checkpoint_end_ == 0 || file_checkpoint_end_ > end_lsn)
      return Status::error(ExitCode::kSourceIo, "the copied redo log lacks the FILE_CHECKPOINT record for LSN " +
                                                    std::to_string(checkpoint_.checkpoint));
    if (Status s = out_->extend_to(md::backup_file_size(end_lsn - checkpoint_.checkpoint, kFileSlack)); !s.is_ok())
      return s;
    return out_->close();
  }

  // The server refuses a datadir without ib_logfile0: it appears only now, complete (the
  // target's completion makes the name durable).
  Status publish() override { return config_.storage->rename(kPartialName, kFinalName); }

  Status health() override { return loop_.health(); }

  void abort() override { loop_.stop(); }

 private:
  // Reads `n` bytes of the ring from LSN `lsn`, across the wrap point when needed.
  Status read_ring(Lsn lsn, std::span<uint8_t> out) {
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t off = md::file_offset(ring_, lsn + done);
      const size_t run = size_t(std::min<uint64_t>(out.size() - done, md::kStartOffset + ring_.capacity - off));
      auto n = read_fully(in_fd_, in_direct_, off, out.subspan(done, run), "ib_logfile0");
      if (!n.is_ok()) return n.status();
      if (*n != run) return Status::error(ExitCode::kSourceIo, "ib_logfile0 is shorter than its ring");
      done += run;
    }
    return Status::ok();
  }

  // Where the next mini-transaction to read starts: after what is appended and what is held.
  Lsn next_lsn() const { return pos_ + pending_.size(); }

  Status append(const uint8_t* data, size_t n) {
    if (Status s = out_->append(std::span<const uint8_t>(data, n)); !s.is_ok()) return s;
    pos_ += n;
    return Status::ok();
  }

  static Status not_a_boundary(Lsn end) {
    return Status::error(ExitCode::kInternal, "end LSN " + std::to_string(end) +
                                                  " is not the end of a mini-transaction copied from the log");
  }

  // E is known: the held mini-transactions that end at or before E go out, the rest is dropped.
  // E must be where they start (all of them after E), one of their ends, or lie ahead of them all.
  Status release_pending(Lsn end) {
    size_t keep = pending_.size();
    if (end < next_lsn()) {
      if (end != pos_ && !std::binary_search(pending_ends_.begin(), pending_ends_.end(), end))
        return not_a_boundary(end);
      keep = size_t(end - pos_);
    }
    Status s = append(pending_.data(), keep);
    std::vector<uint8_t>().swap(pending_);
    pending_ends_.clear();
    return s;
  }

  // Asks the server how far its log goes: fails when it has lapped `from` (the bytes read there
  // may be of a later pass), else raises the flushed LSN that bounds the next read.
  Status ask_server(Lsn from) {
    last_query_ = std::chrono::steady_clock::now();
    auto server = config_.server_log();
    if (!server.is_ok()) return server.status();
    if (server->current >= from + ring_.capacity)
      return redo_lost(from, server->current, ring_.capacity + md::kStartOffset, "innodb_log_file_size");
    flushed_ = std::max(flushed_, server->flushed);
    server_current_ = server->current;
    report();
    return Status::ok();
  }

  void report() {
    if (config_.progress) config_.progress->record(checkpoint_.checkpoint, pos_, server_current_);
  }

  // Parses what the server has flushed since next_lsn(); returns whether anything was copied.
  Result<bool> step(std::vector<uint8_t>& view, std::vector<uint8_t>& out) {
    const Lsn end = end_lsn_.load();
    if (end != kNoEndLsn) {
      // Only log read before E was asked for can have been appended without waiting for it.
      if (pos_ > end) return not_a_boundary(end);
      if (!pending_.empty())
        if (Status s = release_pending(end); !s.is_ok()) return s;
      if (pos_ == end) {
        loop_.publish(end);
        return false;
      }
    } else if (pending_.size() >= kRedoHoldBytes) {
      return false;  // E comes soon: wait for it rather than hold more
    }
    const Lsn from = next_lsn();
    const auto now = std::chrono::steady_clock::now();
    if (from >= flushed_) {  // nothing final to read yet
      if (now - last_query_ < kPollPeriod) return false;
      if (Status s = ask_server(from); !s.is_ok()) return s;
      return flushed_ > from;  // read at once when there is
    }
    // Every whole mini-transaction below F fits: none is as long as kMtrSizeMax.
    const size_t want = size_t(std::min<uint64_t>({flushed_ - from, kViewBytes, ring_.capacity}));
    if (Status s = read_ring(from, std::span<uint8_t>(view.data(), want)); !s.is_ok()) return s;
    // Read before hold() returned means read before E was asked for: it all ends at or before E.
    const bool held = held_.load();
    out.clear();
    Lsn lsn = from;
    std::vector<Lsn> ends;
    md::MiniTransaction first;
    for (size_t off = 0; off < want;) {
      if (lsn >= end) break;  // nothing after E is needed
      const md::MiniTransaction m =
          md::parse_mini_transaction(std::span<const uint8_t>(view.data() + off, want - off), lsn, ring_, encryption_);
      if (off == 0) first = m;
      if (m.status == md::MtrStatus::kCorrupt)
        return Status::error(ExitCode::kSourceIo, "corrupt redo record at LSN " + std::to_string(lsn));
      if (m.status != md::MtrStatus::kComplete) break;  // the rest lies beyond F (or was lapped)
      if (lsn + m.size > end) return not_a_boundary(end);
      const size_t at = out.size();
      out.insert(out.end(), view.begin() + long(off), view.begin() + long(off + m.size));
      md::set_first_pass_terminator(std::span<uint8_t>(out.data() + at, m.size), m);
      if (file_checkpoint_end_ == 0 && md::holds_file_checkpoint(m, checkpoint_.checkpoint))
        file_checkpoint_end_ = lsn + m.size;
      off += m.size;
      lsn += m.size;
      ends.push_back(lsn);
    }
    if (out.empty()) {
      // Log below F that does not parse: lapped (the lap check says so), or bytes we cannot
      // follow, which the warning names long before the lap check calls the redo lost.
      if (now - last_query_ < kPollPeriod) return false;
      if (Status s = ask_server(from); !s.is_ok()) return s;
      warn_if_stuck(from, first, std::span<const uint8_t>(view.data(), want), now);
      return false;
    }
    stuck_since_ = {};
    // Were the bytes intact when read? Only if the server had not yet written a full lap past them.
    if (Status s = ask_server(from); !s.is_ok()) return s;
    if (held && end == kNoEndLsn) {
      pending_.insert(pending_.end(), out.begin(), out.end());
      pending_ends_.insert(pending_ends_.end(), ends.begin(), ends.end());
    } else if (Status s = append(out.data(), out.size()); !s.is_ok()) {
      return s;
    }
    loop_.publish(pos_);
    report();
    return true;
  }

  // The server has flushed past `from` (and has for a while) but the bytes there do not parse:
  // says what they are, once per place.
  void warn_if_stuck(Lsn from, const md::MiniTransaction& m, std::span<const uint8_t> bytes,
                     std::chrono::steady_clock::time_point now) {
    if (stuck_since_ == std::chrono::steady_clock::time_point{}) stuck_since_ = now;
    if (now - stuck_since_ < kStuckWarning || stuck_warned_at_ == from) return;
    stuck_warned_at_ = from;
    log_warning("redo tailer: the server has flushed its log up to LSN {}, but the log at LSN {} (ib_logfile0 "
                "offset {}) has not parsed for {} s (status {}, defect {}, first bytes {:02x})",
                flushed_, from, md::file_offset(ring_, from),
                std::chrono::duration_cast<std::chrono::seconds>(now - stuck_since_).count(), int(m.status),
                int(m.defect), fmt::join(bytes.first(std::min<size_t>(bytes.size(), 24)), " "));
  }

  RedoArchiverConfig config_;
  int in_fd_ = -1;
  bool in_direct_ = false;
  std::unique_ptr<StorageFile> out_;
  md::Header header_;
  md::Encryption encryption_ = md::Encryption::kNone;
  md::Ring ring_;
  md::Checkpoint checkpoint_;
  Lsn pos_ = 0;                   // end of the mini-transactions appended to the target
  std::vector<uint8_t> pending_;  // mini-transactions read after hold(), from pos_ on
  std::vector<Lsn> pending_ends_;  // their ends
  Lsn file_checkpoint_end_ = 0;   // end of the mini-transaction holding FILE_CHECKPOINT for C
  std::atomic<bool> held_{false};
  std::atomic<Lsn> end_lsn_{kNoEndLsn};
  Lsn flushed_ = 0;  // the server's flushed LSN as last asked: log below it is final
  Lsn server_current_ = 0;  // its current LSN as last asked
  std::chrono::steady_clock::time_point last_query_{};
  std::chrono::steady_clock::time_point stuck_since_{};  // log below F has not parsed since
  Lsn stuck_warned_at_ = 0;
  TailLoop loop_;  // last: its thread stops before the members it uses go
};

}  // namespace

std::unique_ptr<RedoArchiver> make_mariadb_redo_archiver(RedoArchiverConfig config) {
  return std::make_unique<MariadbRedoArchiver>(std::move(config));
}

}  // namespace mysqlclone
