// Repositories (repository.h): which backups `expire` keeps (never a base a kept backup needs,
// nothing it cannot read), the lock that lets one run at a time, that a repository is never laid
// over other files; and the chain of an incremental's bases (backup_chain.h).
#include "libclone/manifest/repository.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "libclone/manifest/backup_chain.h"
#include "libclone/manifest/manifest.h"
#include "test_datadir.h"
#include "test_files.h"

namespace {
using namespace mysqlclone;
namespace fs = std::filesystem;

// A finished backup started `days_ago` days before `kNow`, an incremental on `base` unless empty.
RepositoryBackup finished(const std::string& name, double days_ago, const std::string& base = "") {
  RepositoryBackup b;
  b.name = name;
  b.state = "complete";
  BackupRecord r;
  r.dir = "/repo/" + name;
  r.incremental = !base.empty();
  b.record = r;
  b.base_name = base;
  const auto t = std::chrono::system_clock::from_time_t(1'800'000'000) -
                 std::chrono::duration_cast<std::chrono::seconds>(std::chrono::duration<double>(days_ago * 86400));
  b.started_at = utc_iso8601(t);
  return b;
}
const auto kNow = std::chrono::system_clock::from_time_t(1'800'000'000);

RepositoryBackup failed(const std::string& name) {
  RepositoryBackup b;
  b.name = name;
  b.state = "failed";
  b.error = "interrupted";
  return b;
}

using Names = std::vector<std::string>;

TEST(ExpirePlan, KeepsTheNewestFullBackupsWithTheirIncrementals) {
  const std::vector<RepositoryBackup> repo{
      finished("a-full", 20), finished("b-incr", 19, "a-full"), finished("c-incr", 18, "b-incr"),
      finished("d-full", 10), finished("e-incr", 9, "d-full"),  failed("f-incr"),
      finished("g-full", 3),  finished("h-incr", 2, "g-full")};
  ExpirePlan plan = plan_expire(repo, {1, std::nullopt}, kNow);
  EXPECT_EQ(plan.keep, (Names{"g-full", "h-incr"}));
  EXPECT_EQ(plan.remove, (Names{"a-full", "b-incr", "c-incr", "d-full", "e-incr", "f-incr"}));
  plan = plan_expire(repo, {2, std::nullopt}, kNow);
  EXPECT_EQ(plan.keep, (Names{"d-full", "e-incr", "g-full", "h-incr"}));
}

TEST(ExpirePlan, OldIncrementalsGoUnlessAKeptOneNeedsThem) {
  // Incrementals older than 5 days go, but c (6 days) is the base of d (4 days): kept, and so
  // is b under it; f's chain has only old incrementals past e.
  const std::vector<RepositoryBackup> repo{
      finished("a-full", 30), finished("b-incr", 7, "a-full"), finished("c-incr", 6, "b-incr"),
      finished("d-incr", 4, "c-incr"), finished("e-full", 29), finished("f-incr", 8, "e-full")};
  ExpirePlan plan = plan_expire(repo, {2, 5u}, kNow);
  EXPECT_EQ(plan.keep, (Names{"a-full", "b-incr", "c-incr", "d-incr", "e-full"}));
  EXPECT_EQ(plan.remove, (Names{"f-incr"}));
}

TEST(ExpirePlan, ABrokenChainIsNeverKept) {
  // b's base is not in the repository (removed by hand): nothing can restore b.
  const std::vector<RepositoryBackup> repo{finished("a-full", 3), finished("b-incr", 2, "gone-full")};
  ExpirePlan plan = plan_expire(repo, {5, std::nullopt}, kNow);
  EXPECT_EQ(plan.keep, (Names{"a-full"}));
  EXPECT_EQ(plan.remove, (Names{"b-incr"}));
}

TEST(ExpirePlan, WhatCannotBeReadIsLeftAloneWithWhatIsBuiltOnIt) {
  // b cannot be read (a manifest of a newer version, a read that failed, or no mysqlclone.json:
  // someone else's directory); c and d are built on it. None of them goes, however old; a
  // readable old chain still does.
  RepositoryBackup b;
  b.name = "b-full";
  b.state = "unreadable";
  b.error = "no mysqlclone.json";
  const std::vector<RepositoryBackup> repo{finished("a-full", 40), b, finished("c-incr", 30, "b-full"),
                                           finished("d-incr", 29, "c-incr"), finished("e-full", 2),
                                           finished("f-incr", 31, "a-full")};
  ExpirePlan plan = plan_expire(repo, {1, 7u}, kNow);
  EXPECT_EQ(plan.keep, (Names{"b-full", "c-incr", "d-incr", "e-full"}));
  EXPECT_EQ(plan.remove, (Names{"a-full", "f-incr"}));
}

// DIR/mysqlclone.json of a finished `local` backup of one MySQL server, started at `started`,
// from checkpoint C to end E; an incremental on `base` (a name beside it) when not empty.
void write_backup(const fs::path& dir, const std::string& started, uint64_t c, uint64_t e, const std::string& base = "",
                  const std::string& base_started = "", uint64_t base_end = 0, uint64_t threshold = 0,
                  const std::string& server_id = "", const std::string& flavour = "mysql") {
  fs::create_directories(dir);
  Manifest m;
  m.kind = "backup";
  m.command = "local";
  m.state = TargetState::kComplete;
  m.started_at = started;
  m.sections = {{"backup_type", base.empty() ? "full" : "incremental"},
                {"flavour", flavour},
                {"server_version", "9.7.4"},
                {"source", {{"datadir", "/var/lib/mysql"}}},
                {"checkpoint_lsn", c},
                {"end_lsn", e}};
  if (flavour == "mysql") m.sections["server_uuid"] = "u";
  if (!server_id.empty()) m.sections["server_id"] = server_id;
  if (!base.empty())
    m.sections["incremental"] = {{"base", "/elsewhere/" + base}, {"base_name", base},
                                 {"base_started_at", base_started}, {"base_end_lsn", base_end},
                                 {"threshold_lsn", threshold}};
  std::ofstream(dir / kManifestFile) << manifest_text(m);
}

TEST(BackupChain, ABaseIsTheOneItsIncrementalRecordedOrRefused) {
  testpages::ScratchDir scratch;
  const fs::path r = scratch.path;
  write_backup(r / "full", "2026-12-01T00:00:00Z", 1000, 2000);
  write_backup(r / "inc", "2026-12-02T00:00:00Z", 3000, 4000, "full", "2026-12-01T00:00:00Z", 2000, 1000);
  auto chain = read_chain((r / "inc").string());
  ASSERT_TRUE(chain.is_ok()) << chain.status().message();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].dir, (r / "full").string());
  // Another backup of the server in the base's place, from the same checkpoint (a quiet server)
  // but of another time and end: refused, where the checkpoint alone let it through.
  fs::rename(r / "full", r / "full-real");
  write_backup(r / "full", "2026-12-01T06:00:00Z", 1000, 2500);
  chain = read_chain((r / "inc").string());
  EXPECT_EQ(chain.status().code(), ExitCode::kPath);
  EXPECT_NE(chain.status().message().find("was taken on another backup than"), std::string::npos)
      << chain.status().message();
  // One of another checkpoint: refused as before.
  write_backup(r / "full", "2026-12-01T00:00:00Z", 1100, 2000);
  EXPECT_EQ(read_chain((r / "inc").string()).status().code(), ExitCode::kPath);
  // An incremental of an earlier version recorded no start time nor end: the checkpoint decides.
  write_backup(r / "old-inc", "2026-12-02T00:00:00Z", 3000, 4000, "full-real", "", 0, 1000);
  EXPECT_TRUE(read_chain((r / "old-inc").string()).is_ok());
  // MariaDB (no server_uuid): a base of another server_id (a replica's datadir is its
  // primary's in path, version and space ids) is refused; one of an earlier version recorded
  // none: not compared.
  write_backup(r / "base-1", "2026-12-03T00:00:00Z", 5000, 6000, "", "", 0, 0, "1", "mariadb");
  write_backup(r / "inc-2", "2026-12-04T00:00:00Z", 7000, 8000, "base-1", "2026-12-03T00:00:00Z", 6000, 5000, "2",
               "mariadb");
  chain = read_chain((r / "inc-2").string());
  EXPECT_EQ(chain.status().code(), ExitCode::kPath);
  EXPECT_NE(chain.status().message().find("server_id 1 vs 2"), std::string::npos) << chain.status().message();
  write_backup(r / "inc-old", "2026-12-04T00:00:00Z", 7000, 8000, "base-1", "2026-12-03T00:00:00Z", 6000, 5000, "",
               "mariadb");
  EXPECT_TRUE(read_chain((r / "inc-old").string()).is_ok());
  // MySQL: its server_uuid says which server; a server_id changed since (it became a replica)
  // does not refuse it.
  write_backup(r / "my-base", "2026-12-03T00:00:00Z", 5000, 6000, "", "", 0, 0, "1");
  write_backup(r / "my-inc", "2026-12-04T00:00:00Z", 7000, 8000, "my-base", "2026-12-03T00:00:00Z", 6000, 5000, "2");
  EXPECT_TRUE(read_chain((r / "my-inc").string()).is_ok());
  // An incremental of an earlier version that recorded its base as "DIR/" and no name: found.
  write_backup(r / "slash-inc", "2026-12-04T00:00:00Z", 7000, 8000, "my-base", "2026-12-03T00:00:00Z", 6000, 5000);
  {
    auto doc = nlohmann::json::parse(mysqlclone::test::slurp(r / "slash-inc" / kManifestFile));
    doc["incremental"]["base"] = (r / "my-base").string() + "/";
    doc["incremental"].erase("base_name");
    std::ofstream(r / "slash-inc" / kManifestFile) << doc.dump(2);
  }
  auto slash = read_chain((r / "slash-inc").string());
  ASSERT_TRUE(slash.is_ok()) << slash.status().message();
  EXPECT_EQ(slash->front().dir, (r / "my-base").string());
  // A broken chain: the base is gone.
  fs::remove_all(r / "full-real");
  EXPECT_FALSE(read_chain((r / "old-inc").string()).is_ok());
}

TEST(Repository, OneRunAtATimeAndNeverOverOtherFiles) {
  testpages::ScratchDir scratch;
  const std::string repo = (scratch.path / "repo").string();
  ASSERT_TRUE(create_repository(repo).is_ok());
  ASSERT_TRUE(check_repository(repo).is_ok());
  {
    auto first = lock_repository(repo, "local");
    ASSERT_TRUE(first.is_ok()) << first.status().message();
    auto second = lock_repository(repo, "expire");
    ASSERT_FALSE(second.is_ok());
    EXPECT_EQ(second.status().code(), ExitCode::kPath);
    EXPECT_NE(second.status().message().find("in use by mysqlclone local (pid"), std::string::npos)
        << second.status().message();
  }
  EXPECT_TRUE(lock_repository(repo, "expire").is_ok()) << "the lock is released with its holder";

  const std::string other = (scratch.path / "other").string();
  fs::create_directories(other);
  std::ofstream(other + "/precious") << "x";
  Status s = create_repository(other);
  EXPECT_EQ(s.code(), ExitCode::kPath);
  EXPECT_NE(s.message().find("not a mysqlclone repository"), std::string::npos) << s.message();
  EXPECT_EQ(check_repository(other).code(), ExitCode::kPath);

  auto none = newest_backup(repo);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("take a full one first"), std::string::npos);
}

}  // namespace
