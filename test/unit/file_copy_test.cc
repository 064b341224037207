// The copier over synthetic datadirs: byte-identical copies with SHA-256, a torn page healed by
// a re-read, a page that stays bad failing the copy with file and page named.
#include "libclone/datadir/file_copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "libclone/command/restore/restore_plan.h"
#include "libclone/datadir/delta_file.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/sha256.h"
#include "test_datadir.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::slurp;
namespace fs = std::filesystem;
using namespace mysqlclone;

class FileCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = scratch_.path / "src";
    dst_ = scratch_.path / "dst";
    testpages::make_mysql_datadir(src_);
    fs::create_directories(dst_);
    auto inv = scan_datadir(src_.string());
    ASSERT_TRUE(inv.is_ok());
    inventory_ = *inv;
    options_.retry_delay = std::chrono::milliseconds(1);
  }
  const TablespaceEntry& user_table() {
    for (const auto& t : inventory_.tablespaces)
      if (t.files[0].rel_path == "db/t1.ibd") return t;
    throw std::runtime_error("db/t1.ibd not in the inventory");
  }
  Result<std::vector<CopiedFile>> copy(const TablespaceEntry& t) {
    DirectoryStorage sink(dst_.string());
    return copy_tablespace(src_.string(), t, innodb::default_format(16384, innodb::Flavour::kMysql), sink, options_,
                           progress_);
  }
  testpages::ScratchDir scratch_;
  fs::path src_, dst_;
  DatadirInventory inventory_;
  CopyOptions options_;
  CopyProgress progress_;
};

TEST_F(FileCopyTest, CopiesEveryTablespaceByteForByte) {
  for (const auto& t : inventory_.tablespaces) {
    if (t.kind == TablespaceKind::kTemporary) continue;
    auto r = copy(t);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    for (const auto& f : *r) {
      const std::string original = slurp(src_ / f.rel_path);
      EXPECT_EQ(slurp(dst_ / f.rel_path), original) << f.rel_path;
      EXPECT_EQ(f.bytes, original.size());
      Sha256 h;
      h.update(std::span(reinterpret_cast<const uint8_t*>(original.data()), original.size()));
      EXPECT_EQ(f.sha256, h.hex_digest());
      EXPECT_EQ(f.reread_pages, 0u);
    }
  }
}

TEST_F(FileCopyTest, TornPageIsReReadAndHealed) {
  int torn = 0;
  options_.after_read = [&](const std::string& rel, uint64_t offset, std::span<uint8_t> chunk) {
    if (rel == "db/t1.ibd" && offset == 0 && torn++ == 0) chunk[3 * 16384 + 9000] ^= 0x5A;  // half-written page 3
  };
  auto r = copy(user_table());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(torn, 1);
  EXPECT_EQ((*r)[0].reread_pages, 1u);
  EXPECT_EQ(slurp(dst_ / "db/t1.ibd"), slurp(src_ / "db/t1.ibd"));
}

// Page 0 was judged when the header was read, but the copy reads it again, and the server
// rewrites page 0 often (the size, the free lists): that read is judged like any other.
TEST_F(FileCopyTest, ATornPage0IsReReadAndHealedToo) {
  int torn = 0;
  options_.after_read = [&](const std::string& rel, uint64_t offset, std::span<uint8_t> chunk) {
    if (rel == "db/t1.ibd" && offset == 0 && torn++ == 0) chunk[9000] ^= 0x5A;  // half-written page 0
  };
  auto r = copy(user_table());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(torn, 1);
  EXPECT_EQ((*r)[0].reread_pages, 1u);
  EXPECT_EQ(slurp(dst_ / "db/t1.ibd"), slurp(src_ / "db/t1.ibd"));
}

TEST_F(FileCopyTest, PageThatStaysBadFailsTheCopyNamingFileAndPage) {
  std::fstream f(src_ / "db" / "t1.ibd", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(6 * 16384 + 100);
  f.put('\x77');
  f.close();
  options_.page_retries = 3;
  auto r = copy(user_table());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ExitCode::kSourceIo);
  EXPECT_NE(r.status().message().find("db/t1.ibd: page 6 is corrupt"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("3 re-reads"), std::string::npos);
}

// A tablespace of several copy chunks (kCopyChunkBytes each), so the read/check/write pipeline rotates its
// three buffers: a torn page in the middle of a later chunk is re-read and healed, and a page that
// stays bad there is named by its number in the file, not in its chunk.
// The synthetic datadir plus db/big.ibd, a tablespace of `Pages` pages of 16 KiB.
template <uint32_t Pages>
class WithBigFile : public FileCopyTest {
 protected:
  static constexpr uint32_t kPages = Pages;
  void SetUp() override {
    FileCopyTest::SetUp();
    testpages::write_file(src_ / "db" / "big.ibd", testpages::tablespace(77, kPages));
    auto inv = scan_datadir(src_.string());
    ASSERT_TRUE(inv.is_ok());
    inventory_ = *inv;
  }
  const TablespaceEntry& big() {
    for (const auto& t : inventory_.tablespaces)
      if (t.files[0].rel_path == "db/big.ibd") return t;
    throw std::runtime_error("db/big.ibd not in the inventory");
  }
};

constexpr uint32_t kChunkPages = uint32_t(kCopyChunkBytes / 16384);

class BigTablespaceCopyTest : public WithBigFile<5 * kChunkPages + 7> {  // six chunks, the last one short
 protected:
  static constexpr uint32_t kTornPage = 3 * kChunkPages + 30;
};

TEST_F(BigTablespaceCopyTest, TornPageInALaterChunkIsHealed) {
  int torn = 0;
  uint64_t chunks = 0;
  options_.after_read = [&](const std::string& rel, uint64_t offset, std::span<uint8_t> chunk) {
    if (rel != "db/big.ibd") return;
    ++chunks;
    const uint64_t at = uint64_t(kTornPage) * 16384;
    if (at >= offset && at < offset + chunk.size() && torn++ == 0) chunk[at - offset + 5000] ^= 0x5A;
  };
  auto r = copy(big());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(chunks, 6u);
  EXPECT_EQ(torn, 1);
  EXPECT_EQ((*r)[0].reread_pages, 1u);
  EXPECT_EQ((*r)[0].bytes, uint64_t(kPages) * 16384);
  EXPECT_EQ(progress_.done_bytes.load(), uint64_t(kPages) * 16384);
  const std::string original = slurp(src_ / "db/big.ibd");
  EXPECT_EQ(slurp(dst_ / "db/big.ibd"), original);
  Sha256 h;
  h.update(std::span(reinterpret_cast<const uint8_t*>(original.data()), original.size()));
  EXPECT_EQ((*r)[0].sha256, h.hex_digest());
}

TEST_F(BigTablespaceCopyTest, PageThatStaysBadInALaterChunkIsNamedByItsNumber) {
  std::fstream f(src_ / "db" / "big.ibd", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(kTornPage) * 16384 + 100);
  f.put('\x77');
  f.close();
  options_.page_retries = 2;
  auto r = copy(big());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ExitCode::kSourceIo);
  EXPECT_NE(r.status().message().find("db/big.ibd: page " + std::to_string(kTornPage) + " is corrupt"),
            std::string::npos)
      << r.status().message();
}

// A file of at least kHelpedFileBytes is offered to CopyHelp: a thread with nothing else to copy
// takes chunks of it beside the thread that opened it. The copy must be the same bytes with the
// same one SHA-256 as a copy by one thread, whoever read which chunk and in what order.
class HelpedCopyTest : public WithBigFile<12 * kChunkPages + 7> {  // 12 chunks and 7 pages: the last chunk short
 protected:
  static_assert(uint64_t(kPages) * 16384 >= kHelpedFileBytes);
  // Copies db/big.ibd with `helpers` threads helping, as `local` runs them: the tablespace's
  // thread reports its end to the CopyHelp, which sends the helpers home.
  Result<std::vector<CopiedFile>> copy_helped(unsigned helpers) {
    CopyHelp help(1);
    options_.help = &help;
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < helpers; ++i) pool.emplace_back([&help] { help.help(); });
    auto r = copy(big());
    help.tablespace_done(r.is_ok());
    for (auto& t : pool) t.join();
    return r;
  }
  // Records which threads read chunks (and slows every read down a little, so that a helper
  // gets its share even when it starts late).
  void count_readers(const std::function<void(uint64_t, std::span<uint8_t>)>& also = nullptr) {
    options_.after_read = [this, also](const std::string& rel, uint64_t offset, std::span<uint8_t> chunk) {
      if (rel != "db/big.ibd") return;
      {
        std::lock_guard lock(readers_mutex_);
        readers_.insert(std::this_thread::get_id());
        chunks_.push_back(offset);
      }
      if (also) also(offset, chunk);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    };
  }
  std::string expect_whole_copy(const CopiedFile& f) {
    const std::string original = slurp(src_ / "db/big.ibd");
    EXPECT_EQ(f.bytes, original.size());
    EXPECT_EQ(slurp(dst_ / "db/big.ibd"), original);
    Sha256 h;
    h.update(std::span(reinterpret_cast<const uint8_t*>(original.data()), original.size()));
    EXPECT_EQ(f.sha256, h.hex_digest());
    return original;
  }
  std::mutex readers_mutex_;
  std::set<std::thread::id> readers_;
  std::vector<uint64_t> chunks_;
};

TEST_F(HelpedCopyTest, SeveralThreadsCopyOneFileIntoTheSameBytesAndDigest) {
  count_readers();
  auto r = copy_helped(3);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  expect_whole_copy((*r)[0]);
  EXPECT_GE(readers_.size(), 2u) << "no helper took a chunk";
  // Every chunk was read once; chunks past the end (read short by a helper) may be read too.
  std::sort(chunks_.begin(), chunks_.end());
  std::vector<uint64_t> expected;
  for (uint64_t at = 0; at < uint64_t(kPages) * 16384; at += kCopyChunkBytes) expected.push_back(at);
  std::vector<uint64_t> within;
  for (uint64_t at : chunks_)
    if (at < uint64_t(kPages) * 16384) within.push_back(at);
  EXPECT_EQ(within, expected);
  EXPECT_EQ(progress_.done_bytes.load(), uint64_t(kPages) * 16384);
}

TEST_F(HelpedCopyTest, TornPageInAHelpedChunkIsHealed) {
  std::atomic<int> torn{0};
  const uint64_t at = uint64_t(20 * 64 + 5) * 16384;
  count_readers([&](uint64_t offset, std::span<uint8_t> chunk) {
    if (at >= offset && at < offset + chunk.size() && torn++ == 0) chunk[at - offset + 700] ^= 0x5A;
  });
  auto r = copy_helped(2);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(torn, 1);
  EXPECT_EQ((*r)[0].reread_pages, 1u);
  expect_whole_copy((*r)[0]);
}

TEST_F(HelpedCopyTest, APageThatStaysBadStopsEveryThreadAndNamesThePage) {
  std::fstream f(src_ / "db" / "big.ibd", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(17 * 64 + 3) * 16384 + 100);
  f.put('\x77');
  f.close();
  options_.page_retries = 2;
  count_readers();
  auto r = copy_helped(3);  // returns: no thread is left waiting for the failed chunk
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ExitCode::kSourceIo);
  EXPECT_NE(r.status().message().find("db/big.ibd: page " + std::to_string(17 * 64 + 3) + " is corrupt"),
            std::string::npos)
      << r.status().message();
}

// The server extends the file while it is copied: whatever the threads read, the copy ends at the
// first chunk read short, holds the source's bytes up to there, and its digest is of those bytes.
TEST_F(HelpedCopyTest, AFileGrowingDuringTheCopyEndsAtItsFirstShortChunk) {
  const auto more = testpages::tablespace(77, kPages + 3 * kChunkPages);
  std::atomic<bool> grown{false};
  count_readers([&](uint64_t offset, std::span<uint8_t>) {
    if (offset == 5 * kCopyChunkBytes && !grown.exchange(true)) {
      std::ofstream out(src_ / "db" / "big.ibd", std::ios::binary | std::ios::app);
      for (uint32_t p = kPages; p < more.size(); ++p)
        out.write(reinterpret_cast<const char*>(more[p].data()), std::streamsize(more[p].size()));
    }
  });
  auto r = copy_helped(3);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_TRUE(grown.load());
  const CopiedFile& c = (*r)[0];
  EXPECT_EQ(c.bytes % 16384, 0u);
  EXPECT_GE(c.bytes, uint64_t(kPages) * 16384);
  const std::string copy = slurp(dst_ / "db/big.ibd");
  ASSERT_EQ(copy.size(), c.bytes);
  EXPECT_EQ(copy, slurp(src_ / "db/big.ibd").substr(0, c.bytes));
  Sha256 h;
  h.update(std::span(reinterpret_cast<const uint8_t*>(copy.data()), copy.size()));
  EXPECT_EQ(c.sha256, h.hex_digest());
}

TEST_F(FileCopyTest, RefusesToOverwriteAnExistingTargetFile) {
  fs::create_directories(dst_ / "db");
  std::ofstream(dst_ / "db" / "t1.ibd") << "x";
  auto r = copy(user_table());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ExitCode::kPath);
}

TEST_F(FileCopyTest, PlainFileCopy) {
  std::ofstream(src_ / "db" / "t2.MYD") << std::string(3 << 20, 'm') << "tail";
  DirectoryStorage sink(dst_.string());
  auto r = copy_plain_file(src_.string(), "db/t2.MYD", sink, progress_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->bytes, (3u << 20) + 4);
  EXPECT_EQ(slurp(dst_ / "db/t2.MYD"), slurp(src_ / "db/t2.MYD"));
  EXPECT_TRUE(sink.sync().is_ok());
}

}  // namespace

namespace {

TEST(ReadFile, DirectReadsOfAnyRange) {
  testpages::ScratchDir scratch;
  const auto path = scratch.path / "f";
  std::string bytes(3 * 4096 + 777, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = char(i * 7 + 3);
  std::ofstream(path, std::ios::binary) << bytes;
  auto file = mysqlclone::ReadFile::open(path.string());
  ASSERT_TRUE(file.is_ok());
  mysqlclone::AlignedBuffer aligned(8192);
  auto n = file->read_at(4096, aligned.span());
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 8192u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(aligned.data()), 8192), bytes.substr(4096, 8192));
  // Unaligned offset, length and buffer; and a read running past the end of the file.
  for (auto [off, len] : {std::pair<uint64_t, size_t>{1, 100}, {4000, 300}, {12000, 2000}, {12288 + 700, 512}}) {
    std::vector<uint8_t> out(len + 1);
    auto got = file->read_at(off, std::span<uint8_t>(out.data() + 1, len));
    ASSERT_TRUE(got.is_ok());
    const size_t want = size_t(std::min<uint64_t>(len, bytes.size() - off));
    EXPECT_EQ(*got, want) << off;
    EXPECT_EQ(std::string(reinterpret_cast<char*>(out.data() + 1), want), bytes.substr(off, want)) << off;
  }
}

// Whole huge pages get memory of their own, aligned to a huge page (so the kernel can back it
// with one), usable to the last byte and released at the end; other sizes are aligned for
// direct I/O.
TEST(AlignedBuffer, WholeHugePagesAreAlignedToAHugePage) {
  for (size_t size : {mysqlclone::kHugePageBytes, 2 * mysqlclone::kHugePageBytes}) {
    for (int i = 0; i < 3; ++i) {
      mysqlclone::AlignedBuffer buffer(size);
      ASSERT_EQ(buffer.size(), size);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % mysqlclone::kHugePageBytes, 0u) << size;
      std::fill(buffer.span().begin(), buffer.span().end(), uint8_t(0x5a));
      EXPECT_EQ(buffer.data()[size - 1], 0x5a);
    }
  }
  for (size_t size : {size_t(512), size_t(8192), size_t(1) << 20, (size_t(3) << 20) + 4096}) {
    mysqlclone::AlignedBuffer buffer(size);
    ASSERT_EQ(buffer.size(), size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % mysqlclone::kDirectIoAlignment, 0u) << size;
    std::fill(buffer.span().begin(), buffer.span().end(), uint8_t(0xa5));
  }
}

}  // namespace

// ---- incremental copies: NAME.delta (delta_file.h) ---------------------------------------------

namespace {

// Every page a delta hands out, checked against the source file; the count.
Result<size_t> read_delta(const fs::path& delta, const fs::path& source, uint64_t& file_bytes) {
  auto reader = DeltaReader::open(delta.string(), true);
  if (!reader.is_ok()) return reader.status();
  const std::string original = slurp(source);
  size_t pages = 0;
  while (true) {
    auto page = reader->next();
    if (!page.is_ok()) return page.status();
    if (!*page) break;
    const std::string bytes((*page)->bytes.begin(), (*page)->bytes.end());
    EXPECT_EQ(bytes, original.substr(size_t((*page)->index) * 16384, 16384)) << "page " << (*page)->index;
    ++pages;
  }
  file_bytes = reader->file_bytes();
  const std::string whole = slurp(delta);
  Sha256 hash;
  hash.update({reinterpret_cast<const uint8_t*>(whole.data()), whole.size()});
  EXPECT_EQ(reader->hex_digest(), hash.hex_digest()) << "the reader hashed other bytes than the file's";
  return pages;
}

TEST_F(FileCopyTest, IncrementalKeepsThePagesAboveTheThreshold) {
  // The synthetic pages all carry LSN 0x123456789A; the last two of t1.ibd were never written.
  options_.incremental = IncrementalCopy{0x1000, [](const std::string&, innodb::SpaceId id) { return id == 5; }, {}};
  auto r = copy(user_table());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const CopiedFile& f = (*r)[0];
  EXPECT_EQ(f.rel_path, "db/t1.ibd.delta");
  EXPECT_EQ(f.delta_of, "db/t1.ibd");
  EXPECT_EQ(f.file_bytes, 10u * 16384);
  EXPECT_EQ(f.delta_pages, 8u);
  EXPECT_EQ(f.bytes, fs::file_size(dst_ / f.rel_path));
  EXPECT_FALSE(fs::exists(dst_ / "db/t1.ibd"));
  uint64_t file_bytes = 0;
  auto pages = read_delta(dst_ / f.rel_path, src_ / "db/t1.ibd", file_bytes);
  ASSERT_TRUE(pages.is_ok()) << pages.status().message();
  EXPECT_EQ(*pages, 8u);
  EXPECT_EQ(file_bytes, 10u * 16384);

  // restore reads each delta it uses whole before it writes anything, and takes it only with the
  // SHA-256 its backup recorded (the copy's, f.sha256): a sound delta that is not that one is refused.
  Plan plan;
  plan.overlaid.push_back(OverlaidFile{"db/t1.ibd", 5, dst_.string(), "db/t1.ibd", "", 10 * 16384,
                                       {DeltaLayer{dst_.string(), f.rel_path, f.file_bytes, 0x1000, f.sha256}}});
  Status checked = check_deltas(plan, 1);
  EXPECT_TRUE(checked.is_ok()) << checked.message();
  plan.overlaid[0].deltas[0].sha256 = std::string(64, '0');
  checked = check_deltas(plan, 1);
  EXPECT_EQ(checked.code(), ExitCode::kVerifyFailed);
  EXPECT_NE(checked.message().find("its SHA-256 is not the one its backup records"), std::string::npos)
      << checked.message();

  // Nothing above the threshold: a delta of no pages, still with the file's size.
  fs::remove_all(dst_);
  fs::create_directories(dst_);
  options_.incremental->threshold = 0x123456789A;
  r = copy(user_table());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ((*r)[0].delta_pages, 0u);
  pages = read_delta(dst_ / "db/t1.ibd.delta", src_ / "db/t1.ibd", file_bytes);
  ASSERT_TRUE(pages.is_ok()) << pages.status().message();
  EXPECT_EQ(*pages, 0u);
  EXPECT_EQ(file_bytes, 10u * 16384);

  // A tablespace the base does not have is copied whole.
  for (const auto& t : inventory_.tablespaces)
    if (t.files[0].rel_path == "mysql.ibd") {
      auto whole = copy(t);
      ASSERT_TRUE(whole.is_ok()) << whole.status().message();
      EXPECT_EQ((*whole)[0].rel_path, "mysql.ibd");
      EXPECT_TRUE((*whole)[0].delta_of.empty());
    }
}

TEST_F(FileCopyTest, IncrementalByPageListReadsOnlyTheListedPages) {
  // Page tracking lists pages 2, 3 and 7 of space 5 (t1.ibd, 10 pages), one page past its end (a
  // page added after the copy began: the redo's), and pages of another space.
  const std::vector<innodb::PageNo> t1{2, 3, 7, 40};
  const std::vector<innodb::PageNo> other{1, 2, 3};
  options_.incremental = IncrementalCopy{0x1000, [](const std::string&, innodb::SpaceId id) { return id == 5; },
                                         [&](innodb::SpaceId id) {
                                           return std::span<const innodb::PageNo>(id == 5 ? t1 : other);
                                         }};
  std::vector<uint64_t> offsets_read;
  int torn = 0;
  options_.after_read = [&](const std::string&, uint64_t offset, std::span<uint8_t> chunk) {
    offsets_read.push_back(offset);
    if (offset == 7 * 16384 && torn++ == 0) chunk[5000] ^= 0x5A;  // read while written: re-read
  };
  auto r = copy(user_table());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const CopiedFile& f = (*r)[0];
  EXPECT_EQ(offsets_read, (std::vector<uint64_t>{2 * 16384, 7 * 16384})) << "runs of consecutive listed pages";
  EXPECT_EQ(f.read_bytes, 3u * 16384);
  EXPECT_EQ(f.file_bytes, 10u * 16384);
  EXPECT_EQ(f.delta_pages, 3u);
  EXPECT_EQ(f.reread_pages, 1u);
  uint64_t file_bytes = 0;
  auto pages = read_delta(dst_ / f.rel_path, src_ / "db/t1.ibd", file_bytes);  // each page as in the source
  ASSERT_TRUE(pages.is_ok()) << pages.status().message();
  EXPECT_EQ(*pages, 3u);
  EXPECT_EQ(file_bytes, 10u * 16384);
}

TEST_F(FileCopyTest, DamagedOrCutDeltaIsRefused) {
  options_.incremental = IncrementalCopy{0x1000, [](const std::string&, innodb::SpaceId) { return true; }, {}};
  ASSERT_TRUE(copy(user_table()).is_ok());
  const fs::path delta = dst_ / "db/t1.ibd.delta";
  const std::string good = slurp(delta);
  const auto with = [&](const std::string& bytes) {
    std::ofstream(delta, std::ios::binary | std::ios::trunc) << bytes;
    uint64_t file_bytes = 0;
    return read_delta(delta, src_ / "db/t1.ibd", file_bytes).status();
  };
  // Layout: header block, chunk block, then page images (delta_file.h).
  std::string bad = good;
  bad[2 * 16384 + 100] ^= 0x01;  // inside the first page image
  Status s = with(bad);
  EXPECT_EQ(s.code(), ExitCode::kVerifyFailed);
  EXPECT_NE(s.message().find("page 0 is damaged"), std::string::npos) << s.message();
  bad = good;
  bad[16384 + 30] ^= 0x01;  // the chunk block's page list
  EXPECT_EQ(with(bad).code(), ExitCode::kVerifyFailed);
  bad = good;
  bad[12] ^= 0x01;  // the header's space id
  EXPECT_EQ(with(bad).code(), ExitCode::kVerifyFailed);
  EXPECT_EQ(with(good.substr(0, good.size() - 1)).code(), ExitCode::kVerifyFailed);  // cut short
  EXPECT_EQ(with(good + good.substr(16384)).code(), ExitCode::kVerifyFailed);         // more after the end
  EXPECT_TRUE(with(good).is_ok());
}

}  // namespace
