// verify_datadir() over small synthetic data directories: counts, exact bad-page reports,
// unusable paths and the running-server refusal.
#include "libclone/command/verify/verify.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "test_datadir.h"
#include "libclone/io/sha256.h"

#include <nlohmann/json.hpp>

namespace {
namespace fs = std::filesystem;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.path;
    testpages::make_mysql_datadir(dir_);
  }

  mysqlclone::Result<mysqlclone::VerifyReport> run(bool allow_running = false) {
    mysqlclone::VerifyProgress progress;
    return mysqlclone::verify_datadir({dir_.string(), 2, allow_running}, progress);
  }

  void flip(const fs::path& file, uint64_t offset) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(std::streamoff(offset));
    char c;
    f.get(c);
    f.seekp(std::streamoff(offset));
    f.put(char(c ^ 0x20));
  }

  testpages::ScratchDir scratch_;
  fs::path dir_;
};

TEST_F(VerifyTest, CleanDatadir) {
  auto r = run();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->flavour, innodb::Flavour::kMysql);
  EXPECT_EQ(r->page_size, 16384u);
  ASSERT_EQ(r->files.size(), 3u);
  EXPECT_EQ(r->pages.total(), 8u + 6u + 10u);
  EXPECT_EQ(r->pages.empty, 6u);
  EXPECT_EQ(r->pages.corrupt, 0u);
  EXPECT_EQ(r->files[0].rel_path, "ibdata1");
  EXPECT_EQ(r->files[2].rel_path, "db/t1.ibd");
  EXPECT_EQ(r->files[2].space_id, 5u);
}

TEST_F(VerifyTest, ReportsExactlyTheFlippedPage) {
  flip(dir_ / "db" / "t1.ibd", 4 * 16384 + 1000);
  auto r = run();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->bad_files(), 1u);
  EXPECT_EQ(r->pages.corrupt, 1u);
  const auto& f = r->files[2];
  ASSERT_EQ(f.bad_pages.size(), 1u);
  EXPECT_EQ(f.bad_pages[0].page, 4u);
  EXPECT_EQ(f.bad_pages[0].reason, innodb::PageDetail::kChecksumMismatch);
}

TEST_F(VerifyTest, BadPageZero) {
  flip(dir_ / "mysql.ibd", 500);
  auto r = run();
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->bad_files(), 1u);
  ASSERT_EQ(r->files[1].bad_pages.size(), 1u);
  EXPECT_EQ(r->files[1].bad_pages[0].page, 0u);
}

TEST_F(VerifyTest, TruncatedFile) {
  fs::resize_file(dir_ / "db" / "t1.ibd", 10 * 16384 - 100);
  auto r = run();
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->ok());
  EXPECT_NE(r->files[2].file_problem.find("not a multiple"), std::string::npos);
}

TEST_F(VerifyTest, UnusablePaths) {
  mysqlclone::VerifyProgress progress;
  auto missing = mysqlclone::verify_datadir({(dir_ / "nope").string(), 1, false}, progress);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), mysqlclone::ExitCode::kPath);
  auto not_datadir = mysqlclone::verify_datadir({(dir_ / "db").string(), 1, false}, progress);
  ASSERT_FALSE(not_datadir.is_ok());
  EXPECT_EQ(not_datadir.status().code(), mysqlclone::ExitCode::kPath);
}

TEST_F(VerifyTest, RefusesADatadirWhoseIbdataIsLocked) {
  // A server holds an fcntl write lock on ibdata1; a child process plays the server.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = ::open((dir_ / "ibdata1").c_str(), O_RDWR);
    struct flock l {};
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    int rc = ::fcntl(fd, F_SETLK, &l);
    char c = rc == 0 ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto refused = run();
  auto allowed = run(true);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), mysqlclone::ExitCode::kPath);
  EXPECT_NE(refused.status().message().find("running server"), std::string::npos);
  ASSERT_TRUE(allowed.is_ok()) << allowed.status().message();
  EXPECT_TRUE(allowed->ok());
}

// A server with tens of thousands of tables is normal, and so is `ulimit -n 1024`: verify holds
// a descriptor only while a thread reads the file, never one per file of the datadir.
TEST_F(VerifyTest, MoreTablespacesThanTheDescriptorLimit) {
  constexpr unsigned kTables = 300;
  for (unsigned i = 0; i < kTables; ++i) {
    // fmt, not "literal" + std::string: GCC 12 at -O3 reports a false -Wrestrict overlap in that
    // operator+, which -Werror makes a failed Release build.
    testpages::write_file(dir_ / fmt::format("db{}", i % 3) / fmt::format("t{}.ibd", i),
                          testpages::tablespace(100 + i, 4));
  }
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = 64;  // gtest's own files and a few per thread fit; 300 files do not
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto r = run();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->ok());
  ASSERT_EQ(r->files.size(), 3u + kTables);
  EXPECT_EQ(r->pages.total(), 8u + 6u + 10u + kTables * 4);
  EXPECT_EQ(r->pages.corrupt, 0u);
}

}  // namespace

namespace {

class VerifyBackupTest : public VerifyTest {
 protected:
  void write_metadata(const std::string& state, const std::string& t1_sha) {
    nlohmann::json j = {{"state", state},
                        {"files", {{{"path", "db/t1.ibd"}, {"bytes", 0}, {"sha256", t1_sha}}}}};
    std::ofstream(dir_ / "mysqlclone.json") << j.dump();
  }
  std::string t1_sha() {
    std::ifstream in(dir_ / "db" / "t1.ibd", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    mysqlclone::Sha256 h;
    h.update(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    return h.hex_digest();
  }
};

TEST_F(VerifyBackupTest, IncompleteBackupIsRefusedAtOnce) {
  for (const char* state : {"in-progress", "failed"}) {
    write_metadata(state, t1_sha());
    auto r = run();
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), mysqlclone::ExitCode::kVerifyFailed);
    EXPECT_NE(r.status().message().find("incomplete backup"), std::string::npos) << r.status().message();
  }
}

TEST_F(VerifyBackupTest, CompleteBackupChecksEveryRecordedChecksum) {
  write_metadata("complete", t1_sha());
  auto good = run();
  ASSERT_TRUE(good.is_ok()) << good.status().message();
  EXPECT_TRUE(good->ok());
  EXPECT_TRUE(good->is_backup);
  EXPECT_EQ(good->checksummed_files, 1u);

  write_metadata("complete", std::string(64, '0'));
  auto bad = run();
  ASSERT_TRUE(bad.is_ok());
  EXPECT_FALSE(bad->ok());
  EXPECT_EQ(bad->files[2].rel_path, "db/t1.ibd");
  EXPECT_NE(bad->files[2].file_problem.find("SHA-256"), std::string::npos);
}

// A clone written by `remote` lists its files without checksums: its pages are checked, nothing
// else, and a malformed entry is a verify failure, never a crash.
TEST_F(VerifyBackupTest, CloneWithoutChecksumsChecksPagesOnly) {
  std::ofstream(dir_ / "mysqlclone.json")
      << nlohmann::json{{"state", "complete"}, {"kind", "clone"}, {"files", {{{"path", "db/t1.ibd"}, {"size", 1}}}}}.dump();
  auto r = run();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->checksummed_files, 0u);

  std::ofstream(dir_ / "mysqlclone.json")
      << nlohmann::json{{"state", "complete"}, {"files", {{{"sha256", 5}}}}}.dump();
  auto bad = run();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), mysqlclone::ExitCode::kVerifyFailed);
}

// Any JSON may be in mysqlclone.json: a field of the wrong type is a verify failure naming the
// file, never an exception.
TEST_F(VerifyBackupTest, MalformedRecordsAreVerifyFailures) {
  for (const char* doc :
       {R"({"state": 5, "error": []})", R"({"state": "failed", "error": []})", R"({"state": "failed", "error": {}})",
        R"({"state": null})", R"([1, 2])", R"("complete")", R"({"state": "complete", "files": 7})",
        R"({"state": "complete"})",
        // Names that would leave the directory (restore writes under them, verify reads them).
        R"({"state": "complete", "files": [{"path": "../../etc/passwd"}]})",
        R"({"state": "complete", "files": [{"path": "/etc/passwd"}]})",
        R"({"state": "complete", "files": [{"path": "db/t.ibd.delta", "delta_of": "db/../../x"}]})"}) {
    SCOPED_TRACE(doc);
    std::ofstream(dir_ / "mysqlclone.json") << doc;
    auto r = mysqlclone::Result<mysqlclone::VerifyReport>(mysqlclone::Status::error(mysqlclone::ExitCode::kInternal, ""));
    ASSERT_NO_THROW(r = run());
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), mysqlclone::ExitCode::kVerifyFailed) << r.status().message();
    EXPECT_NE(r.status().message().find(dir_.string()), std::string::npos) << r.status().message();
  }
  // A failed backup's own error, whatever its bytes, is shown on one line.
  std::ofstream(dir_ / "mysqlclone.json") << R"({"state": "failed", "error": "disk\nfull", "files": []})";
  auto failed = run();
  ASSERT_FALSE(failed.is_ok());
  EXPECT_NE(failed.status().message().find("(state \"failed\": disk\\x0afull)"), std::string::npos)
      << failed.status().message();
}

// A file name that is not UTF-8 is recorded with U+FFFD in place of the bad byte (JSON has no
// other way): the record still names that file, and its checksum is checked.
TEST_F(VerifyBackupTest, RecordOfANonUtf8NameFindsItsFile) {
  const std::string sha = t1_sha();
  fs::rename(dir_ / "db" / "t1.ibd", dir_ / "db" / "t1\xff.ibd");
  nlohmann::json j = {{"state", "complete"},
                      {"files", {{{"path", "db/t1\xff.ibd"}, {"bytes", 0}, {"sha256", sha}}}}};
  std::ofstream(dir_ / "mysqlclone.json") << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto r = run();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->ok()) << (r->files.empty() ? "" : r->files.back().rel_path + ": " + r->files.back().file_problem);
  EXPECT_EQ(r->checksummed_files, 1u);

  j["files"][0]["sha256"] = std::string(64, '0');
  std::ofstream(dir_ / "mysqlclone.json") << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto bad = run();
  ASSERT_TRUE(bad.is_ok());
  EXPECT_FALSE(bad->ok());
  EXPECT_EQ(bad->files[2].rel_path, "db/t1\xff.ibd");
  EXPECT_NE(bad->files[2].file_problem.find("SHA-256 differs"), std::string::npos) << bad->files[2].file_problem;
}

}  // namespace
