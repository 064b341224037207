// Zero copy (issue 12): on a file system with reflinks the copier shares the source's blocks
// instead of writing them, and the result carries the same guarantees as a byte copy.
//
// Runs only under tools/xfs_scratch.sh (ctest does that), which mounts a fresh XFS (reflink=1)
// in a private mount namespace and names it in MYSQLCLONE_XFS_DIR. Without it every test here
// fails: nothing skips.
//   - the copier alone, on a synthetic tablespace: every chunk shared, every page still judged,
//     a page torn in the shared blocks re-read from the source and written over them; across
//     file systems the bytes are copied (auto) or the copy fails naming the file (always);
//   - `local --reflink=always` of each flavour under sysbench and a MyISAM/Aria writer, source
//     and target on the XFS: the target's blocks are shared, the stock server starts on it,
//     CHECK TABLE passes, it replicates from the recorded position and equals the source.
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "libclone/datadir/datadir.h"
#include "libclone/datadir/file_copy.h"
#include "libclone/io/directory_storage.h"
#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/load.h"
#include "test/integration/text.h"
#include "test/unit/test_datadir.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;
using namespace mysqlclone;

constexpr long kXfsMagic = 0x58465342;  // "XFSB", statfs f_type of XFS

// The XFS of tools/xfs_scratch.sh; fails the calling test when there is none.
std::string xfs_dir() {
  const char* dir = std::getenv("MYSQLCLONE_XFS_DIR");
  if (!dir || !*dir) throw std::runtime_error("MYSQLCLONE_XFS_DIR is not set: run through tools/xfs_scratch.sh");
  struct statfs st {};
  if (::statfs(dir, &st) != 0 || st.f_type != kXfsMagic)
    throw std::runtime_error(std::string(dir) + " is not an XFS file system");
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "" when the two files hold the same bytes, else where they first differ.
std::string difference(const std::string& a_path, const std::string& b_path) {
  const std::string a = slurp(a_path), b = slurp(b_path);
  if (a == b) return "";
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return a_path + " (" + std::to_string(a.size()) + " bytes) and " + b_path + " (" + std::to_string(b.size()) +
         " bytes) differ from byte " + std::to_string(i);
}

// Bytes of `path` in extents the file system reports as shared with another file (FIEMAP).
uint64_t shared_extent_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  constexpr unsigned kExtents = 512;
  std::vector<uint8_t> buf(sizeof(fiemap) + kExtents * sizeof(fiemap_extent));
  uint64_t shared = 0;
  for (uint64_t start = 0;;) {
    auto* map = reinterpret_cast<fiemap*>(buf.data());
    *map = fiemap{};
    map->fm_start = start;
    map->fm_length = FIEMAP_MAX_OFFSET - start;
    map->fm_flags = FIEMAP_FLAG_SYNC;
    map->fm_extent_count = kExtents;
    if (::ioctl(fd, FS_IOC_FIEMAP, map) != 0) {
      ::close(fd);
      throw std::runtime_error("FIEMAP failed on " + path);
    }
    if (map->fm_mapped_extents == 0) break;
    bool last = false;
    for (unsigned i = 0; i < map->fm_mapped_extents; ++i) {
      const fiemap_extent& e = map->fm_extents[i];
      if (e.fe_flags & FIEMAP_EXTENT_SHARED) shared += e.fe_length;
      start = e.fe_logical + e.fe_length;
      last = last || (e.fe_flags & FIEMAP_EXTENT_LAST);
    }
    if (last) break;
  }
  ::close(fd);
  return shared;
}

// ------------------------------------------------------------------------------ the copier alone

class ReflinkCopier : public ::testing::Test {
 protected:
  static constexpr uint32_t kPages = 5 * 64 + 8;  // 16K pages: five whole 1 MiB chunks and a part
  static constexpr uint32_t kTornPage = 2 * 64 + 17;

  void SetUp() override {
    root_ = xfs_dir() + "/copier";
    fs::remove_all(root_);
    src_ = root_ + "/src";
    testpages::make_mysql_datadir(src_);
    testpages::write_file(fs::path(src_) / "db" / "big.ibd", testpages::tablespace(77, kPages));
    auto inv = scan_datadir(src_);
    ASSERT_TRUE(inv.is_ok()) << inv.status().message();
    for (const auto& t : inv->tablespaces)
      if (t.files[0].rel_path == "db/big.ibd") big_ = t;
    ASSERT_FALSE(big_.files.empty());
    options_.retry_delay = std::chrono::milliseconds(1);
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<std::vector<CopiedFile>> copy_into(const std::string& dst) {
    fs::create_directories(dst);
    DirectoryStorage sink(dst);
    CopyProgress progress;
    return copy_tablespace(src_, big_, innodb::default_format(16384, innodb::Flavour::kMysql), sink, options_,
                           progress);
  }

  std::string root_, src_;
  TablespaceEntry big_;
  CopyOptions options_;
};

TEST_F(ReflinkCopier, SharesEveryChunkAndRewritesAPageTornInTheSharedBlocks) {
  const std::string dst = root_ + "/dst";
  const std::string target_file = dst + "/db/big.ibd";
  // The clone took a page half-written: the bytes read back are bad, and so are the target's.
  // The copier must re-read the page from the source and write it over the shared blocks.
  int torn = 0;
  options_.reflink = Reflink::kAlways;
  options_.after_read = [&](const std::string& rel, uint64_t offset, std::span<uint8_t> chunk) {
    const uint64_t at = uint64_t(kTornPage) * 16384;
    if (rel != "db/big.ibd" || at < offset || at >= offset + chunk.size() || torn++) return;
    chunk[at - offset + 9000] ^= 0x5A;
    std::fstream f(target_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(at + 9000));
    f.put('\x33');
  };
  auto r = copy_into(dst);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const CopiedFile& f = (*r)[0];
  EXPECT_EQ(torn, 1);
  EXPECT_EQ(f.reread_pages, 1u);
  EXPECT_EQ(f.bytes, uint64_t(kPages) * 16384);
  EXPECT_EQ(f.shared_bytes, f.bytes) << "every whole page of the file was there at the start: all shared";
  EXPECT_EQ(difference(target_file, src_ + "/db/big.ibd"), "");
  const uint64_t shared = shared_extent_bytes(target_file);
  EXPECT_GE(shared, f.bytes - 64 * 1024) << "the file system does not report the target's blocks as shared";
  EXPECT_LT(shared, f.bytes) << "the page written over the shared blocks is still shared";
}

TEST_F(ReflinkCopier, AcrossFileSystemsCopiesTheBytesOrFailsWhenAlwaysWasAsked) {
  it::TempDir other;  // under /tmp: another file system than the XFS
  options_.reflink = Reflink::kAuto;
  auto r = copy_into(other.path() + "/auto");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shared_bytes, 0u);
  EXPECT_EQ(difference(other.path() + "/auto/db/big.ibd", src_ + "/db/big.ibd"), "");

  options_.reflink = Reflink::kAlways;
  auto a = copy_into(other.path() + "/always");
  ASSERT_FALSE(a.is_ok());
  EXPECT_EQ(a.status().code(), ExitCode::kPath);
  EXPECT_TRUE(contains(a.status().message(), "db/big.ibd")) << a.status().message();
  EXPECT_TRUE(contains(a.status().message(), "--reflink=always")) << a.status().message();

  options_.reflink = Reflink::kNever;
  auto n = copy_into(root_ + "/never");
  ASSERT_TRUE(n.is_ok()) << n.status().message();
  EXPECT_EQ((*n)[0].shared_bytes, 0u);
  EXPECT_EQ(shared_extent_bytes(root_ + "/never/db/big.ibd"), 0u);
}

// ------------------------------------------------------------------ local on XFS, under load

class ReflinkUnderLoad : public ::testing::TestWithParam<std::string> {};

TEST_P(ReflinkUnderLoad, SharedCopyStartsCleanAndReplicates) {
  const std::string& flavour = GetParam();
  const std::string xfs = xfs_dir();
  // The source runs on the XFS: a server made as usual, its datadir moved there.
  it::Server src(flavour, "16k");
  src.stop();
  const std::string source_data = xfs + "/" + it::test_name(flavour) + "-source";
  fs::remove_all(source_data);
  auto moved = it::run({"cp", "-a", src.datadir(), source_data});
  ASSERT_EQ(moved.exit_code, 0) << describe(moved);
  src.restart({"--datadir", source_data});
  it::sysbench_prepare(src, "oltp_read_write", 4, 5000);
  const std::string nt = it::create_nontransactional_table(src);

  it::Load writer = it::nontransactional_writer(src, 600);
  it::Load oltp = it::sysbench_run(src, "oltp_read_write", 4, 5000, 2, 600);
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 256 * 1024; }))
      << "the load does not write\n" << oltp.describe() << "\n" << writer.describe();

  // Throttled, so that the load writes over pages while they are shared.
  const std::string target = xfs + "/" + it::test_name(flavour) + "-copy";
  auto r = it::mysqlclone_bounded(it::local_args(src, target, {"--reflink=always", "--max-rate", "20"}), 900);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << describe(r);
  EXPECT_TRUE(oltp.running()) << "sysbench ended during the copy: " << oltp.describe();
  EXPECT_TRUE(writer.running()) << "the " << nt << " writer ended during the copy: " << writer.describe();
  const uint64_t shared = doc["reflink"].value("shared_bytes", 0ull);
  info(flavour + ": " + std::to_string(shared) + " of " + std::to_string(doc.value("bytes", 0ull)) +
       " bytes shared by reflink");
  EXPECT_EQ(doc["reflink"].value("mode", ""), "always");
  EXPECT_GT(shared, doc.value("bytes", 0ull) / 2) << "most of the copy should share the source's blocks";
  // The file system's own word (the load goes on writing, so the source unshares blocks as it
  // writes them: the figure only shrinks from here).
  uint64_t fs_shared = 0;
  for (const auto& e : fs::recursive_directory_iterator(target))
    if (e.is_regular_file()) fs_shared += shared_extent_bytes(e.path().string());
  info(flavour + ": " + std::to_string(fs_shared) + " bytes of the target in shared extents (FIEMAP)");
  EXPECT_GT(fs_shared, 0u) << "the file system reports no block of the target as shared";

  writer.stop();
  oltp.stop();
  ASSERT_TRUE(it::wait_quiet(src, 60)) << "the source still runs statements 60 s after the load was stopped";
  it::expect_good_copy(src, "reflinked copy", target, doc, it::source_gtids(src));
}

INSTANTIATE_TEST_SUITE_P(Flavours, ReflinkUnderLoad, ::testing::ValuesIn(it::kFlavours),
                         [](const ::testing::TestParamInfo<std::string>& info) { return it::test_name(info.param); });

}  // namespace
