// The recipient's apply side (clone_apply.h) on a real temporary directory: what lands where,
// what is refused, and the ordering and finishing rules the stock recipient follows
// (clone-protocol.md §3.4–§3.8).
#include "libclone/command/remote/clone_apply.h"
#include "libclone/command/remote/clone_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "libclone/command/extract/extract.h"
#include "libclone/io/stream_storage.h"
#include "libclone/manifest/manifest.h"
#include "test/unit/test_datadir.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::text;
using mysqlclone::test::read_all;
using mysqlclone::test::expect_code;
using namespace mysqlclone;
using namespace mysqlclone::clone;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kPage = 16384;
constexpr uint64_t kMiB = 1 << 20;
// FSP flags of a 16K-page MySQL tablespace: 0 is the system tablespace's (Antelope), 0x4021 a
// file-per-table DYNAMIC one (post-Antelope, atomic blobs, SDI). Both have 64-page (1 MiB) extents.
constexpr uint32_t kFsp16k = 0;
constexpr uint32_t kFsp16kDynamic = 0x4021;
// 64K pages (page ssize 7): extents are 64 pages = 4 MiB.
constexpr uint32_t kFsp64k = 7u << 6;

FileDescriptor file_meta(uint32_t index, const std::string& name, uint64_t size,
                         SnapshotState state = SnapshotState::kFileCopy, uint32_t fsp_flags = kNotATablespace,
                         uint16_t flags = 0) {
  FileDescriptor d;
  d.state = state;
  d.file_size = size;
  d.allocated_size = size;
  d.fsp_flags = fsp_flags;
  d.fs_block_size = 4096;
  d.flags = flags;
  d.space_id = 100 + index;
  d.file_index = index;
  d.name = name;
  return d;
}

FileDescriptor redo_meta(uint32_t index, uint64_t size) {
  FileDescriptor d = file_meta(index, "", size, SnapshotState::kRedoCopy);
  d.space_id = 0xFFFFFFF0;
  return d;
}

DataDescriptor block(uint32_t index, uint64_t offset, size_t length, SnapshotState state = SnapshotState::kFileCopy,
                     uint64_t file_size = 0) {
  DataDescriptor d;
  d.state = state;
  d.file_index = index;
  d.data_length = static_cast<uint32_t>(length);
  d.file_offset = offset;
  d.file_size = file_size;
  return d;
}

Bytes filled(size_t n, uint8_t v) { return Bytes(n, v); }

// Every path under root, relative to it ("a", "a/b", ...).
std::set<std::string> tree(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) out.insert(fs::relative(e.path(), root).string());
  return out;
}

class CloneApplyTest : public ::testing::Test {
 protected:
  void SetUp() override { target = scratch.path / "clone"; }

  std::unique_ptr<Applier> begin(ServerVersion donor = {8, 4, 3}, bool allow_absolute = false) {
    auto a = Applier::begin(ApplyOptions{target, allow_absolute, donor});
    EXPECT_TRUE(a.is_ok()) << a.status().message();
    return a.is_ok() ? std::move(a).value() : nullptr;
  }

  testpages::ScratchDir scratch;
  fs::path target;
};

// ---- begin --------------------------------------------------------------------------------------

TEST_F(CloneApplyTest, BeginCreatesTheDirectoryAndTheInProgressMarker) {
  auto a = begin();
  ASSERT_TRUE(a);
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_TRUE(fs::is_directory(target / "mysql"));
  EXPECT_TRUE(fs::is_directory(target / "#clone"));
  ASSERT_TRUE(fs::is_regular_file(target / "#clone" / "#status_in_progress"));
  EXPECT_EQ(fs::file_size(target / "#clone" / "#status_in_progress"), 0u);
  EXPECT_EQ(tree(target), (std::set<std::string>{"mysql", "#clone", "#clone/#status_in_progress"}));
  EXPECT_TRUE(a->files().empty());
  EXPECT_EQ(a->bytes_written(), 0u);
}

TEST_F(CloneApplyTest, BeginTakesAnEmptyDirectory) {
  fs::create_directories(target);
  auto a = begin();
  ASSERT_TRUE(a);
  EXPECT_TRUE(fs::exists(target / "#clone" / "#status_in_progress"));
}

TEST_F(CloneApplyTest, BeginRefusesANonEmptyDirectory) {
  fs::create_directories(target);
  std::ofstream(target / "ibdata1") << "someone else's data";
  auto a = Applier::begin(ApplyOptions{target, false, {8, 4, 3}});
  ASSERT_FALSE(a.is_ok());
  expect_code(a.status(), ExitCode::kPath, "not empty");
  EXPECT_EQ(tree(target), std::set<std::string>{"ibdata1"});  // nothing added, nothing removed
  EXPECT_EQ(read_all(target / "ibdata1"), text("someone else's data"));
}

TEST_F(CloneApplyTest, BeginRefusesAFileOrAMissingParent) {
  std::ofstream(target) << "x";
  expect_code(Applier::begin(ApplyOptions{target, false, {8, 4, 3}}).status(), ExitCode::kPath, "not a directory");
  expect_code(Applier::begin(ApplyOptions{scratch.path / "no" / "such", false, {8, 4, 3}}).status(), ExitCode::kPath,
              "does not exist");
  EXPECT_FALSE(fs::exists(scratch.path / "no"));
}

// ---- files and data -----------------------------------------------------------------------------

TEST_F(CloneApplyTest, AnnouncedFilesAreCreatedAndBlocksLandAtTheirOffsets) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(0, "ibdata1", 0, SnapshotState::kFileCopy, kFsp16k)).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(1, "./db/t1.ibd", 0, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(2, "./mysql.ibd", 0)).is_ok());
  // Created as soon as they are announced, empty.
  EXPECT_EQ(fs::file_size(target / "ibdata1"), 0u);
  EXPECT_EQ(fs::file_size(target / "db" / "t1.ibd"), 0u);
  EXPECT_EQ(fs::file_size(target / "mysql.ibd"), 0u);

  ASSERT_TRUE(a->write(block(1, 8192, 3), text("abc")).is_ok());
  ASSERT_TRUE(a->write(block(1, 0, 3), text("xyz")).is_ok());
  ASSERT_TRUE(a->write(block(0, kPage, 4), text("SYS!")).is_ok());

  Bytes t1 = read_all(target / "db" / "t1.ibd");
  ASSERT_EQ(t1.size(), 8195u);
  EXPECT_EQ(Bytes(t1.begin(), t1.begin() + 3), text("xyz"));
  EXPECT_EQ(Bytes(t1.begin() + 3, t1.begin() + 8192), filled(8189, 0));
  EXPECT_EQ(Bytes(t1.begin() + 8192, t1.end()), text("abc"));
  Bytes sys = read_all(target / "ibdata1");
  ASSERT_EQ(sys.size(), kPage + 4);
  EXPECT_EQ(Bytes(sys.begin() + kPage, sys.end()), text("SYS!"));
  EXPECT_EQ(fs::file_size(target / "mysql.ibd"), 0u);
  EXPECT_EQ(a->bytes_written(), 10u);

  auto files = a->files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, "ibdata1");
  EXPECT_EQ(files[0].size, kPage + 4);  // grown by what was written
  EXPECT_TRUE(files[0].tablespace);
  EXPECT_EQ(files[1].path, "db/t1.ibd");
  EXPECT_EQ(files[1].donor_name, "./db/t1.ibd");
  EXPECT_TRUE(files[1].tablespace);
  EXPECT_EQ(files[2].path, "mysql.ibd");
  EXPECT_FALSE(files[2].tablespace);
  EXPECT_TRUE(a->absolute_donor_names().empty());
}

TEST_F(CloneApplyTest, DataDescriptorFileSizeGrowsTheKnownSize) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(0, "t.ibd", 4 * kPage)).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, 4, SnapshotState::kPageCopy, 9 * kPage), text("page")).is_ok());
  EXPECT_EQ(a->files()[0].size, 9 * kPage);
  ASSERT_TRUE(a->write(block(0, 0, 4, SnapshotState::kPageCopy, 2 * kPage), text("page")).is_ok());
  EXPECT_EQ(a->files()[0].size, 9 * kPage);  // never shrinks
}

TEST_F(CloneApplyTest, RepeatedMetadataMergesWithTheLargestSize) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(3, "db/t.ibd", 4 * kPage)).is_ok());
  ASSERT_TRUE(a->write(block(3, 0, 5), text("kept!")).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(3, "db/t.ibd", 8 * kPage)).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(3, "./db/t.ibd", 6 * kPage)).is_ok());  // same file, other spelling
  auto files = a->files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].size, 8 * kPage);
  // The repeat did not recreate (truncate) the file.
  EXPECT_EQ(read_all(target / "db" / "t.ibd"), text("kept!"));

  // Redo metadata is sent again during REDO COPY; duplicates merge the same way.
  ASSERT_TRUE(a->add_file(redo_meta(0, 2 * kMiB)).is_ok());
  ASSERT_TRUE(a->add_file(redo_meta(0, 4 * kMiB)).is_ok());
  ASSERT_TRUE(a->add_file(redo_meta(0, 1 * kMiB)).is_ok());
  files = a->files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].path, "#innodb_redo/#ib_redo0");
  EXPECT_EQ(files[1].size, 4 * kMiB);
}

TEST_F(CloneApplyTest, ConflictingMetadataIsAProtocolError) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(3, "db/t.ibd", kPage)).is_ok());
  // Another name under a known index.
  expect_code(a->add_file(file_meta(3, "db/u.ibd", kPage)), ExitCode::kProtocol, "file index 3");
  EXPECT_FALSE(fs::exists(target / "db" / "u.ibd"));
  // The same name under a second index, however spelled.
  expect_code(a->add_file(file_meta(4, "db/t.ibd", kPage)), ExitCode::kProtocol, "twice");
  expect_code(a->add_file(file_meta(5, "./db/t.ibd", kPage)), ExitCode::kProtocol, "twice");
  // A redo file before 8.0.30 is DIR/ib_logfile0: a data file may not claim it either.
  target = scratch.path / "old";
  auto old = begin({8, 0, 28});
  ASSERT_TRUE(old);
  ASSERT_TRUE(old->add_file(redo_meta(0, kMiB)).is_ok());
  expect_code(old->add_file(file_meta(0, "ib_logfile0", kPage)), ExitCode::kProtocol, "twice");
  ASSERT_EQ(old->files().size(), 1u);
  // The failures left the first registrations as they were.
  ASSERT_EQ(a->files().size(), 1u);
  EXPECT_EQ(a->files()[0].path, "db/t.ibd");
}

TEST_F(CloneApplyTest, FileAndRedoIndexesAreSeparate) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(0, "ib_buffer_pool", 10)).is_ok());
  ASSERT_TRUE(a->add_file(redo_meta(0, kMiB)).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, 4, SnapshotState::kFileCopy), text("pool")).is_ok());
  ASSERT_TRUE(a->write(block(0, 2, 4, SnapshotState::kRedoCopy), text("redo")).is_ok());
  // PAGE COPY shares the data-file table of FILE COPY.
  ASSERT_TRUE(a->write(block(0, 4, 2, SnapshotState::kPageCopy), text("PC")).is_ok());
  EXPECT_EQ(read_all(target / "ib_buffer_pool"), text("poolPC"));
  EXPECT_EQ(read_all(target / "#innodb_redo" / "#ib_redo0"), (Bytes{0, 0, 'r', 'e', 'd', 'o'}));
}

TEST_F(CloneApplyTest, EncryptionIsUnsupported) {
  auto a = begin();
  ASSERT_TRUE(a);
  struct Case {
    uint16_t flags;
    const char* needle;
  };
  const Case cases[] = {{kFileFlagEncrypted, "encrypted"},
                        {kFileFlagHasKey, "encrypted"},
                        {kFileFlagEncrypted | kFileFlagHasKey, "encrypted"},
                        {kFileFlagEncrypted | kFileFlagRenamed, "encrypted"}};
  uint32_t index = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flags);
    expect_code(a->add_file(file_meta(index, "db/f" + std::to_string(index) + ".ibd", kPage,
                                      SnapshotState::kFileCopy, kFsp16kDynamic, c.flags)),
                ExitCode::kUnsupported, c.needle);
    ++index;
  }
  // Encrypted redo is refused the same way.
  FileDescriptor redo = redo_meta(0, kMiB);
  redo.flags = kFileFlagEncrypted | kFileFlagHasKey;
  expect_code(a->add_file(redo), ExitCode::kUnsupported, "redo file 0");
  // The name is judged before the flags, so a hostile name never reaches an error message.
  expect_code(a->add_file(file_meta(11, "db/x\nmysqlclone: ok.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic,
                                    kFileFlagEncrypted)),
              ExitCode::kProtocol, "");
  EXPECT_TRUE(a->files().empty());
  EXPECT_EQ(tree(target), (std::set<std::string>{"mysql", "#clone", "#clone/#status_in_progress"}));
  // Page compression alone is applied as plain pages.
  ASSERT_TRUE(a->add_file(file_meta(9, "db/z.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic, kFileFlagZlib))
                  .is_ok());
  ASSERT_TRUE(a->add_file(file_meta(10, "db/l.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic, kFileFlagLz4))
                  .is_ok());
  EXPECT_TRUE(fs::exists(target / "db" / "z.ibd"));
}

// ---- the donor's concurrent DDL ---------------------------------------------------------------

FileDescriptor ddl_meta(uint32_t index, const std::string& name, uint16_t flags,
                        SnapshotState batch = SnapshotState::kPageCopy) {
  return file_meta(index, name, 7 * kPage, batch, kFsp16kDynamic, flags);
}

TEST_F(CloneApplyTest, ADdlBatchDeletesRenamesAndCreatesWithReusedNames) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->begin_state(SnapshotState::kFileCopy).is_ok());
  for (uint32_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(a->add_file(file_meta(i, std::string("db/") + char('a' + i) + ".ibd", kPage, SnapshotState::kFileCopy,
                                      kFsp16kDynamic))
                    .is_ok());
    ASSERT_TRUE(a->write(block(i, 0, kPage), filled(kPage, uint8_t('A' + i))).is_ok());
  }
  // The batch after FILE COPY (state PAGE COPY), in ascending index: a dropped, b renamed to a,
  // c renamed to b, and a new table under c's old name.
  ASSERT_TRUE(a->add_file(ddl_meta(0, "db/a.ibd", kFileFlagDeleted)).is_ok());
  EXPECT_FALSE(fs::exists(target / "db" / "a.ibd"));
  ASSERT_TRUE(a->add_file(ddl_meta(1, "db/a.ibd", kFileFlagRenamed)).is_ok());
  ASSERT_TRUE(a->add_file(ddl_meta(2, "db/b.ibd", kFileFlagRenamed)).is_ok());
  // Until the next state starts, a renamed file has a name no table can have.
  EXPECT_TRUE(fs::exists(target / "db" / "a.ibd.#clone_ddl"));
  EXPECT_TRUE(fs::exists(target / "db" / "b.ibd.#clone_ddl"));
  FileDescriptor created = ddl_meta(3, "db/c.ibd", 0);
  created.space_id = 77;
  ASSERT_TRUE(a->add_file(created).is_ok());
  ASSERT_TRUE(a->begin_state(SnapshotState::kPageCopy).is_ok());
  EXPECT_EQ(tree(target), (std::set<std::string>{"mysql", "#clone", "#clone/#status_in_progress", "db", "db/a.ibd",
                                                 "db/b.ibd", "db/c.ibd"}));
  EXPECT_EQ(read_all(target / "db" / "a.ibd"), filled(kPage, 'B'));
  EXPECT_EQ(read_all(target / "db" / "b.ibd"), filled(kPage, 'C'));
  // The new file: as the server creates a tablespace, page 0 with its identity, 7 pages.
  const Bytes c = read_all(target / "db" / "c.ibd");
  ASSERT_EQ(c.size(), 7 * kPage);
  EXPECT_EQ(c[34 + 3], 77);  // FIL header space id (big-endian)
  EXPECT_EQ(c[38 + 3], 77);  // FSP header space id
  // Its modified pages arrive in PAGE COPY; blocks for the dropped file are read and dropped.
  ASSERT_TRUE(a->write(block(3, 3 * kPage, kPage, SnapshotState::kPageCopy), filled(kPage, 'N')).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, kPage, SnapshotState::kFileCopy), filled(kPage, 'X')).is_ok());
  EXPECT_FALSE(fs::exists(target / "db" / "a.ibd.#clone_ddl"));
  const auto ddl = a->concurrent_ddl();
  EXPECT_EQ(ddl.created, 1u);
  EXPECT_EQ(ddl.renamed, 2u);
  EXPECT_EQ(ddl.deleted, 1u);
  ASSERT_TRUE(a->finish_files().is_ok());
  EXPECT_EQ(a->files().size(), 3u);
  const Bytes after = read_all(target / "db" / "c.ibd");
  ASSERT_GE(after.size(), 4 * kPage);
  EXPECT_EQ(Bytes(after.begin() + 3 * kPage, after.begin() + 4 * kPage), filled(kPage, 'N'));
}

TEST_F(CloneApplyTest, RenamesThatSwapNamesResolveWhenTheNextStateBegins) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->begin_state(SnapshotState::kFileCopy).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(0, "db/x.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(1, "db/y.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, kPage), filled(kPage, 'x')).is_ok());
  ASSERT_TRUE(a->write(block(1, 0, kPage), filled(kPage, 'y')).is_ok());
  ASSERT_TRUE(a->add_file(ddl_meta(0, "db/y.ibd", kFileFlagRenamed)).is_ok());
  ASSERT_TRUE(a->add_file(ddl_meta(1, "db/x.ibd", kFileFlagRenamed)).is_ok());
  ASSERT_TRUE(a->begin_state(SnapshotState::kPageCopy).is_ok());
  EXPECT_EQ(read_all(target / "db" / "x.ibd"), filled(kPage, 'y'));
  EXPECT_EQ(read_all(target / "db" / "y.ibd"), filled(kPage, 'x'));
  // Announced again in the next batch (a DDL just after the state change is): nothing to do.
  ASSERT_TRUE(a->add_file(ddl_meta(0, "db/y.ibd", kFileFlagRenamed, SnapshotState::kRedoCopy)).is_ok());
  ASSERT_TRUE(a->begin_state(SnapshotState::kRedoCopy).is_ok());
  EXPECT_EQ(read_all(target / "db" / "y.ibd"), filled(kPage, 'x'));
  EXPECT_EQ(a->concurrent_ddl().renamed, 2u);
}

TEST_F(CloneApplyTest, ADeleteDuringAStateDropsTheFileAndItsLaterBlocks) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->begin_state(SnapshotState::kFileCopy).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(0, "db/gone.ibd", 4 * kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, kPage), filled(kPage, 'g')).is_ok());
  // On any stream, with the current state: the file was dropped on the donor.
  ASSERT_TRUE(a->add_file(file_meta(0, "db/gone.ibd", 4 * kPage, SnapshotState::kFileCopy, kFsp16kDynamic,
                                    kFileFlagDeleted))
                  .is_ok());
  EXPECT_FALSE(fs::exists(target / "db" / "gone.ibd"));
  ASSERT_TRUE(a->write(block(0, kPage, kPage), filled(kPage, 'g')).is_ok());
  EXPECT_FALSE(fs::exists(target / "db" / "gone.ibd"));
  // And again in the batch.
  ASSERT_TRUE(a->add_file(ddl_meta(0, "db/gone.ibd", kFileFlagDeleted)).is_ok());
  // A file created and dropped before the batch: nothing is written, its blocks are dropped.
  ASSERT_TRUE(a->add_file(ddl_meta(1, "db/brief.ibd", kFileFlagDeleted)).is_ok());
  ASSERT_TRUE(a->begin_state(SnapshotState::kPageCopy).is_ok());
  ASSERT_TRUE(a->write(block(1, 0, kPage, SnapshotState::kPageCopy), filled(kPage, 'b')).is_ok());
  ASSERT_TRUE(a->finish_files().is_ok());
  EXPECT_TRUE(a->files().empty());
  EXPECT_EQ(tree(target), (std::set<std::string>{"mysql", "#clone", "#clone/#status_in_progress", "db"}));
  EXPECT_EQ(a->concurrent_ddl().deleted, 2u);
}

TEST_F(CloneApplyTest, FilesCreatedDuringPageCopyAreDataFilesNotRedo) {
  auto a = begin({9, 7, 4});
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->begin_state(SnapshotState::kFileCopy).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(0, "db/t.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  ASSERT_TRUE(a->begin_state(SnapshotState::kPageCopy).is_ok());
  // The batch after PAGE COPY carries REDO COPY's number.
  ASSERT_TRUE(a->add_file(ddl_meta(1, "db/late.ibd", 0, SnapshotState::kRedoCopy)).is_ok());
  const Bytes late = read_all(target / "db" / "late.ibd");
  ASSERT_EQ(late.size(), 7 * kPage);
  EXPECT_EQ((uint32_t(late[8]) << 24 | uint32_t(late[9]) << 16 | uint32_t(late[10]) << 8 | late[11]), 90704u);
  // A worker may announce REDO COPY's redo files before the main stream saw that state begin.
  ASSERT_TRUE(a->add_file(redo_meta(2, kMiB)).is_ok());
  EXPECT_TRUE(fs::exists(target / "#innodb_redo" / "#ib_redo2"));
  ASSERT_TRUE(a->begin_state(SnapshotState::kRedoCopy).is_ok());
  // REDO COPY's own files keep their index space.
  ASSERT_TRUE(a->add_file(redo_meta(1, kMiB)).is_ok());
  EXPECT_TRUE(fs::exists(target / "#innodb_redo" / "#ib_redo1"));
  EXPECT_EQ(a->concurrent_ddl().created, 1u);
}

TEST_F(CloneApplyTest, DdlTheApplierCannotMakeSenseOfIsRefused) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->begin_state(SnapshotState::kFileCopy).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(0, "db/a.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  ASSERT_TRUE(a->add_file(file_meta(1, "db/b.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  // A rename onto a name that nothing frees.
  ASSERT_TRUE(a->add_file(ddl_meta(0, "db/b.ibd", kFileFlagRenamed)).is_ok());
  expect_code(a->begin_state(SnapshotState::kPageCopy), ExitCode::kProtocol, "another file");
  // A new tablespace with flags no MySQL server writes.
  auto b = Applier::begin(ApplyOptions{scratch.path / "other", false, {9, 7, 4}});
  ASSERT_TRUE(b.is_ok());
  ASSERT_TRUE((*b)->begin_state(SnapshotState::kFileCopy).is_ok());
  FileDescriptor odd = ddl_meta(0, "db/odd.ibd", 0);
  odd.fsp_flags = 0x21 | 2u << 6;  // 2K pages
  expect_code((*b)->add_file(odd), ExitCode::kUnsupported, "cannot initialise");
  // Renames and deletes never concern redo files.
  FileDescriptor redo = redo_meta(0, kMiB);
  redo.flags = kFileFlagDeleted;
  ASSERT_TRUE((*b)->begin_state(SnapshotState::kRedoCopy).is_ok());
  expect_code((*b)->add_file(redo), ExitCode::kProtocol, "DDL on redo file 0");
}

TEST_F(CloneApplyTest, MetadataAndDataOutsideTheCopyStatesAreRefused) {
  auto a = begin();
  ASSERT_TRUE(a);
  for (auto state : {SnapshotState::kNone, SnapshotState::kInit, SnapshotState::kDone}) {
    expect_code(a->add_file(file_meta(0, "t.ibd", kPage, state)), ExitCode::kProtocol, "file metadata in state");
  }
  ASSERT_TRUE(a->add_file(file_meta(0, "t.ibd", kPage)).is_ok());
  for (auto state : {SnapshotState::kNone, SnapshotState::kInit, SnapshotState::kDone}) {
    expect_code(a->write(block(0, 0, 1, state), text("x")), ExitCode::kProtocol, "data block in state");
  }
  EXPECT_EQ(fs::file_size(target / "t.ibd"), 0u);
}

TEST_F(CloneApplyTest, HostileNamesNeverCreateAnythingOutsideTheTarget) {
  // DIR two levels down, so that a name escaping by one or two levels would still be inside
  // the scratch directory, where the test can see it.
  target = scratch.path / "a" / "b" / "clone";
  fs::create_directories(target.parent_path());
  auto a = begin();
  ASSERT_TRUE(a);
  const std::vector<std::string> names = {
      "../escape.ibd",
      "./../escape.ibd",
      "../../escape.ibd",
      "db/../../escape.ibd",
      "db/../../../a/escape.ibd",
      "..",
      ".",
      "./",
      "",
      "db/",
      "db//t.ibd",
      "db/./t.ibd",
      ".//escape.ibd",
      "#clone/#status_fix",
      "./#clone/#status_in_progress",
      "#CLONE/x",
      "#innodb_redo/#ib_redo0",
      "#external/etc/passwd",
      "mysqlclone.json",
      "db/t\n.ibd",
      std::string("db/t\0../../x", 12),
      std::string(5000, 'a'),
  };
  uint32_t index = 0;
  for (const auto& name : names) {
    SCOPED_TRACE("name: " + name);
    const Status s = a->add_file(file_meta(index++, name, kPage));
    EXPECT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), ExitCode::kProtocol) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << "one line: " << s.message();
  }
  // Absolute names are refused by default and never written at their own path.
  const fs::path outside = scratch.path / "outside" / "t.ibd";
  expect_code(a->add_file(file_meta(index++, outside.string(), kPage)), ExitCode::kUnsupported,
              "--allow-absolute-paths");
  EXPECT_TRUE(a->files().empty());

  std::set<std::string> expected = {"a", "a/b", "a/b/clone", "a/b/clone/mysql", "a/b/clone/#clone",
                                    "a/b/clone/#clone/#status_in_progress"};
  EXPECT_EQ(tree(scratch.path), expected);

  // Allowed, an absolute name lands under DIR/#external, not at its own path.
  target = scratch.path / "abs";
  auto b = begin({8, 4, 3}, true);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->add_file(file_meta(0, outside.string(), kPage)).is_ok());
  ASSERT_TRUE(b->write(block(0, 0, 3), text("abs")).is_ok());
  EXPECT_FALSE(fs::exists(scratch.path / "outside"));
  const fs::path moved = target / "#external" / outside.relative_path();
  EXPECT_EQ(read_all(moved), text("abs"));
  EXPECT_EQ(b->absolute_donor_names(), std::vector<std::string>{outside.string()});
  // Still no ".." under #external.
  expect_code(b->add_file(file_meta(1, "/x/../../../escape.ibd", kPage)), ExitCode::kProtocol, "'..'");
  EXPECT_FALSE(fs::exists(scratch.path / "escape.ibd"));
}

TEST_F(CloneApplyTest, RedoFilesFromDonorsAtOrAfter8030LandInInnodbRedo) {
  auto a = begin({8, 0, 30});
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(redo_meta(0, kMiB)).is_ok());
  ASSERT_TRUE(a->add_file(redo_meta(1, kMiB)).is_ok());
  ASSERT_TRUE(a->write(block(1, 512, 6, SnapshotState::kRedoCopy), text("redo 1")).is_ok());
  EXPECT_TRUE(fs::is_regular_file(target / "#innodb_redo" / "#ib_redo0"));
  const Bytes r1 = read_all(target / "#innodb_redo" / "#ib_redo1");
  ASSERT_EQ(r1.size(), 518u);
  EXPECT_EQ(Bytes(r1.begin() + 512, r1.end()), text("redo 1"));
  EXPECT_FALSE(fs::exists(target / "ib_logfile0"));
  auto files = a->files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "#innodb_redo/#ib_redo0");
  EXPECT_EQ(files[0].donor_name, "");
}

TEST_F(CloneApplyTest, RedoFilesFromDonorsBefore8030AreIbLogfiles) {
  auto a = begin({8, 0, 29});
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(redo_meta(0, kMiB)).is_ok());
  ASSERT_TRUE(a->add_file(redo_meta(1, kMiB)).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, 6, SnapshotState::kRedoCopy), text("header")).is_ok());
  EXPECT_EQ(read_all(target / "ib_logfile0"), text("header"));
  EXPECT_TRUE(fs::is_regular_file(target / "ib_logfile1"));
  EXPECT_FALSE(fs::exists(target / "#innodb_redo"));
}

// ---- streams on several threads -----------------------------------------------------------------

TEST_F(CloneApplyTest, DataForAFileNotYetAnnouncedWaitsForItsMetadata) {
  auto a = begin();
  ASSERT_TRUE(a);
  std::atomic<bool> done{false};
  Status result = Status::error(ExitCode::kInternal, "not run");
  std::thread worker([&] {
    result = a->write(block(7, 4, 6, SnapshotState::kFileCopy), text("worker"));
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done) << "write() returned before the file was announced: " << result.message();
  ASSERT_TRUE(a->add_file(file_meta(7, "db/late.ibd", kPage)).is_ok());
  worker.join();
  ASSERT_TRUE(result.is_ok()) << result.message();
  EXPECT_EQ(read_all(target / "db" / "late.ibd"), (Bytes{0, 0, 0, 0, 'w', 'o', 'r', 'k', 'e', 'r'}));
}

TEST_F(CloneApplyTest, CancelWakesAWaitingWriterWithAnError) {
  auto a = begin();
  ASSERT_TRUE(a);
  std::atomic<bool> done{false};
  Status result;
  std::thread worker([&] {
    result = a->write(block(7, 0, 6, SnapshotState::kPageCopy), text("worker"));
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done);
  const auto cancelled_at = std::chrono::steady_clock::now();
  a->cancel();
  worker.join();
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(10));
  expect_code(result, ExitCode::kInterrupted, "cancelled");
  // Announcing the file afterwards does not bring the write back; later writes fail too.
  ASSERT_TRUE(a->add_file(file_meta(7, "db/late.ibd", kPage)).is_ok());
  expect_code(a->write(block(7, 0, 6), text("later!")), ExitCode::kInterrupted, "cancelled");
  EXPECT_EQ(fs::file_size(target / "db" / "late.ibd"), 0u);
}

// ---- hostile offsets and sizes ------------------------------------------------------------------

TEST_F(CloneApplyTest, OffsetsNearTwoToTheSixtyFourAreProtocolErrors) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(0, "t.ibd", kPage)).is_ok());
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const Bytes data = text("four");
  for (uint64_t offset : {kMax, kMax - 1, kMax - 3, kMax - 16384, uint64_t(1) << 63, uint64_t(1) << 48}) {
    SCOPED_TRACE(offset);
    expect_code(a->write(block(0, offset, data.size()), data), ExitCode::kProtocol, "beyond any possible file size");
    expect_code(a->write(block(0, offset, data.size(), SnapshotState::kPageCopy), data), ExitCode::kProtocol,
                "beyond any possible file size");
  }
  // An offset just below the bound plus a length crossing it.
  expect_code(a->write(block(0, (uint64_t(1) << 48) - 2, data.size()), data), ExitCode::kProtocol, "beyond");
  EXPECT_EQ(fs::file_size(target / "t.ibd"), 0u);
  EXPECT_EQ(a->files()[0].size, kPage);  // the refused blocks did not grow the file either
  EXPECT_EQ(a->bytes_written(), 0u);
}

TEST_F(CloneApplyTest, HostileFileSizesAreProtocolErrors) {
  auto a = begin();
  ASSERT_TRUE(a);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  // Sizes no real file has; near 2^64, rounding a tablespace up to whole extents wraps around.
  for (uint64_t size : {kMax, kMax - 5, uint64_t(1) << 63, (uint64_t(1) << 48) + 1}) {
    SCOPED_TRACE(size);
    expect_code(a->add_file(file_meta(0, "t.ibd", size, SnapshotState::kFileCopy, kFsp16kDynamic)),
                ExitCode::kProtocol, "size");
    expect_code(a->add_file(redo_meta(0, size)), ExitCode::kProtocol, "size");
  }
  EXPECT_TRUE(a->files().empty());
  EXPECT_FALSE(fs::exists(target / "t.ibd"));
  // The same sizes reported by a data descriptor (PAGE COPY's page 0 growth).
  ASSERT_TRUE(a->add_file(file_meta(1, "u.ibd", kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  for (uint64_t size : {kMax, kMax - 5, uint64_t(1) << 63, (uint64_t(1) << 48) + 1}) {
    SCOPED_TRACE(size);
    expect_code(a->write(block(1, 0, 4, SnapshotState::kPageCopy, size), text("page")), ExitCode::kProtocol, "size");
  }
  EXPECT_EQ(a->files()[0].size, kPage);
  EXPECT_EQ(fs::file_size(target / "u.ibd"), 0u);
  // Up to the bound a size is accepted (nothing is allocated before finish_files).
  ASSERT_TRUE(a->write(block(1, 0, 4, SnapshotState::kPageCopy, uint64_t(1) << 40), text("page")).is_ok());
  EXPECT_EQ(a->files()[0].size, uint64_t(1) << 40);
}

// ---- FILE COPY against PAGE COPY ----------------------------------------------------------------

TEST_F(CloneApplyTest, AStaleFileCopyBlockNeverOverwritesPageCopyBytes) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(0, "db/t.ibd", 8 * kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  // PAGE COPY's fresh pages 1 and 3 arrive (on one connection) before FILE COPY's block of
  // pages 0..4 (still in flight on another).
  ASSERT_TRUE(a->write(block(0, 1 * kPage, kPage, SnapshotState::kPageCopy), filled(kPage, 'P')).is_ok());
  ASSERT_TRUE(a->write(block(0, 3 * kPage, kPage, SnapshotState::kPageCopy), filled(kPage, 'Q')).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, 5 * kPage, SnapshotState::kFileCopy), filled(5 * kPage, 'F')).is_ok());
  // A later FILE COPY block starting in the middle of page 1 (and ending inside page 3).
  ASSERT_TRUE(a->write(block(0, kPage + 100, 2 * kPage, SnapshotState::kFileCopy), filled(2 * kPage, 'G')).is_ok());

  const Bytes f = read_all(target / "db" / "t.ibd");
  ASSERT_EQ(f.size(), 5 * kPage);
  auto page = [&](uint64_t n) { return Bytes(f.begin() + n * kPage, f.begin() + (n + 1) * kPage); };
  EXPECT_EQ(page(0), filled(kPage, 'F'));
  EXPECT_EQ(page(1), filled(kPage, 'P'));
  EXPECT_EQ(page(2), filled(kPage, 'G'));
  EXPECT_EQ(page(3), filled(kPage, 'Q'));
  EXPECT_EQ(page(4), filled(kPage, 'F'));

  // The ordinary order: PAGE COPY after FILE COPY overwrites.
  ASSERT_TRUE(a->write(block(0, 4 * kPage, kPage, SnapshotState::kPageCopy), filled(kPage, 'R')).is_ok());
  ASSERT_TRUE(a->write(block(0, 1 * kPage, kPage, SnapshotState::kPageCopy), filled(kPage, 'S')).is_ok());
  const Bytes g = read_all(target / "db" / "t.ibd");
  EXPECT_EQ(Bytes(g.begin() + 4 * kPage, g.end()), filled(kPage, 'R'));
  EXPECT_EQ(Bytes(g.begin() + kPage, g.begin() + 2 * kPage), filled(kPage, 'S'));
  // Redo is never subject to the rule, and other files are not affected by this file's pages.
  ASSERT_TRUE(a->add_file(file_meta(1, "db/u.ibd", 8 * kPage)).is_ok());
  ASSERT_TRUE(a->write(block(1, 0, 2 * kPage, SnapshotState::kFileCopy), filled(2 * kPage, 'U')).is_ok());
  EXPECT_EQ(read_all(target / "db" / "u.ibd"), filled(2 * kPage, 'U'));
}

// ---- finish and hand over -----------------------------------------------------------------------

TEST_F(CloneApplyTest, FinishFilesExtendsAndAlignsTablespacesOnly) {
  auto a = begin();
  ASSERT_TRUE(a);
  struct Expect {
    std::string path;
    uint64_t size;
  };
  std::vector<Expect> expected;
  uint32_t index = 0;
  auto add = [&](const std::string& name, uint64_t announced, uint32_t fsp, uint64_t written, uint64_t final_size) {
    ASSERT_TRUE(a->add_file(file_meta(index, name, announced, SnapshotState::kFileCopy, fsp)).is_ok()) << name;
    if (written) {
      ASSERT_TRUE(a->write(block(index, 0, written), filled(written, 'd')).is_ok()) << name;
    }
    expected.push_back({name, final_size});
    ++index;
  };
  // A short tablespace of less than one extent: extended to its announced size, not rounded.
  add("short.ibd", 5 * kPage, kFsp16kDynamic, kPage, 5 * kPage);
  // Exactly one extent: left alone.
  add("one_extent.ibd", kMiB, kFsp16k, kPage, kMiB);
  // Just over one extent: rounded up to two.
  add("over.ibd", kMiB + kPage, kFsp16kDynamic, kPage, 2 * kMiB);
  // A written size beyond the announced one counts too.
  add("written.ibd", kPage, kFsp16k, kMiB + 2 * kPage, 2 * kMiB);
  // Already whole extents: left alone.
  add("whole.ibd", 3 * kMiB, kFsp16k, 3 * kMiB, 3 * kMiB);
  // 64K pages: 64-page extents of 4 MiB.
  add("big_pages.ibd", 4 * kMiB + 65536, kFsp64k, 65536, 8 * kMiB);
  // Not tablespaces: extended to their size, never rounded.
  add("ib_buffer_pool", kMiB + 100, kNotATablespace, 10, kMiB + 100);
  add("small_other", 10, kNotATablespace, 50, 50);
  // Unknown (invalid) flags: treated as unknown format, not rounded.
  add("odd.ibd", kMiB + 1, 0xFFFF0000, 1, kMiB + 1);
  // The data descriptor's file size (page 0 shows growth) is the known size.
  ASSERT_TRUE(a->add_file(file_meta(index, "grown.ibd", 4 * kPage, SnapshotState::kFileCopy, kFsp16kDynamic)).is_ok());
  ASSERT_TRUE(a->write(block(index, 0, kPage, SnapshotState::kPageCopy, kMiB + 4 * kPage), filled(kPage, 'd')).is_ok());
  expected.push_back({"grown.ibd", 2 * kMiB});
  ++index;
  // Redo: extended to the archived file size.
  ASSERT_TRUE(a->add_file(redo_meta(0, 4 * kMiB + 512)).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, 2048, SnapshotState::kRedoCopy), filled(2048, 'h')).is_ok());
  expected.push_back({"#innodb_redo/#ib_redo0", 4 * kMiB + 512});

  const Status s = a->finish_files();
  ASSERT_TRUE(s.is_ok()) << s.message();
  for (const auto& e : expected) {
    SCOPED_TRACE(e.path);
    ASSERT_TRUE(fs::exists(target / e.path));
    EXPECT_EQ(fs::file_size(target / e.path), e.size);
  }
  // Written bytes intact, the extension zero.
  const Bytes over = read_all(target / "over.ibd");
  EXPECT_EQ(Bytes(over.begin(), over.begin() + kPage), filled(kPage, 'd'));
  EXPECT_EQ(Bytes(over.begin() + kPage, over.end()), filled(2 * kMiB - kPage, 0));
  const Bytes redo = read_all(target / "#innodb_redo" / "#ib_redo0");
  EXPECT_EQ(Bytes(redo.begin(), redo.begin() + 2048), filled(2048, 'h'));
  // finish_files does not hand over yet.
  EXPECT_TRUE(fs::exists(target / "#clone" / "#status_in_progress"));
  EXPECT_FALSE(fs::exists(target / "#clone" / "#status_fix"));
}

TEST_F(CloneApplyTest, HandOverLeavesTheMarkersOfAFinishedClone) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(0, "ibdata1", kPage, SnapshotState::kFileCopy, kFsp16k)).is_ok());
  ASSERT_TRUE(a->write(block(0, 0, 4), text("data")).is_ok());
  ASSERT_TRUE(a->finish_files().is_ok());
  const std::string view_status = "2 1\n1700000000000000 1700000001000000\ndonor:3306\n0\n\n\n0\n\n";
  const Status s = a->hand_over(view_status);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_FALSE(fs::exists(target / "#clone" / "#status_in_progress"));
  ASSERT_TRUE(fs::is_regular_file(target / "#clone" / "#status_fix"));
  ASSERT_TRUE(fs::is_regular_file(target / "#clone" / "#replace_files"));
  EXPECT_EQ(fs::file_size(target / "#clone" / "#replace_files"), 0u);  // empty: not an in-place clone
  EXPECT_EQ(read_all(target / "#clone" / "#view_status"), text(view_status));
  EXPECT_EQ(tree(target / "#clone"), (std::set<std::string>{"#status_fix", "#replace_files", "#view_status"}));
  EXPECT_EQ(fs::file_size(target / "ibdata1"), kPage);
  // A second hand-over is a bug of the caller, never a silent success.
  expect_code(a->hand_over(view_status), ExitCode::kInternal, "already handed over");
}

// ---- BlockWriter (clone_writer.h): the same writes, off the receiving thread ---------------------

TEST_F(CloneApplyTest, BlockWriterWritesEveryBlockInOrderBeforeDrainReturns) {
  auto a = begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_file(file_meta(0, "db/t.ibd", 4 * kPage)).is_ok());
  {
    // A queue smaller than two blocks: submit() must wait for the writer, never drop a block.
    BlockWriter writer(*a, kPage + 1);
    for (uint8_t i = 0; i < 4; ++i) ASSERT_TRUE(writer.submit(block(0, i * kPage, kPage), filled(kPage, i + 1)).is_ok());
    // The same offset again, later: the later block wins, as on the wire.
    ASSERT_TRUE(writer.submit(block(0, 0, 4), text("last")).is_ok());
    ASSERT_TRUE(writer.drain().is_ok());
  }
  const Bytes bytes = read_all(target / "db" / "t.ibd");
  ASSERT_EQ(bytes.size(), 4 * kPage);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.begin() + 4), text("last"));
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(bytes[i * kPage], i + 1) << i;
  EXPECT_EQ(a->bytes_written(), 4 * kPage + 4);
}

TEST_F(CloneApplyTest, BlockWriterReportsAFailedWriteAndStopsTakingBlocks) {
  auto a = begin();
  ASSERT_TRUE(a);
  BlockWriter writer(*a);
  // Data in a state that carries no data is refused by the applier, on the writer's thread.
  ASSERT_TRUE(writer.submit(block(0, 0, 4, SnapshotState::kDone), text("late")).is_ok());
  expect_code(writer.drain(), ExitCode::kProtocol, "data block in state");
  expect_code(writer.submit(block(0, 0, 4), text("more")), ExitCode::kProtocol, "data block in state");
}

// ---- into a stream (remote --stream) ----------------------------------------------------------

// A clone with out-of-order blocks, a page written again, a DDL batch (a delete, two renames
// through .#clone_ddl, a new file) and a block for the dropped file after its delete, applied
// once into a directory and once into a stream that `extract` then replays: the same DIR.
void apply_clone_with_ddl(Applier& a) {
  ASSERT_TRUE(a.begin_state(SnapshotState::kFileCopy).is_ok());
  for (uint32_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(a.add_file(file_meta(i, std::string("db/") + char('a' + i) + ".ibd", 2 * kPage,
                                     SnapshotState::kFileCopy, kFsp16kDynamic))
                    .is_ok());
    ASSERT_TRUE(a.write(block(i, kPage, kPage), filled(kPage, uint8_t('a' + i))).is_ok());
    ASSERT_TRUE(a.write(block(i, 0, kPage), filled(kPage, uint8_t('A' + i))).is_ok());
  }
  ASSERT_TRUE(a.add_file(ddl_meta(0, "db/a.ibd", kFileFlagDeleted)).is_ok());
  ASSERT_TRUE(a.add_file(ddl_meta(1, "db/a.ibd", kFileFlagRenamed)).is_ok());
  ASSERT_TRUE(a.add_file(ddl_meta(2, "db/b.ibd", kFileFlagRenamed)).is_ok());
  FileDescriptor created = ddl_meta(3, "db/c.ibd", 0);
  created.space_id = 77;
  ASSERT_TRUE(a.add_file(created).is_ok());
  ASSERT_TRUE(a.begin_state(SnapshotState::kPageCopy).is_ok());
  ASSERT_TRUE(a.write(block(1, 0, kPage, SnapshotState::kPageCopy), filled(kPage, 'P')).is_ok());
  ASSERT_TRUE(a.write(block(3, 3 * kPage, kPage, SnapshotState::kPageCopy), filled(kPage, 'N')).is_ok());
  ASSERT_TRUE(a.write(block(0, 0, kPage, SnapshotState::kFileCopy), filled(kPage, 'X')).is_ok());
  ASSERT_TRUE(a.finish_files().is_ok());
  ASSERT_TRUE(a.hand_over("view").is_ok());
  Manifest m;
  m.kind = "clone";
  m.command = "test";
  m.state = TargetState::kComplete;
  ASSERT_TRUE(a.storage().put("mysqlclone.json", manifest_text(m)).is_ok());
}

TEST_F(CloneApplyTest, AStreamOfTheCloneExtractsToTheSameDirectory) {
  auto direct = begin();
  ASSERT_TRUE(direct);
  apply_clone_with_ddl(*direct);

  const fs::path file = scratch.path / "clone.mcs";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  stream::Settings settings;
  settings.compression = {Codec::kLz4, 0};
  FdSink sink(fd, "clone.mcs");
  auto storage = std::make_unique<StreamStorage>(sink, settings, 2);
  StreamStorage& stream = *storage;
  ASSERT_TRUE(stream.start().is_ok());
  auto streamed = Applier::begin(ApplyOptions{"/DIR", false, {8, 4, 3}}, std::move(storage));
  ASSERT_TRUE(streamed.is_ok()) << streamed.status().message();
  apply_clone_with_ddl(**streamed);
  ASSERT_TRUE(stream.finish().is_ok());
  ::close(fd);

  ExtractOptions options;
  options.target_dir = (scratch.path / "extracted").string();
  options.input = file.string();
  ExtractProgress progress;
  auto r = run_extract(options, progress);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const fs::path extracted = options.target_dir;
  const auto files = tree(target);
  EXPECT_EQ(tree(extracted), files);
  for (const auto& f : files) {
    if (fs::is_regular_file(target / f)) {
      EXPECT_EQ(read_all(extracted / f), read_all(target / f)) << f;
    }
  }
  // b, renamed to a: its PAGE COPY page over its FILE COPY one.
  Bytes b_now = filled(kPage, 'P');
  const Bytes b_second = filled(kPage, 'b');
  b_now.insert(b_now.end(), b_second.begin(), b_second.end());
  const Bytes a_now = read_all(extracted / "db" / "a.ibd");
  ASSERT_GE(a_now.size(), 2 * kPage);
  EXPECT_EQ(Bytes(a_now.begin(), a_now.begin() + 2 * kPage), b_now);
}

}  // namespace
