// Both redo archivers and their tail loop, end to end through the Storage interface: a fake
// source datadir on disk is written and mutated step by step as a server would (real log bytes
// from test/fixtures where they exist, MYSQL_REDO.txt / MARIADB_REDO.txt), and the output lands
// in a recording Storage that can only append — its write_at fails — which proves the archivers
// never need random access, never read back and never cut their output.
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "innodb/byte_order.h"
#include "innodb/redo_mariadb.h"
#include "innodb/redo_mysql.h"
#include "libclone/redo/redo_archiver.h"
#include "test/unit/test_datadir.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::load;

using namespace mysqlclone;
using innodb::Lsn;
using Bytes = std::vector<uint8_t>;
namespace fs = std::filesystem;

// ---- an append-only Storage that records what reaches it ------------------------------------

struct RecordedFile {
  Bytes bytes;
  uint64_t appended = 0;  // bytes that came through append() (the rest: extend_to zeros)
  bool closed = false;
};

class RecordingStorage : public Storage {
 public:
  class File : public StorageFile {
   public:
    File(RecordingStorage& s, std::string name) : s_(s), name_(std::move(name)) {}
    Status append(std::span<const uint8_t> bytes) override {
      std::lock_guard lock(s_.mutex_);
      RecordedFile& f = s_.files_[name_];
      if (f.closed) return Status::error(ExitCode::kInternal, name_ + ": appended after close");
      f.bytes.insert(f.bytes.end(), bytes.begin(), bytes.end());
      f.appended += bytes.size();
      return Status::ok();
    }
    Status write_at(uint64_t, std::span<const uint8_t>) override {
      return Status::error(ExitCode::kInternal, name_ + ": this storage only appends");
    }
    Status extend_to(uint64_t size) override {
      std::lock_guard lock(s_.mutex_);
      RecordedFile& f = s_.files_[name_];
      if (size > f.bytes.size()) f.bytes.resize(size, 0);
      return Status::ok();
    }
    Status close() override {
      std::lock_guard lock(s_.mutex_);
      s_.files_[name_].closed = true;
      return Status::ok();
    }

   private:
    RecordingStorage& s_;
    std::string name_;
  };

  Result<std::unique_ptr<StorageFile>> create(const std::string& rel_path) override {
    std::lock_guard lock(mutex_);
    if (files_.count(rel_path)) return Status::error(ExitCode::kPath, rel_path + " exists");
    files_[rel_path];
    return std::unique_ptr<StorageFile>(new File(*this, rel_path));
  }
  Status make_dir(const std::string&) override { return Status::ok(); }
  Status remove(const std::string& rel_path) override {
    std::lock_guard lock(mutex_);
    files_.erase(rel_path);
    return Status::ok();
  }
  Status remove_dir(const std::string&) override { return Status::ok(); }
  Status rename(const std::string& from, const std::string& to) override {
    std::lock_guard lock(mutex_);
    if (!files_.count(from)) return Status::error(ExitCode::kPath, from + " missing");
    files_[to] = files_[from];
    files_.erase(from);
    return Status::ok();
  }
  Status put(const std::string& rel_path, const std::string& contents) override {
    std::lock_guard lock(mutex_);
    files_[rel_path] = RecordedFile{Bytes(contents.begin(), contents.end()), contents.size(), true};
    return Status::ok();
  }
  Status sync() override { return Status::ok(); }
  bool random_access() const override { return false; }
  const std::string& describe() const override { return name_; }

  RecordedFile file(const std::string& name) {
    std::lock_guard lock(mutex_);
    return files_.count(name) ? files_[name] : RecordedFile{};
  }
  bool has(const std::string& name) {
    std::lock_guard lock(mutex_);
    return files_.count(name) != 0;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, RecordedFile> files_;
  std::string name_ = "recording storage";
};

// ---- helpers --------------------------------------------------------------------------------

void write_at(const fs::path& path, uint64_t offset, const uint8_t* data, size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekp(std::streamoff(offset));
  f.write(reinterpret_cast<const char*>(data), std::streamsize(n));
}

void create_file(const fs::path& path, uint64_t size) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).close();
  fs::resize_file(path, size);
}

// Polls `done` (every 2 ms, at most 10 s).
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 5000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return done();
}

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// ---- MySQL ----------------------------------------------------------------------------------

namespace mr = innodb::mysql_redo;
using Block = std::array<uint8_t, mr::kBlockSize>;
constexpr size_t kB = mr::kBlockSize;
const char* const kMysqlOut = "#innodb_redo/#ib_redo0";

// The block with only its first data_len bytes in use: the first record group is
// dropped if it lies past them, the bytes after them zeroed, the checksum redone.
Block cut_to_data_len(Block b, uint16_t data_len) {
  innodb::write_be16(b.data() + 4, data_len);
  if (innodb::read_be16(b.data() + 6) > data_len) innodb::write_be16(b.data() + 6, 0);
  if (data_len < mr::kBlockChecksumOffset) std::fill(b.begin() + data_len, b.begin() + mr::kBlockChecksumOffset, 0);
  mr::store_block_checksum(b);
  return b;
}

// A data block as the server writes it for `block_start` (records filled with a pattern).
Block synthetic_block(Lsn block_start, uint16_t data_len) {
  Block b{};
  for (size_t i = mr::kBlockHeaderSize; i < mr::kBlockChecksumOffset; ++i) b[i] = uint8_t(block_start / kB + i);
  innodb::write_be32(b.data(), mr::hdr_no_for(block_start));
  innodb::write_be16(b.data() + 4, mr::kBlockSize);
  innodb::write_be16(b.data() + 6, 12);
  innodb::write_be32(b.data() + 8, mr::epoch_no_for(block_start));
  return cut_to_data_len(b, data_len);
}

Bytes file_header_area(Lsn start_lsn, Lsn checkpoint) {
  Bytes area(mr::kHeaderAreaSize, 0);
  mr::FileHeader h{mr::kFormat8030, 0x7b3bbf3d, start_lsn, "MySQL 9.7.4", 0};
  EXPECT_TRUE(mr::serialize_file_header(h, mr::MutableBlock(area.data(), kB)));
  mr::serialize_checkpoint_block(checkpoint, mr::MutableBlock(area.data() + mr::kCheckpoint1Offset, kB));
  mr::serialize_checkpoint_block(0, mr::MutableBlock(area.data() + mr::kCheckpoint2Offset, kB));
  return area;
}

// A fake #innodb_redo: files of `blocks` data blocks each, written as the server would.
struct MysqlSource {
  explicit MysqlSource(const fs::path& datadir, size_t blocks_per_file = 16) : blocks(blocks_per_file) {
    dir = datadir / "#innodb_redo";
    fs::create_directories(dir);
  }
  uint64_t file_size() const { return mr::kHeaderAreaSize + blocks * kB; }
  Lsn file_start(Lsn base, uint64_t index) const { return base + index * blocks * kB; }
  fs::path path(uint64_t id) const { return dir / ("#ib_redo" + std::to_string(id)); }
  void add_file(uint64_t id, Lsn start_lsn, Lsn checkpoint = 0) {
    create_file(path(id), file_size());
    Bytes area = file_header_area(start_lsn, checkpoint);
    write_at(path(id), 0, area.data(), area.size());
    starts[id] = start_lsn;
  }
  void put_block(uint64_t id, Lsn block_start, const Block& b) {
    write_at(path(id), mr::kHeaderAreaSize + (block_start - starts[id]), b.data(), b.size());
  }
  fs::path dir;
  size_t blocks;
  std::map<uint64_t, Lsn> starts;
};

struct MysqlRun {
  testpages::ScratchDir scratch;
  RecordingStorage storage;
  std::unique_ptr<RedoArchiver> archiver;
  fs::path datadir() const { return scratch.path / "datadir"; }
  void make(uint64_t capacity = 8 << 20, uint64_t span_file_size = 0) {
    RedoArchiverConfig c;
    c.source_datadir = datadir();
    c.storage = &storage;
    c.source_capacity = capacity;
    c.span_file_size = span_file_size;
    archiver = make_mysql_redo_archiver(std::move(c));
  }
};

// The redo a stock server would recover from, checked field by field: header area for C, the
// source's blocks from the block of C, the block of E trimmed, then only zeros.
void expect_mysql_output(RecordingStorage& storage, Lsn checkpoint, Lsn end,
                         const std::function<Block(Lsn)>& source_block) {
  const RecordedFile out = storage.file(kMysqlOut);
  ASSERT_TRUE(out.closed);
  const Lsn first = mr::block_start_of(checkpoint), last = mr::block_start_of(end);
  // Nothing past E reached the storage: exactly the header and the blocks through E's.
  ASSERT_EQ(out.appended, mr::kHeaderAreaSize + (last + kB - first));
  ASSERT_EQ(out.bytes.size(), *mr::recovery_file_size(last + kB - first));
  auto header = mr::parse_file_header(mr::ConstBlock(out.bytes.data(), kB));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->start_lsn, first);
  EXPECT_EQ(header->creator, "MySQL 9.7.4");
  EXPECT_EQ(header->flags, 0u);
  EXPECT_EQ(mr::parse_checkpoint_block(mr::ConstBlock(out.bytes.data() + mr::kCheckpoint1Offset, kB)), checkpoint);
  EXPECT_EQ(mr::parse_checkpoint_block(mr::ConstBlock(out.bytes.data() + mr::kCheckpoint2Offset, kB)), checkpoint);
  for (Lsn b = first; b < last; b += kB) {
    const Block want = source_block(b);
    ASSERT_TRUE(std::equal(want.begin(), want.end(), out.bytes.begin() + long(mr::kHeaderAreaSize + (b - first))))
        << "block at LSN " << b;
  }
  Block trimmed = source_block(last);
  ASSERT_TRUE(mr::trim_last_block(trimmed, end));
  const auto at = out.bytes.begin() + long(mr::kHeaderAreaSize + (last - first));
  EXPECT_TRUE(std::equal(trimmed.begin(), trimmed.end(), at));
  const mr::BlockVerdict v = mr::classify_block(mr::ConstBlock(&*at, kB), last);
  EXPECT_EQ(v.state, mr::BlockState::kPartial);
  EXPECT_EQ(v.end_lsn, end);
  EXPECT_TRUE(std::all_of(at + kB, out.bytes.end(), [](uint8_t x) { return x == 0; }));
}

// Real blocks of #ib_redo573 (MYSQL_REDO.txt): the server's own bytes, grown and torn as the
// server wrote them, the copy held at hold() and cut at an E inside a full block.
TEST(MysqlRedoArchiver, RealBlocksTornBlockGrowsAndTheCopyEndsExactlyAtE) {
  const Bytes fx = load("mysql-redo-573-start.bin");
  ASSERT_EQ(fx.size(), 18432u);
  const Lsn start = 167294976;
  auto real = [&](Lsn b) {
    Block blk;
    std::copy_n(fx.begin() + long(mr::kHeaderAreaSize + (b - start)), kB, blk.begin());
    return blk;
  };
  ASSERT_EQ(mr::classify_block(real(start + 22 * kB), start + 22 * kB).state, mr::BlockState::kFull);
  ASSERT_EQ(mr::classify_block(real(start + 23 * kB), start + 23 * kB).end_lsn, 167306752u + 461);
  MysqlRun run;
  MysqlSource src(run.datadir(), 32);
  // C: where a mini-transaction starts in the second block (its first_rec_group).
  const Lsn checkpoint = start + kB + innodb::read_be16(real(start + kB).data() + 6);
  ASSERT_TRUE(mr::is_mtr_boundary(checkpoint));
  src.add_file(573, start, checkpoint);
  for (size_t i = 0; i < 4; ++i) src.put_block(573, start + i * kB, real(start + i * kB));
  src.put_block(573, start + 4 * kB, cut_to_data_len(real(start + 4 * kB), 100));  // torn: the log ends inside
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  EXPECT_EQ(run.archiver->checkpoint_lsn(), checkpoint);
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= start + 4 * kB; }));
  // The partial block grows, then fills: only the full one may reach the target.
  src.put_block(573, start + 4 * kB, cut_to_data_len(real(start + 4 * kB), 300));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(run.storage.file(kMysqlOut).appended, mr::kHeaderAreaSize + 3 * kB);  // blocks 1..3 (from C's)
  for (size_t i = 4; i < 10; ++i) src.put_block(573, start + i * kB, real(start + i * kB));
  src.put_block(573, start + 10 * kB, cut_to_data_len(real(start + 10 * kB), 200));
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= start + 10 * kB; }));
  // hold(), then the server writes on, then E is read: inside block 14, which is full by now.
  run.archiver->hold();
  for (size_t i = 10; i < 24; ++i) src.put_block(573, start + i * kB, real(start + i * kB));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(run.storage.file(kMysqlOut).appended, mr::kHeaderAreaSize + 9 * kB);  // held in memory
  const Lsn end = start + 14 * kB + 250;
  run.archiver->set_end_lsn(end);
  ASSERT_TRUE(run.archiver->finish_at(end, std::chrono::seconds(10)).is_ok());
  EXPECT_EQ(run.archiver->copied_lsn(), end);
  ASSERT_TRUE(run.archiver->publish().is_ok());
  expect_mysql_output(run.storage, checkpoint, end, real);
}

// A span longer than one output file: full files of exactly the given size, then the last one
// with the slack; contiguous LSN ranges, one uuid, the checkpoint only in the file that holds
// it, every block in order (MySQL 9.7.4 recovers such a set, redo_mysql.h).
TEST(MysqlRedoArchiver, ALongSpanFillsFileAfterFileWithContiguousRanges) {
  MysqlRun run;
  constexpr size_t kSourceBlocks = 2048;  // 1 MiB of blocks per source file
  MysqlSource src(run.datadir(), kSourceBlocks);
  const Lsn base = 1 << 20, checkpoint = base + 40;
  const Lsn last = src.file_start(base, 3) - kB;  // the last block of the third file holds E
  auto source_block = [&](Lsn b) { return synthetic_block(b, b == last ? 200 : kB); };
  for (uint64_t f = 0; f < 3; ++f) {
    src.add_file(10 + f, src.file_start(base, f), f == 0 ? checkpoint : 0);
    for (size_t i = 0; i < kSourceBlocks; ++i) {
      const Lsn b = src.file_start(base, f) + i * kB;
      src.put_block(10 + f, b, source_block(b));
    }
  }
  const uint64_t file_size = 1 << 20;
  run.make(8 << 20, file_size);
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= last; }));
  run.archiver->hold();
  const Lsn end = last + 150;
  run.archiver->set_end_lsn(end);
  ASSERT_TRUE(run.archiver->finish_at(end, std::chrono::seconds(10)).is_ok());

  const uint64_t per_file = file_size - mr::kHeaderAreaSize;  // data bytes of a full file
  const uint64_t data = last + kB - base;
  const size_t files = size_t((data + per_file - 1) / per_file);
  ASSERT_EQ(files, 4u);
  EXPECT_FALSE(run.storage.has("#innodb_redo/#ib_redo4"));
  std::optional<mr::FileHeader> first_header;
  for (size_t k = 0; k < files; ++k) {
    const RecordedFile out = run.storage.file("#innodb_redo/#ib_redo" + std::to_string(k));
    ASSERT_TRUE(out.closed) << k;
    const uint64_t in_file = std::min(per_file, data - k * per_file);
    ASSERT_EQ(out.appended, mr::kHeaderAreaSize + in_file) << k;
    ASSERT_EQ(out.bytes.size(), k + 1 < files ? file_size : *mr::recovery_file_size(in_file)) << k;
    auto header = mr::parse_file_header(mr::ConstBlock(out.bytes.data(), kB));
    ASSERT_TRUE(header) << k;
    if (!first_header) first_header = header;
    EXPECT_EQ(header->start_lsn, base + k * per_file) << k;
    EXPECT_EQ(header->log_uuid, first_header->log_uuid) << k;
    EXPECT_EQ(header->creator, "MySQL 9.7.4") << k;
    EXPECT_EQ(header->flags, 0u) << k;
    const Lsn cp = k == 0 ? checkpoint : 0;
    EXPECT_EQ(mr::parse_checkpoint_block(mr::ConstBlock(out.bytes.data() + mr::kCheckpoint1Offset, kB)), cp) << k;
    EXPECT_EQ(mr::parse_checkpoint_block(mr::ConstBlock(out.bytes.data() + mr::kCheckpoint2Offset, kB)), cp) << k;
    for (uint64_t off = 0; off < in_file; off += kB) {
      const Lsn b = header->start_lsn + off;
      Block want = source_block(b);
      if (b == last) {
        ASSERT_TRUE(mr::trim_last_block(want, end));
      }
      ASSERT_TRUE(std::equal(want.begin(), want.end(), out.bytes.begin() + long(mr::kHeaderAreaSize + off)))
          << "block at LSN " << b << " in file " << k;
    }
  }
}

// E at the end of a block's data: the server's LSN of a boundary never falls on the 16 bytes
// around a block edge (12 <= lsn mod 512 <= 507), so a log whose last mini-transaction fills
// block B up to its trailer ends at B + 512 + 12, in the next block, which holds only its
// header (data_len 12). Block B, full, went to the target before hold(); the block holding E
// is the next one, read after E is known and trimmed to data_len 12.
TEST(MysqlRedoArchiver, EndRightAfterAFullBlockAppendedBeforeHold) {
  MysqlRun run;
  MysqlSource src(run.datadir());
  const Lsn base = 1 << 20, checkpoint = base + 40;
  src.add_file(2, base, checkpoint);
  for (size_t i = 0; i < 6; ++i) src.put_block(2, base + i * kB, synthetic_block(base + i * kB, kB));
  src.put_block(2, base + 6 * kB, synthetic_block(base + 6 * kB, 12));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.storage.file(kMysqlOut).appended == mr::kHeaderAreaSize + 6 * kB; }));
  run.archiver->hold();
  const Lsn end = base + 6 * kB + 12;
  ASSERT_TRUE(mr::is_mtr_boundary(end));
  EXPECT_FALSE(mr::is_mtr_boundary(base + 6 * kB));  // "the end of block 5's data" is no LSN a server reports
  run.archiver->set_end_lsn(end);
  ASSERT_TRUE(run.archiver->finish_at(end, std::chrono::seconds(10)).is_ok());
  expect_mysql_output(run.storage, checkpoint, end,
                      [](Lsn b) { return synthetic_block(b, b == (1 << 20) + 6 * kB ? 12 : kB); });
}

// The same for MySQL: E in the partial block the tailer stopped at before hold(), and the blocks
// the server wrote after it (held in memory) are dropped.
TEST(MysqlRedoArchiver, EndInThePartialBlockAtHoldDropsAllHeldAfterIt) {
  MysqlRun run;
  MysqlSource src(run.datadir());
  const Lsn base = 1 << 20, checkpoint = base + 40;
  src.add_file(2, base, checkpoint);
  for (size_t i = 0; i < 4; ++i) src.put_block(2, base + i * kB, synthetic_block(base + i * kB, kB));
  src.put_block(2, base + 4 * kB, synthetic_block(base + 4 * kB, 300));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.storage.file(kMysqlOut).appended == mr::kHeaderAreaSize + 4 * kB; }));
  run.archiver->hold();
  for (size_t i = 4; i < 10; ++i) src.put_block(2, base + i * kB, synthetic_block(base + i * kB, kB));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const Lsn end = base + 4 * kB + 300;
  run.archiver->set_end_lsn(end);
  ASSERT_TRUE(run.archiver->finish_at(end, std::chrono::seconds(10)).is_ok());
  expect_mysql_output(run.storage, checkpoint, end, [](Lsn b) { return synthetic_block(b, kB); });
}

// An idle server: E is the start checkpoint itself, known before the tailer has read the block
// holding it. Nothing counts as copied until that block is in: finish_at() used to return at once
// (the checkpoint was published as copied at start) and fail with "written past the end LSN"
// (`local --stream` on an idle MySQL when the final phase took a few ms).
TEST(MysqlRedoArchiver, AnEndAtTheStartCheckpointWaitsForItsBlock) {
  MysqlRun run;
  MysqlSource src(run.datadir());
  const Lsn base = 1 << 20, checkpoint = base + 2 * kB + 100;
  ASSERT_TRUE(mr::is_mtr_boundary(checkpoint));
  src.add_file(2, base, checkpoint);
  for (size_t i = 0; i < 2; ++i) src.put_block(2, base + i * kB, synthetic_block(base + i * kB, kB));
  src.put_block(2, base + 2 * kB, synthetic_block(base + 2 * kB, 100));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  run.archiver->hold();
  run.archiver->set_end_lsn(checkpoint);
  const Status s = run.archiver->finish_at(checkpoint, std::chrono::seconds(10));
  ASSERT_TRUE(s.is_ok()) << s.message();
  expect_mysql_output(run.storage, checkpoint, checkpoint, [](Lsn b) { return synthetic_block(b, 100); });
}

// Without hold(), the block holding E may already be in the target as a full block: nothing can
// cut it any more, and the archiver says so instead of writing redo past E.
TEST(MysqlRedoArchiver, RefusesAnEndInsideWhatWasAppendedWithoutHold) {
  MysqlRun run;
  MysqlSource src(run.datadir());
  const Lsn base = 1 << 20;
  src.add_file(2, base, base + 40);
  for (size_t i = 0; i < 8; ++i) src.put_block(2, base + i * kB, synthetic_block(base + i * kB, kB));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.storage.file(kMysqlOut).appended == mr::kHeaderAreaSize + 8 * kB; }));
  run.archiver->set_end_lsn(base + 3 * kB + 100);
  const Status s = run.archiver->finish_at(base + 3 * kB + 100, std::chrono::seconds(10));
  EXPECT_EQ(s.code(), ExitCode::kInternal);
  EXPECT_NE(s.message().find("hold()"), std::string::npos) << s.message();
}

// The server recycles #ib_redoN files (renamed away, back later under a new id and header) many
// times: the copy follows across files, descriptors of gone names are closed, and what is open
// stays bounded by the files present.
TEST(MysqlRedoArchiver, FollowsRecycledFilesWithBoundedDescriptors) {
  MysqlRun run;
  MysqlSource src(run.datadir(), 8);
  const Lsn base = 1 << 20, checkpoint = base + 100;
  const uint64_t per_file = src.blocks * kB;
  for (uint64_t id = 0; id < 4; ++id) src.add_file(id, src.file_start(base, id), id == 0 ? checkpoint : 0);
  const size_t before = open_descriptors();
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  size_t most = 0;
  uint64_t next_id = 4;
  const uint64_t files = 40;  // 10 laps of the 4 files
  for (uint64_t f = 0; f < files; ++f) {
    for (size_t i = 0; i < src.blocks; ++i) {
      const Lsn b = src.file_start(base, f) + i * kB;
      src.put_block(f, b, synthetic_block(b, kB));
    }
    ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= src.file_start(base, f + 1); })) << "file " << f;
    most = std::max(most, open_descriptors());
    // The consumed file goes: renamed to a spare, then reused as the next id with a new header.
    fs::rename(src.path(f), src.dir / ("#ib_redo" + std::to_string(f) + "_tmp"));
    const Lsn reused_start = src.file_start(base, next_id);
    fs::rename(src.dir / ("#ib_redo" + std::to_string(f) + "_tmp"), src.path(next_id));
    Bytes area = file_header_area(reused_start, 0);
    write_at(src.path(next_id), 0, area.data(), area.size());
    src.starts[next_id] = reused_start;
    ++next_id;
  }
  // Four source files (two descriptors each where O_DIRECT is open too), the output and some
  // slack for the file being switched to: never one descriptor per recycle (40 of them here).
  EXPECT_LE(most, before + 12) << "descriptors grew with the recycled files";
  run.archiver->hold();
  const Lsn end_block = src.file_start(base, files), end = end_block + 200;
  src.put_block(files, end_block, synthetic_block(end_block, 300));
  run.archiver->set_end_lsn(end);
  ASSERT_TRUE(run.archiver->finish_at(end, std::chrono::seconds(10)).is_ok());
  expect_mysql_output(run.storage, checkpoint, end,
                      [&](Lsn b) { return synthetic_block(b, b == end_block ? 300 : kB); });
  EXPECT_EQ(run.storage.file(kMysqlOut).appended, mr::kHeaderAreaSize + files * per_file + kB);
}

// Lapped, two ways: a block the tailer needs now carries a later lap's number, or the file that
// held the next LSN is gone while newer ones exist. Both are "redo lost", exit 8.
TEST(MysqlRedoArchiver, LappedBlockIsRedoLost) {
  MysqlRun run;
  MysqlSource src(run.datadir());
  const Lsn base = 1 << 20;
  src.add_file(2, base, base + 40);
  for (size_t i = 0; i < 3; ++i) src.put_block(2, base + i * kB, synthetic_block(base + i * kB, kB));
  run.make(8 << 20);
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= base + 3 * kB; }));
  // The server went a whole capacity further and reused this place before we read it.
  const Lsn later = base + 3 * kB + (8 << 20);
  src.put_block(2, base + 3 * kB, synthetic_block(later, kB));
  ASSERT_TRUE(eventually([&] { return !run.archiver->health().is_ok(); }));
  const Status s = run.archiver->health();
  EXPECT_EQ(s.code(), ExitCode::kRedoLost);
  EXPECT_NE(s.message().find("LSN " + std::to_string(base + 3 * kB)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(std::to_string(later)), std::string::npos) << s.message();
}

TEST(MysqlRedoArchiver, RecycledBeforeReadIsRedoLost) {
  MysqlRun run;
  MysqlSource src(run.datadir(), 8);
  const Lsn base = 1 << 20;
  src.add_file(0, src.file_start(base, 0), base + 40);
  for (size_t i = 0; i < src.blocks; ++i) src.put_block(0, base + i * kB, synthetic_block(base + i * kB, kB));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= src.file_start(base, 1); }));
  // #ib_redo1 was written and recycled before the tailer saw it, #ib_redo0 too; 2 and 3 are there.
  fs::rename(src.path(0), src.dir / "#ib_redo0_tmp");
  src.add_file(2, src.file_start(base, 2));
  src.add_file(3, src.file_start(base, 3));
  ASSERT_TRUE(eventually([&] { return !run.archiver->health().is_ok(); }));
  EXPECT_EQ(run.archiver->health().code(), ExitCode::kRedoLost) << run.archiver->health().message();
}

// Only "gone" (ENOENT) means recycled: any other reason a redo file cannot be opened ends the
// copy with an error naming the file, instead of the tailer idling while the server waits for it.
TEST(MysqlRedoArchiver, AFileThatCannotBeOpenedFailsTheTailer) {
  MysqlRun run;
  MysqlSource src(run.datadir(), 8);
  const Lsn base = 1 << 20;
  src.add_file(0, base, base + 40);
  for (size_t i = 0; i < src.blocks; ++i) src.put_block(0, base + i * kB, synthetic_block(base + i * kB, kB));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= src.file_start(base, 1); }));
  fs::create_symlink("#ib_redo1", src.dir / "#ib_redo1");  // ELOOP
  ASSERT_TRUE(eventually([&] { return !run.archiver->health().is_ok(); }));
  const Status s = run.archiver->health();
  EXPECT_EQ(s.code(), ExitCode::kSourceIo);
  EXPECT_NE(s.message().find("cannot open " + (src.dir / "#ib_redo1").string()), std::string::npos) << s.message();
}

// The defect behind it: with every descriptor in use, open() fails with EMFILE, which must not be
// taken for a recycled file.
TEST(MysqlRedoArchiver, OutOfDescriptorsFailsTheTailer) {
  MysqlRun run;
  MysqlSource src(run.datadir(), 8);
  const Lsn base = 1 << 20;
  src.add_file(0, base, base + 40);
  for (size_t i = 0; i < src.blocks; ++i) src.put_block(0, base + i * kB, synthetic_block(base + i * kB, kB));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() >= src.file_start(base, 1); }));
  // #ib_redo1 is made aside, to appear by a rename (which needs no descriptor).
  MysqlSource aside(run.scratch.path / "aside", 8);
  aside.add_file(1, src.file_start(base, 1));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Every descriptor but one in use (the tailer's directory listing takes that one), under a
  // lowered limit so that this stays small.
  rlimit low = saved;
  low.rlim_cur = open_descriptors() + 16;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> hogs;
  for (int fd; (fd = ::dup(0)) >= 0;) hogs.push_back(fd);
  ::close(hogs.back());
  hogs.pop_back();
  fs::rename(aside.path(1), src.path(1));
  const bool failed = eventually([&] { return !run.archiver->health().is_ok(); });
  for (int fd : hogs) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(failed);
  const Status s = run.archiver->health();
  EXPECT_EQ(s.code(), ExitCode::kSourceIo);
  EXPECT_NE(s.message().find("cannot open " + src.path(1).string() + ": Too many open files"), std::string::npos)
      << s.message();
}

// ---- MariaDB --------------------------------------------------------------------------------

namespace md = innodb::mariadb_redo;
const char* const kMariadbPartial = "ib_logfile0.mysqlclone-partial";

// The plain fixture (MARIADB_REDO.txt): header area, then log from C = 44404 up to 55350.
struct MariadbLog {
  Bytes area, log;
  Lsn checkpoint = 44404, from = 44404;
  std::vector<std::pair<Lsn, md::MiniTransaction>> mtrs;  // complete ones, from C
  MariadbLog() {
    const Bytes fx = load("mariadb-redo-10.11-plain.bin");
    area.assign(fx.begin(), fx.begin() + md::kStartOffset);
    log.assign(fx.begin() + md::kStartOffset, fx.end());
    const md::Ring pass0{md::kStartOffset, 134205440};
    for (size_t off = 0;;) {
      md::MiniTransaction m = md::parse_mini_transaction({log.data() + off, log.size() - off}, from + off, pass0,
                                                         md::Encryption::kNone);
      if (m.status != md::MtrStatus::kComplete) break;
      const size_t size = m.size;
      mtrs.emplace_back(from + off, std::move(m));
      off += size;
    }
  }
  Lsn end_of(size_t i) const { return mtrs[i].first + mtrs[i].second.size; }
};

// A fake ib_logfile0 with a ring of `capacity` bytes: log bytes go where the server puts them,
// with the terminator of the pass they are on.
struct MariadbSource {
  // `flushed`: where the fake server reports its log flushed to; write() moves it.
  MariadbSource(const fs::path& datadir, const MariadbLog& l, uint64_t capacity, std::atomic<Lsn>& flushed_lsn)
      : log(l), ring{md::kStartOffset, capacity}, flushed(flushed_lsn) {
    fs::create_directories(datadir);
    path = datadir / "ib_logfile0";
    create_file(path, md::kStartOffset + capacity);
    write_at(path, 0, log.area.data(), log.area.size());
  }
  // Writes the log bytes [from, to), as the server would at that place of the ring, and flushes.
  void write(Lsn from, Lsn to) {
    Bytes bytes(log.log.begin() + long(from - log.from), log.log.begin() + long(to - log.from));
    for (const auto& [lsn, m] : log.mtrs) {
      const Lsn t = lsn + m.terminator_offset;
      if (t >= from && t < to) bytes[t - from] = md::sequence_bit(ring, t);
    }
    for (Lsn lsn = from; lsn < to;) {
      const uint64_t off = md::file_offset(ring, lsn);
      const size_t run = size_t(std::min<uint64_t>(to - lsn, md::kStartOffset + ring.capacity - off));
      write_at(path, off, bytes.data() + (lsn - from), run);
      lsn += run;
    }
    flushed = to;
  }
  const MariadbLog& log;
  md::Ring ring;
  std::atomic<Lsn>& flushed;
  fs::path path;
};

struct MariadbRun {
  testpages::ScratchDir scratch;
  RecordingStorage storage;
  std::atomic<Lsn> server_lsn{54906};  // the server's current LSN, when ahead of `flushed`
  std::atomic<Lsn> flushed{0};
  RedoProgress progress;
  std::unique_ptr<RedoArchiver> archiver;
  fs::path datadir() const { return scratch.path / "datadir"; }
  void make() {
    RedoArchiverConfig c;
    c.source_datadir = datadir();
    c.storage = &storage;
    c.source_capacity = 64 << 10;
    c.server_log = [this]() -> Result<ServerLog> {
      const Lsn f = flushed.load();
      return ServerLog{std::max(server_lsn.load(), f), f};
    };
    c.progress = &progress;
    archiver = make_mariadb_redo_archiver(std::move(c));
  }
};

// What a stock server recovers from: the backup header area for C, the mini-transactions [C, E)
// with terminator 1 (the recorded first-pass bytes), zeros after.
void expect_mariadb_output(RecordingStorage& storage, const MariadbLog& log, Lsn end) {
  ASSERT_FALSE(storage.has(kMariadbPartial));
  const RecordedFile out = storage.file("ib_logfile0");
  ASSERT_TRUE(out.closed);
  ASSERT_EQ(out.appended, md::kStartOffset + (end - log.checkpoint));  // nothing past E
  ASSERT_EQ(out.bytes.size(), md::backup_file_size(end - log.checkpoint, 2 << 20));
  const md::ParsedHeader source = md::parse_header(log.area);
  const auto cp = md::choose_checkpoint(log.area, source.header.first_lsn);
  const Bytes head = md::backup_header_area(source.header, *cp, "10.11.19");
  EXPECT_TRUE(std::equal(head.begin(), head.end(), out.bytes.begin()));
  EXPECT_TRUE(std::equal(log.log.begin(), log.log.begin() + long(end - log.from), out.bytes.begin() + md::kStartOffset));
  EXPECT_TRUE(std::all_of(out.bytes.begin() + long(md::kStartOffset + (end - log.checkpoint)), out.bytes.end(),
                          [](uint8_t x) { return x == 0; }));
  // And it parses as the server will: whole mini-transactions from C up to E, then the end.
  const md::Ring fresh{log.checkpoint, out.bytes.size() - md::kStartOffset};
  size_t off = md::kStartOffset;
  while (off < md::kStartOffset + (end - log.checkpoint)) {
    const md::MiniTransaction m = md::parse_mini_transaction({out.bytes.data() + off, out.bytes.size() - off},
                                                             log.checkpoint + off - md::kStartOffset, fresh,
                                                             md::Encryption::kNone);
    ASSERT_EQ(m.status, md::MtrStatus::kComplete) << "at LSN " << log.checkpoint + off - md::kStartOffset;
    off += m.size;
  }
  EXPECT_EQ(off, md::kStartOffset + (end - log.checkpoint));
  EXPECT_EQ(md::parse_mini_transaction({out.bytes.data() + off, out.bytes.size() - off}, end, fresh,
                                       md::Encryption::kNone)
                .status,
            md::MtrStatus::kNotWrittenYet);
}

// The server writes the recorded log in pieces — one ending inside a mini-transaction (torn) —
// the copy is held at hold(), more is written, and it ends exactly at E.
TEST(MariadbRedoArchiver, RealLogTornMiniTransactionAndTheCopyEndsExactlyAtE) {
  const MariadbLog log;
  ASSERT_EQ(log.mtrs.size(), 136u);
  MariadbRun run;
  MariadbSource src(run.datadir(), log, 64 << 10, run.flushed);
  src.write(log.from, log.end_of(20) + 7);  // mtr 21 torn
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  EXPECT_EQ(run.archiver->checkpoint_lsn(), log.checkpoint);
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(20); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(run.storage.file(kMariadbPartial).appended, md::kStartOffset + (log.end_of(20) - log.checkpoint));
  src.write(log.end_of(20) + 7, log.end_of(80));
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(80); }));
  run.archiver->hold();
  src.write(log.end_of(80), log.end_of(135));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(run.storage.file(kMariadbPartial).appended, md::kStartOffset + (log.end_of(80) - log.checkpoint));
  const Lsn end = log.end_of(110);
  run.archiver->set_end_lsn(end);
  ASSERT_TRUE(run.archiver->finish_at(end, std::chrono::seconds(10)).is_ok());
  EXPECT_EQ(run.archiver->copied_lsn(), end);
  EXPECT_FALSE(run.storage.has("ib_logfile0"));  // no ib_logfile0 until the copy is published
  ASSERT_TRUE(run.archiver->publish().is_ok());
  expect_mariadb_output(run.storage, log, end);
}

// The server idle at hold(): E is exactly where the appended log ends, and everything read after
// hold() (the server wrote on before E was read... or after) is dropped.
TEST(MariadbRedoArchiver, EndWhereTheAppendedLogEndsDropsAllHeld) {
  const MariadbLog log;
  MariadbRun run;
  MariadbSource src(run.datadir(), log, 64 << 10, run.flushed);
  src.write(log.from, log.end_of(40));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(40); }));
  run.archiver->hold();
  src.write(log.end_of(40), log.end_of(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  run.archiver->set_end_lsn(log.end_of(40));
  ASSERT_TRUE(run.archiver->finish_at(log.end_of(40), std::chrono::seconds(10)).is_ok());
  ASSERT_TRUE(run.archiver->publish().is_ok());
  expect_mariadb_output(run.storage, log, log.end_of(40));
}

// Past the flushed LSN the server's last block holds left-over buffer bytes: here whole, valid
// mini-transactions of an earlier LSN (terminator and CRC fine). They are never taken; the log
// written and flushed over them later is, byte for byte.
TEST(MariadbRedoArchiver, ValidLookingBytesPastTheFlushedLsnAreNeverTaken) {
  const MariadbLog log;
  MariadbRun run;
  MariadbSource src(run.datadir(), log, 64 << 10, run.flushed);
  src.write(log.from, log.end_of(40));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(40); }));
  const Bytes stale(log.log.begin() + long(log.mtrs[1].first - log.from), log.log.begin() + long(log.end_of(20) - log.from));
  ASSERT_LT(stale.size(), log.end_of(100) - log.end_of(40));
  write_at(src.path, md::file_offset(src.ring, log.end_of(40)), stale.data(), stale.size());
  // They do parse where they lie: only the flushed LSN tells them apart.
  const md::MiniTransaction m =
      md::parse_mini_transaction(stale, log.end_of(40), src.ring, md::Encryption::kNone);
  ASSERT_EQ(m.status, md::MtrStatus::kComplete);
  run.server_lsn = log.end_of(100);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(run.archiver->copied_lsn(), log.end_of(40));
  src.write(log.end_of(40), log.end_of(100));
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(100); }));
  run.archiver->hold();
  run.archiver->set_end_lsn(log.end_of(100));
  ASSERT_TRUE(run.archiver->finish_at(log.end_of(100), std::chrono::seconds(10)).is_ok());
  ASSERT_TRUE(run.archiver->publish().is_ok());
  expect_mariadb_output(run.storage, log, log.end_of(100));
}

// The progress figures: the redo held from C on, and how far the server is ahead of it (the
// largest such lag kept for the result).
TEST(MariadbRedoArchiver, ProgressShowsTheSpanAndTheLag) {
  const MariadbLog log;
  MariadbRun run;
  MariadbSource src(run.datadir(), log, 64 << 10, run.flushed);
  src.write(log.from, log.end_of(40));
  run.server_lsn = log.end_of(40) + 5000;  // written, not yet flushed
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.progress.span == log.end_of(40) - log.checkpoint; }));
  ASSERT_TRUE(eventually([&] { return run.progress.lag == 5000; }));
  run.server_lsn = 0;
  src.write(log.end_of(40), log.end_of(60));
  ASSERT_TRUE(eventually([&] { return run.progress.span == log.end_of(60) - log.checkpoint; }));
  ASSERT_TRUE(eventually([&] { return run.progress.lag == 0; }));
  // The first time the server was asked, before anything was copied, the lag was largest.
  EXPECT_EQ(run.progress.peak_lag, log.end_of(40) + 5000 - log.checkpoint);
}

// The same log in a ring small enough that it wraps in the middle (the second pass carries
// terminator 0): the copy reads across the wrap point and re-lays every byte on one first pass.
TEST(MariadbRedoArchiver, ReadsAcrossTheRingsWrapPoint) {
  const MariadbLog log;
  const uint64_t capacity = 40000;  // the wrap point is LSN 12288 + 40000 = 52288
  ASSERT_LT(log.from, md::kStartOffset + capacity);
  ASSERT_GT(log.end_of(135), md::kStartOffset + capacity);
  MariadbRun run;
  MariadbSource src(run.datadir(), log, capacity, run.flushed);
  src.write(log.from, log.end_of(50));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(50); }));
  src.write(log.end_of(50), log.end_of(135));
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(135); }));
  run.archiver->hold();
  run.archiver->set_end_lsn(log.end_of(135));
  ASSERT_TRUE(run.archiver->finish_at(log.end_of(135), std::chrono::seconds(10)).is_ok());
  ASSERT_TRUE(run.archiver->publish().is_ok());
  expect_mariadb_output(run.storage, log, log.end_of(135));
}

// E told at once, while the tailer is at it: the last mini-transaction before E ends the copy
// even when the server has written much more meanwhile; an E that is no boundary is refused.
TEST(MariadbRedoArchiver, EndThatIsNoBoundaryIsRefused) {
  const MariadbLog log;
  MariadbRun run;
  MariadbSource src(run.datadir(), log, 64 << 10, run.flushed);
  src.write(log.from, log.end_of(40));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(40); }));
  run.archiver->hold();
  src.write(log.end_of(40), log.end_of(100));
  const Lsn end = log.end_of(60) + 3;
  run.archiver->set_end_lsn(end);
  const Status s = run.archiver->finish_at(end, std::chrono::seconds(10));
  EXPECT_EQ(s.code(), ExitCode::kInternal);
  EXPECT_NE(s.message().find("not the end of a mini-transaction"), std::string::npos) << s.message();
}

// The server wrote a whole ring past what the tailer still needs: "redo lost", exit 8.
TEST(MariadbRedoArchiver, LappedIsRedoLost) {
  const MariadbLog log;
  MariadbRun run;
  MariadbSource src(run.datadir(), log, 64 << 10, run.flushed);
  src.write(log.from, log.end_of(30));
  run.make();
  ASSERT_TRUE(run.archiver->start().is_ok());
  ASSERT_TRUE(eventually([&] { return run.archiver->copied_lsn() == log.end_of(30); }));
  run.server_lsn = log.end_of(30) + (64 << 10);
  ASSERT_TRUE(eventually([&] { return !run.archiver->health().is_ok(); }));
  const Status s = run.archiver->health();
  EXPECT_EQ(s.code(), ExitCode::kRedoLost);
  EXPECT_NE(s.message().find("LSN " + std::to_string(log.end_of(30))), std::string::npos) << s.message();
}

}  // namespace
