// Repositories (repository.h): which backups `expire` keeps (never a base a kept backup needs),
// the lock that lets one run at a time, and that a repository is never laid over other files.
#include "libclone/manifest/repository.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_datadir.h"

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
