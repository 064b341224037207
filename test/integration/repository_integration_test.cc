// A repository against real servers (issue 11): `local --repo` (full, then `--incremental` on the
// newest backup), `info`, `restore --repo` of the newest backup (from the repository moved as a
// whole) into a datadir the stock server starts on with the source's data, a second run refused
// while one holds the repository, and `expire` keeping the newest chain and removing the older
// one whole, whatever the repository's spelling, and leaving alone what it cannot read.
//
// The incremental chain itself is proven under load by Incremental.ChainUnderLoadWithDdl; here the
// source is quiet so that the restored table can be compared row for row. A server that cannot
// start fails the test; nothing here skips.
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/text.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;

class Repository : public ::testing::TestWithParam<std::string> {};

TEST_P(Repository, BackupsChainsInfoRestoreLockAndExpire) {
  const std::string& flavour = GetParam();
  it::Server src(flavour, "16k");
  src.sql("CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;\n"
          "INSERT INTO r.t VALUES (1, 'before the full backup');");
  it::TempDir work;
  const std::string repo = work.path() + "/repo";
  const std::vector<std::string> conn{"-S", src.socket(), "-u", "mysqlclone", "-pmysqlclone"};
  auto local = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--json", "local", "--repo", repo});
    args.insert(args.end(), conn.begin(), conn.end());
    return it::mysqlclone_bounded(args, 300);
  };
  auto info = [&] {
    auto r = it::mysqlclone_bounded({"--json", "info", "--repo", repo}, 60);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return parse(r.out).value("backups", json::array());
  };

  auto full = local({});
  ASSERT_EQ(full.exit_code, 0) << describe(full);
  src.sql("INSERT INTO r.t VALUES (2, 'before the incremental');");
  // Names are start times to the second: the next backup starts in another second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto inc = local({"--incremental"});
  ASSERT_EQ(inc.exit_code, 0) << describe(inc);
  EXPECT_EQ(parse(inc.out).value("backup_type", ""), "incremental");

  json backups = info();
  ASSERT_EQ(backups.size(), 2u) << backups.dump();
  const std::string full_name = backups[0].value("name", ""), inc_name = backups[1].value("name", "");
  EXPECT_EQ(backups[0].value("type", ""), "full");
  EXPECT_EQ(backups[1].value("type", ""), "incremental");
  EXPECT_EQ(backups[1].value("base", ""), full_name) << "the incremental is built on the newest backup";
  EXPECT_EQ(backups[1].value("state", ""), "complete");

  {  // One run at a time: a second one is refused at once, and writes nothing.
    it::Background holder({"flock", repo + "/mysqlclone-repository.lock", "sleep", "60"});
    ASSERT_TRUE(it::wait_until(10, [&] {
      return it::run({"flock", "-n", repo + "/mysqlclone-repository.lock", "true"}).exit_code != 0;
    }));
    auto refused = local({"--incremental"});
    EXPECT_EQ(refused.exit_code, 6) << describe(refused);
    const auto errors = error_lines(refused.err);
    ASSERT_EQ(errors.size(), 1u) << describe(refused);
    EXPECT_TRUE(contains(errors[0], "is in use by")) << errors[0];
    auto restore_refused =
        it::mysqlclone_bounded({"restore", "--repo", repo, "--target-dir", work.path() + "/no"}, 60);
    EXPECT_EQ(restore_refused.exit_code, 6) << describe(restore_refused);
    EXPECT_FALSE(fs::exists(work.path() + "/no"));
    EXPECT_EQ(info().size(), 2u);
  }

  {  // The newest backup (the incremental with its chain) is a datadir with the source's rows,
     // from the repository moved as a whole: the chain is found where it is now.
    const std::string moved = work.path() + "/moved";
    fs::rename(repo, moved);
    const std::string dir = work.path() + "/restored";
    auto r = it::mysqlclone_bounded({"--json", "restore", "--repo", moved, "--target-dir", dir}, 300);
    fs::rename(moved, repo);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const json chain = parse(r.out).value("restore", json::object()).value("chain", json::array());
    ASSERT_EQ(chain.size(), 2u) << r.out;
    EXPECT_EQ(chain[0], moved + "/" + full_name) << r.out;
    it::Server copy(flavour, "16k", {"--datadir", dir});
    EXPECT_EQ(it::check_all_tables(copy), "");
    EXPECT_EQ(copy.sql("SELECT id, v FROM r.t ORDER BY id;"), src.sql("SELECT id, v FROM r.t ORDER BY id;"));
  }

  // A second full backup and its own incremental; expire keeps that chain, removes the first,
  // however the repository is spelt (a trailing '/' or '.' made it remove the kept chain's
  // incremental too: its base's directory never equalled "REPO/"), and leaves alone what is not
  // a backup it can read (a directory of someone else's). What an expire cut short left
  // (renamed, not yet removed) goes.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto full2 = local({});
  ASSERT_EQ(full2.exit_code, 0) << describe(full2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto inc2 = local({"--incremental"});
  ASSERT_EQ(inc2.exit_code, 0) << describe(inc2);
  fs::create_directories(repo + "/not-a-backup/data");
  fs::create_directories(repo + "/.expiring-cut-short/x");
  for (const std::string& spelling : {repo, repo + "/", repo + "/.", repo + "//"}) {
    auto dry = it::mysqlclone_bounded({"--json", "expire", "--repo", spelling, "--keep-full", "1", "--dry-run"}, 60);
    ASSERT_EQ(dry.exit_code, 0) << describe(dry);
    EXPECT_EQ(parse(dry.out).value("removed", json::array()), json::array({full_name, inc_name}))
        << spelling << ": " << dry.out;
    EXPECT_TRUE(contains(dry.err, "left " + repo + "/not-a-backup alone")) << describe(dry);
  }
  EXPECT_EQ(info().size(), 5u) << "--dry-run removed something";
  EXPECT_TRUE(fs::exists(repo + "/.expiring-cut-short")) << "--dry-run removed something";
  auto expire = it::mysqlclone_bounded({"--json", "expire", "--repo", repo + "/", "--keep-full", "1"}, 60);
  ASSERT_EQ(expire.exit_code, 0) << describe(expire);
  EXPECT_EQ(parse(expire.out).value("removed", json::array()), json::array({full_name, inc_name})) << expire.out;
  backups = info();
  ASSERT_EQ(backups.size(), 3u) << backups.dump();
  EXPECT_EQ(backups[0].value("type", ""), "full");
  EXPECT_EQ(backups[1].value("type", ""), "incremental");
  EXPECT_EQ(backups[2].value("name", ""), "not-a-backup");
  EXPECT_FALSE(fs::exists(repo + "/" + full_name));
  EXPECT_FALSE(fs::exists(repo + "/.expiring-cut-short"));
  EXPECT_TRUE(fs::exists(repo + "/not-a-backup/data"));

  // A backup that is gone: one error line naming it, nothing written.
  auto gone = it::mysqlclone_bounded({"restore", "--repo", repo, "--backup", inc_name, "--target-dir", work.path() + "/gone"}, 60);
  EXPECT_EQ(gone.exit_code, 6) << describe(gone);
  EXPECT_TRUE(contains(gone.err, inc_name)) << describe(gone);
  EXPECT_FALSE(fs::exists(work.path() + "/gone"));
}

INSTANTIATE_TEST_SUITE_P(Flavours, Repository, ::testing::ValuesIn(it::kFlavours),
                         [](const ::testing::TestParamInfo<std::string>& info) { return it::test_name(info.param); });

}  // namespace
