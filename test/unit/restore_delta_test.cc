// restore --delta's in-place update (target_datadir.h): only the blocks that differ from the
// restored bytes are written, and the file ends up holding exactly those bytes.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "libclone/command/restore/restored_bytes.h"
#include "libclone/command/restore/target_datadir.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/sha256.h"
#include "test/unit/test_files.h"

namespace mysqlclone {
namespace {
using mysqlclone::test::slurp;

namespace fs = std::filesystem;

void spill(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

std::string sha256_of(const std::string& bytes) {
  Sha256 h;
  h.update({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  return h.hex_digest();
}

class RestoreDelta : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::remove_all(root_);
    fs::create_directories(root_ / "backup");
    fs::create_directories(root_ / "datadir");
    // 3 MiB + 5000 bytes of a pattern: the restored file.
    want_.resize((3 << 20) + 5000);
    for (size_t i = 0; i < want_.size(); ++i) want_[i] = char((i * 7 + i / 4096) & 0xff);
    spill(root_ / "backup/t.ibd", want_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<InPlace> update(const std::string& existing) {
    spill(root_ / "datadir/t.ibd", existing);
    auto bytes = RestoredBytes::open(WholeFile{(root_ / "backup").string(), "t.ibd", "t.ibd", sha256_of(want_), want_.size()});
    EXPECT_TRUE(bytes.is_ok());
    CopyProgress progress;
    return update_in_place((root_ / "datadir/t.ibd").string(), "t.ibd", **bytes, storage_, progress);
  }

  const fs::path root_ = fs::temp_directory_path() / ("mc-delta-" + std::to_string(::getpid()));
  DirectoryStorage storage_{(root_ / "datadir").string()};
  std::string want_;
};

TEST_F(RestoreDelta, AFileThatIsRightIsNotWritten) {
  auto r = update(want_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->written, 0u);
  EXPECT_EQ(r->sha256, sha256_of(want_));
}

// It was compared through the page cache: what a crashed server or an earlier restore wrote
// there may not be on the device yet, so it is due at the next sync() like a written one.
TEST_F(RestoreDelta, AFileThatIsRightIsStillMadeDurable) {
  auto r = update(want_);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->written, 0u);
  // A FIFO in its place makes the fdatasync of the file, if the sync attempts one, fail.
  fs::remove(root_ / "datadir/t.ibd");
  ASSERT_EQ(::mkfifo((root_ / "datadir/t.ibd").c_str(), 0600), 0);
  EXPECT_EQ(storage_.sync().code(), ExitCode::kPath);
}

TEST_F(RestoreDelta, OnlyTheBlocksThatDifferAreWritten) {
  std::string there = want_;
  there[100] ^= 1;                        // block 0
  there[kDeltaBlock * 70 + 3] ^= 1;       // block 70, in the second MiB
  there[kDeltaBlock * 71] ^= 1;           // block 71: one run with 70
  there.resize(there.size() - 6000);      // shorter: the tail is written
  auto r = update(there);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const uint64_t tail_block = (want_.size() - 6000) / kDeltaBlock * kDeltaBlock;
  EXPECT_EQ(r->written, 3 * kDeltaBlock + (want_.size() - tail_block));
  EXPECT_EQ(slurp(root_ / "datadir/t.ibd"), want_);
}

TEST_F(RestoreDelta, ADamagedSourceIsRefusedAtTheEnd) {
  std::string damaged = want_;
  damaged[5] ^= 1;
  spill(root_ / "backup/t.ibd", damaged);  // no longer what its SHA-256 says
  auto r = update(want_);
  EXPECT_EQ(r.status().code(), ExitCode::kVerifyFailed);
}

// --owner: names and numeric ids; what no host has, and ids chown() would misread, are refused.
TEST(RestoreOwner, NamesAndNumericIdsAreTakenAndNothingElse) {
  auto root = parse_owner("root");
  ASSERT_TRUE(root.is_ok()) << root.status().message();
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  auto numeric = parse_owner("1234:5678");
  ASSERT_TRUE(numeric.is_ok()) << numeric.status().message();
  EXPECT_EQ(numeric->uid, 1234u);
  EXPECT_EQ(numeric->gid, 5678u);
  auto mixed = parse_owner("root:4294967294");
  ASSERT_TRUE(mixed.is_ok()) << mixed.status().message();
  EXPECT_EQ(mixed->gid, 4294967294u);
  for (const std::string bad : {"no-such-user-here", "root:no-such-group-here", "1234", "4294967295:0", "4294967296:0",
                                "0:4294967296", "99999999999999999999999:0", ":0", "", "-1:0", "12a:0"}) {
    auto o = parse_owner(bad);
    EXPECT_EQ(o.status().code(), ExitCode::kUsage) << bad;
  }
  EXPECT_NE(parse_owner("1234").status().message().find("needs a group"), std::string::npos);
  // An id out of range says so, rather than that no such user exists.
  EXPECT_NE(parse_owner("4294967295:0").status().message().find("user id is not a whole number from 0 to 4294967294"),
            std::string::npos);
  EXPECT_NE(parse_owner("0:4294967296").status().message().find("group id is not a whole number from 0 to 4294967294"),
            std::string::npos);
}

}  // namespace
}  // namespace mysqlclone
