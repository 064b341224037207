// The directory Storage (and the hashing one in front of it), the throttle, the manifest and the
// target lifecycle: the pieces every command writes its target through.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "libclone/base/interrupt.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/filter.h"
#include "libclone/io/hashing_storage.h"
#include "libclone/io/read_file.h"
#include "libclone/io/sha256.h"
#include "libclone/io/throttle.h"
#include "libclone/manifest/manifest.h"
#include "libclone/manifest/target.h"
#include "test/unit/test_datadir.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::slurp;

using mysqlclone::DirectoryStorage;
using mysqlclone::ExitCode;
using mysqlclone::Manifest;
using mysqlclone::StartGuard;
using mysqlclone::Status;
namespace fs = std::filesystem;

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(DirectoryStorage, AppendsWritesAtOffsetsExtendsAndCloses) {
  testpages::ScratchDir dir;
  DirectoryStorage storage(dir.path.string());
  auto f = storage.create("a/b/file");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_TRUE((*f)->append(bytes("hello ")).is_ok());
  ASSERT_TRUE((*f)->append(bytes("world")).is_ok());
  ASSERT_TRUE((*f)->write_at(0, bytes("J")).is_ok());
  ASSERT_TRUE((*f)->extend_to(16).is_ok());
  ASSERT_TRUE((*f)->append(bytes("!")).is_ok());  // after the new end
  ASSERT_TRUE((*f)->extend_to(4).is_ok());        // never shrinks
  ASSERT_TRUE((*f)->close().is_ok());
  ASSERT_TRUE(storage.sync().is_ok());
  EXPECT_EQ(slurp(dir.path / "a/b/file"), std::string("Jello world") + std::string(5, '\0') + "!");
  struct stat st {};
  ASSERT_EQ(::stat((dir.path / "a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
}

std::string sha256_of(const std::string& text) {
  mysqlclone::Sha256 sha;
  sha.update(bytes(text));
  return sha.hex_digest();
}

// What the copy writes besides its files (redo, metadata) goes through a HashingStorage: each
// file closed whole or put is listed under its last name with its size and SHA-256, equal to
// what is on disk; a file written at offsets, removed or never closed is not.
TEST(HashingStorage, ListsEveryFileWrittenInOrderUnderItsLastName) {
  testpages::ScratchDir dir;
  DirectoryStorage target(dir.path.string());
  mysqlclone::HashingStorage storage(target);
  auto redo = storage.create("#innodb_redo/partial");
  ASSERT_TRUE(redo.is_ok()) << redo.status().message();
  ASSERT_TRUE((*redo)->append(bytes("header")).is_ok());
  ASSERT_TRUE((*redo)->append(bytes(std::string(70000, 'r'))).is_ok());
  ASSERT_TRUE((*redo)->extend_to(200000).is_ok());  // zeros to the final size, hashed too
  ASSERT_TRUE((*redo)->close().is_ok());
  ASSERT_TRUE(storage.rename("#innodb_redo/partial", "#innodb_redo/#ib_redo0").is_ok());
  ASSERT_TRUE(storage.put("backup-my.cnf", "[mysqld]\n").is_ok());
  ASSERT_TRUE(storage.put("backup-my.cnf", "[mysqld]\ndatadir=.\n").is_ok());  // replaced: the last counts
  auto at_offsets = storage.create("blocks");
  ASSERT_TRUE((*at_offsets)->write_at(4, bytes("b")).is_ok());
  ASSERT_TRUE((*at_offsets)->close().is_ok());
  ASSERT_TRUE(storage.put("gone", "x").is_ok());
  ASSERT_TRUE(storage.remove("gone").is_ok());
  auto open = storage.create("never-closed");
  ASSERT_TRUE((*open)->append(bytes("n")).is_ok());
  ASSERT_TRUE(storage.sync().is_ok());

  const auto files = storage.files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].rel_path, "#innodb_redo/#ib_redo0");
  EXPECT_EQ(files[0].bytes, 200000u);
  EXPECT_EQ(files[0].sha256, sha256_of(slurp(dir.path / "#innodb_redo/#ib_redo0")));
  EXPECT_EQ(files[1].rel_path, "backup-my.cnf");
  EXPECT_EQ(files[1].sha256, sha256_of("[mysqld]\ndatadir=.\n"));
  EXPECT_EQ(files[1].sha256, sha256_of(slurp(dir.path / "backup-my.cnf")));
}

// Pages of `path` in the page cache (mincore over a mapping, which itself reads nothing).
size_t cached_pages(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SIZE_MAX;
  struct stat st {};
  ::fstat(fd, &st);
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const size_t length = size_t(st.st_size);
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return SIZE_MAX;
  std::vector<unsigned char> in_core((length + page - 1) / page);
  const int rc = ::mincore(map, length, in_core.data());
  ::munmap(map, length);
  if (rc != 0) return SIZE_MAX;
  return size_t(std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return c & 1; }));
}

// A DirectoryStorage on an empty directory in the build tree, on a disk (the page cache tests:
// tmpfs keeps every page in memory by nature, and takes no direct I/O).
struct OnDisk {
  const fs::path dir = fs::current_path() / ("mysqlclone-storage-" + std::to_string(::getpid()));
  OnDisk() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~OnDisk() { fs::remove_all(dir); }
  DirectoryStorage storage{dir.string()};
};

// Written through the page cache, but a copy of a TiB must not push the host's cache out: the
// pages a few MiB behind the newest write are dropped as the file grows, the rest at close.
TEST(DirectoryStorage, WritesLeaveOnlyAFewMiBInThePageCacheAndNoneAfterClose) {
  OnDisk disk;
  const fs::path& dir = disk.dir;
  auto f = disk.storage.create("t.ibd");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  constexpr size_t kMiB = 1 << 20;
  std::string expected;
  std::vector<uint8_t> memory(kMiB + 1);
  for (int i = 0; i < 32; ++i) {
    // At an odd address: these bytes cannot go straight to the device (see the next test).
    const std::span<uint8_t> chunk(memory.data() + 1, kMiB);
    std::fill(chunk.begin(), chunk.end(), uint8_t('a' + i % 26));
    ASSERT_TRUE((*f)->write_at(uint64_t(i) * kMiB, chunk).is_ok());
    expected.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  }
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const size_t cached = cached_pages(dir / "t.ibd") * page;
  EXPECT_GT(cached, 0u);  // the path through the page cache was taken
  EXPECT_LE(cached, 10 * kMiB);  // the 8 MiB behind, and the newest
  ASSERT_TRUE((*f)->append(bytes("tail")).is_ok());
  ASSERT_TRUE((*f)->close().is_ok());
  EXPECT_EQ(cached_pages(dir / "t.ibd"), 0u);
  EXPECT_EQ(slurp(dir / "t.ibd"), expected + "tail");
}

// Aligned bytes at an aligned address (the copier's chunks) go straight to the device: none of
// them is in the page cache even before close, and the file holds them, with a buffered tail.
TEST(DirectoryStorage, AlignedWritesBypassThePageCache) {
  OnDisk disk;
  const fs::path& dir = disk.dir;
  auto f = disk.storage.create("t.ibd");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  mysqlclone::AlignedBuffer chunk(2 << 20);
  std::string expected;
  for (int i = 0; i < 8; ++i) {
    std::fill(chunk.span().begin(), chunk.span().end(), uint8_t('a' + i));
    ASSERT_TRUE((*f)->append(chunk.span()).is_ok());
    expected.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  }
  EXPECT_EQ(cached_pages(dir / "t.ibd"), 0u);
  ASSERT_TRUE((*f)->append(bytes("tail")).is_ok());
  ASSERT_TRUE((*f)->close().is_ok());
  EXPECT_EQ(slurp(dir / "t.ibd"), expected + "tail");
}

// close() leaves the fdatasync to sync(), which finds each closed file under its last name: one
// renamed after its close, one removed, one deleted behind the storage's back (nothing left to
// make durable) are all fine; a closed file that cannot be synced fails sync(), naming it, and
// stays due for the next one.
TEST(DirectoryStorage, SyncMakesTheClosedFilesDurableUnderTheirLastNames) {
  testpages::ScratchDir dir;
  DirectoryStorage storage(dir.path.string());
  for (const char* name : {"a", "b", "c", "d"}) {
    auto f = storage.create(std::string("sub/") + name);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    ASSERT_TRUE((*f)->append(bytes(name)).is_ok());
    ASSERT_TRUE((*f)->close().is_ok());
  }
  ASSERT_TRUE(storage.rename("sub/a", "moved/a").is_ok());
  ASSERT_TRUE(storage.remove("sub/b").is_ok());
  fs::remove(dir.path / "sub/c");
  // Not a file any more: a FIFO where d was (opened without blocking, and it cannot be synced).
  fs::remove(dir.path / "sub/d");
  ASSERT_EQ(::mkfifo((dir.path / "sub/d").c_str(), 0600), 0);
  const Status failed = storage.sync();
  EXPECT_EQ(failed.code(), ExitCode::kPath);
  EXPECT_NE(failed.message().find("cannot sync"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find("sub/d"), std::string::npos) << failed.message();
  EXPECT_EQ(storage.sync().code(), ExitCode::kPath);  // still due
  ASSERT_TRUE(storage.remove("sub/d").is_ok());
  const Status synced = storage.sync();
  EXPECT_TRUE(synced.is_ok()) << synced.message();
  EXPECT_EQ(slurp(dir.path / "moved/a"), "a");
}

// A file renamed while still open (the clone applier, extract of a stream) is synced under the
// name it has when sync() runs: a FIFO put at that name makes sync() fail naming it (under the
// name it was created with, nothing is left to sync, and sync() would pass). One removed, or
// replaced by another's rename, while open leaves nothing due.
TEST(DirectoryStorage, AFileRenamedWhileOpenIsSyncedUnderItsNewName) {
  testpages::ScratchDir dir;
  DirectoryStorage storage(dir.path.string());
  auto moved = storage.create("sub/x");
  auto removed = storage.create("sub/r");
  auto replaced = storage.create("sub/p");
  auto other = storage.create("sub/q");
  for (auto* f : {&moved, &removed, &replaced, &other}) {
    ASSERT_TRUE(f->is_ok()) << f->status().message();
    ASSERT_TRUE((**f)->append(bytes("data")).is_ok());
  }
  ASSERT_TRUE(storage.rename("sub/x", "sub/x.tmp").is_ok());
  ASSERT_TRUE(storage.rename("sub/x.tmp", "moved/y").is_ok());
  ASSERT_TRUE(storage.remove("sub/r").is_ok());
  ASSERT_TRUE((*other)->close().is_ok());
  ASSERT_TRUE(storage.rename("sub/q", "sub/p").is_ok());  // over the open sub/p
  for (auto* f : {&moved, &removed, &replaced}) ASSERT_TRUE((**f)->close().is_ok());
  EXPECT_EQ(slurp(dir.path / "moved/y"), "data");
  fs::remove(dir.path / "moved/y");
  ASSERT_EQ(::mkfifo((dir.path / "moved/y").c_str(), 0600), 0);
  const Status failed = storage.sync();
  EXPECT_EQ(failed.code(), ExitCode::kPath);
  EXPECT_NE(failed.message().find("moved/y"), std::string::npos) << failed.message();
  ASSERT_TRUE(storage.remove("moved/y").is_ok());
  const Status synced = storage.sync();
  EXPECT_TRUE(synced.is_ok()) << synced.message();
  EXPECT_EQ(slurp(dir.path / "sub/p"), "data");
}

TEST(DirectoryStorage, NeverWritesThroughANameItDidNotCreate) {
  testpages::ScratchDir dir;
  std::ofstream(dir.path / "existing") << "theirs";
  fs::create_symlink("/etc/passwd", dir.path / "link");
  DirectoryStorage storage(dir.path.string());
  for (const char* name : {"existing", "link"}) {
    auto f = storage.create(name);
    ASSERT_FALSE(f.is_ok()) << name;
    EXPECT_EQ(f.status().code(), ExitCode::kPath);
    EXPECT_NE(f.status().message().find(name), std::string::npos) << f.status().message();
  }
  EXPECT_EQ(slurp(dir.path / "existing"), "theirs");
}

TEST(DirectoryStorage, PutReplacesWholeAndRenameRemoveWork) {
  testpages::ScratchDir dir;
  DirectoryStorage storage(dir.path.string());
  ASSERT_TRUE(storage.put("m/state", "one").is_ok());
  ASSERT_TRUE(storage.put("m/state", "two").is_ok());
  EXPECT_EQ(slurp(dir.path / "m/state"), "two");
  EXPECT_FALSE(fs::exists(dir.path / "m/state.tmp"));
  ASSERT_TRUE(storage.rename("m/state", "n/final").is_ok());
  EXPECT_EQ(slurp(dir.path / "n/final"), "two");
  ASSERT_TRUE(storage.remove("n/final").is_ok());
  ASSERT_TRUE(storage.remove("n/final").is_ok());  // already gone: nothing to do
  ASSERT_TRUE(storage.remove_dir("n").is_ok());
  EXPECT_FALSE(fs::exists(dir.path / "n"));
  ASSERT_TRUE(storage.sync().is_ok());
}

TEST(Throttle, UnlimitedNeverWaitsAndASignalEndsAWait) {
  mysqlclone::Throttle unlimited;
  EXPECT_FALSE(unlimited.limited());
  EXPECT_TRUE(unlimited.take(uint64_t(1) << 40).is_ok());
  // The interrupt flag is process-wide and sticky: prove it in a child process.
  EXPECT_EXIT(
      {
        mysqlclone::Throttle slow(1.0);  // one byte a second: 1000 bytes would take 17 minutes
        std::thread signal([] {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          mysqlclone::request_interrupt();
        });
        const Status s = slow.take(1000);
        signal.join();
        std::exit(s.code() == ExitCode::kInterrupted ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Filters, HashAndThrottleRunInOrder) {
  mysqlclone::HashFilter hash;
  mysqlclone::Throttle t;
  mysqlclone::ThrottleFilter throttle(t);
  std::string data = "abc";
  ASSERT_TRUE(mysqlclone::run_filters({&hash, &throttle}, 0,
                                      std::span<uint8_t>(reinterpret_cast<uint8_t*>(data.data()), data.size()))
                  .is_ok());
  EXPECT_EQ(hash.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Manifest sample() {
  Manifest m;
  m.kind = "backup";
  m.command = "local";
  m.started_at = "2026-12-03T10:00:00Z";
  m.files.push_back({"db/t.ibd", 16384, "00ff", true, 7, 123, 0, "", 0, 0});
  m.files.push_back({"db/\xff.frm", 10, "", false, std::nullopt, 0, 0, "", 0, 0});  // a name is bytes, not UTF-8
  m.sections = {{"end_lsn", 5000}};
  return m;
}

TEST(Target, LifecycleInProgressThenCompleteWithTheCloneGuard) {
  testpages::ScratchDir dir;
  DirectoryStorage storage(dir.path.string());
  Manifest m = sample();
  ASSERT_TRUE(mysqlclone::begin_target(storage, m, StartGuard::kCloneInProgress).is_ok());
  EXPECT_TRUE(fs::exists(dir.path / "#clone/#status_in_progress"));
  auto refused = mysqlclone::check_target_finished(dir.path.string());
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ExitCode::kVerifyFailed);
  EXPECT_NE(refused.status().message().find("in-progress"), std::string::npos) << refused.status().message();

  ASSERT_TRUE(mysqlclone::complete_target(storage, m, StartGuard::kCloneInProgress).is_ok());
  EXPECT_FALSE(fs::exists(dir.path / "#clone"));
  auto done = mysqlclone::check_target_finished(dir.path.string());
  ASSERT_TRUE(done.is_ok()) << done.status().message();
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ((*done)->state, "complete");
  EXPECT_EQ((*done)->kind, "backup");
  ASSERT_EQ((*done)->files.size(), 2u);
  EXPECT_EQ((*done)->files[0].sha256, "00ff");
  EXPECT_EQ((*done)->files[1].path, "db/\xef\xbf\xbd.frm");  // replaced, never thrown
  EXPECT_EQ((*done)->document["end_lsn"], 5000);
}

TEST(Target, FailedTargetIsRefusedWithItsError) {
  testpages::ScratchDir dir;
  DirectoryStorage storage(dir.path.string());
  Manifest m = sample();
  ASSERT_TRUE(mysqlclone::begin_target(storage, m, StartGuard::kNone).is_ok());
  mysqlclone::fail_target(storage, m, Status::error(ExitCode::kRedoLost, "redo lost: LSN 5"));
  auto r = mysqlclone::check_target_finished(dir.path.string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("redo lost: LSN 5"), std::string::npos) << r.status().message();
}

// A directory whose disk is full: no new file (put) can be written; what exists can be
// rewritten in its own blocks.
class FullDisk : public DirectoryStorage {
 public:
  using DirectoryStorage::DirectoryStorage;
  bool full = false;
  Status put(const std::string& rel_path, const std::string& contents) override {
    if (full) return Status::error(ExitCode::kPath, "cannot create " + rel_path + ": No space left on device");
    return DirectoryStorage::put(rel_path, contents);
  }
};

TEST(Target, OnAFullDiskTheFailureIsWrittenOverTheInProgressManifest) {
  // It stayed "in-progress" after ENOSPC: never complete, but `info` and monitoring said running.
  testpages::ScratchDir dir;
  FullDisk storage(dir.path.string());
  Manifest m = sample();
  ASSERT_TRUE(mysqlclone::begin_target(storage, m, StartGuard::kNone).is_ok());
  const auto size = fs::file_size(dir.path / mysqlclone::kManifestFile);
  storage.full = true;
  mysqlclone::fail_target(storage, m, Status::error(ExitCode::kPath, "cannot write t.ibd: No space left on device"));
  EXPECT_EQ(fs::file_size(dir.path / mysqlclone::kManifestFile), size) << "it must fit in its own blocks";
  auto r = mysqlclone::read_manifest(dir.path.string());
  ASSERT_TRUE(r.is_ok() && r->has_value()) << (r.is_ok() ? "no manifest" : r.status().message());
  EXPECT_EQ((*r)->state, "failed");
  EXPECT_EQ((*r)->error, "cannot write t.ibd: No space left on device");
  // An error too long for the room is cut, never lost.
  storage.full = false;
  ASSERT_TRUE(mysqlclone::begin_target(storage, m, StartGuard::kNone).is_ok());
  storage.full = true;
  mysqlclone::fail_target(storage, m, Status::error(ExitCode::kPath, std::string(10000, 'e')));
  r = mysqlclone::read_manifest(dir.path.string());
  ASSERT_TRUE(r.is_ok() && r->has_value());
  EXPECT_EQ((*r)->state, "failed");
  EXPECT_EQ((*r)->error.substr(0, 10), std::string(10, 'e'));
}

TEST(Target, AnUnfinishedCloneIsRefusedEvenWithoutAManifest) {
  testpages::ScratchDir dir;
  fs::create_directories(dir.path / "#clone");
  std::ofstream(dir.path / "#clone/#status_in_progress") << "";
  auto r = mysqlclone::check_target_finished(dir.path.string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ExitCode::kVerifyFailed);
  EXPECT_NE(r.status().message().find("unfinished clone"), std::string::npos);
  fs::remove(dir.path / "#clone/#status_in_progress");
  auto plain = mysqlclone::check_target_finished(dir.path.string());
  ASSERT_TRUE(plain.is_ok());
  EXPECT_FALSE(plain->has_value());
}

TEST(Target, ATargetStoppedWhileItsFirstManifestWasWrittenIsIncomplete) {
  testpages::ScratchDir dir;
  std::ofstream(dir.path / "mysqlclone.json.tmp") << "{\"tool\": \"mysql";
  auto r = mysqlclone::check_target_finished(dir.path.string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ExitCode::kVerifyFailed);
  EXPECT_NE(r.status().message().find("incomplete"), std::string::npos) << r.status().message();
}

TEST(Manifest, MalformedDocumentsAreErrorsNeverExceptions) {
  for (const char* doc : {"{", "[]", "{\"state\": 5}", "{\"state\": \"complete\", \"error\": []}",
                          "{\"state\": \"complete\", \"files\": {}}", "{\"state\": \"complete\", \"files\": [1]}",
                          "{\"state\": \"complete\", \"files\": [{\"sha256\": \"ab\"}]}",
                          "{\"state\": \"complete\", \"files\": [{\"path\": \"x\", \"sha256\": 5}]}",
                          "{\"state\": \"complete\", \"format\": 99}", "{}"}) {
    testpages::ScratchDir dir;
    std::ofstream(dir.path / "mysqlclone.json") << doc;
    auto r = mysqlclone::read_manifest(dir.path.string());
    ASSERT_FALSE(r.is_ok()) << doc;
    EXPECT_EQ(r.status().code(), ExitCode::kVerifyFailed) << doc;
    EXPECT_NE(r.status().message().find("mysqlclone.json"), std::string::npos) << r.status().message();
  }
}

}  // namespace
