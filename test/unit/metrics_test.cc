// The metrics file: Prometheus text exposition, last success carried over by failed runs, the
// file replaced atomically; the {timestamp} placeholder of a target directory.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "libclone/manifest/metrics.h"
#include "libclone/manifest/target.h"

namespace mysqlclone {
namespace {

// A failed run of the nightly schedule: what every run knows.
RunMetrics failure(int exit_code, double at) {
  RunMetrics m;
  m.command = "local";
  m.config = "nightly";
  m.target = "/var/backups/mysqlclone/nightly/{timestamp}";
  m.exit_code = exit_code;
  m.started = at;
  m.finished = at + 1;
  return m;
}

RunMetrics success() {
  RunMetrics m = failure(0, 1764771900);
  m.finished = 1764771960.5;
  m.bytes = 123456789;
  m.ddl_blocked_seconds = 0.25;
  m.commits_blocked_seconds = 0.012;
  m.redo_bytes = 4096;
  return m;
}

constexpr const char* kLabels = R"(command="local",config="nightly",target="/var/backups/mysqlclone/nightly/{timestamp}")";

std::string sample(const std::string& name, const std::string& value, const std::string& extra = "") {
  return name + "{" + kLabels + extra + "} " + value + "\n";
}

TEST(Metrics, SuccessHasEveryValue) {
  const std::string text = metrics_text(success(), 1.0);
  EXPECT_NE(text.find("# TYPE mysqlclone_last_run_success gauge\n" + sample("mysqlclone_last_run_success", "1")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(sample("mysqlclone_last_run_exit_code", "0")), std::string::npos) << text;
  EXPECT_NE(text.find(sample("mysqlclone_last_run_start_timestamp_seconds", "1764771900")), std::string::npos);
  EXPECT_NE(text.find(sample("mysqlclone_last_run_end_timestamp_seconds", "1764771960.5")), std::string::npos);
  EXPECT_NE(text.find(sample("mysqlclone_last_run_duration_seconds", "60.5")), std::string::npos);
  EXPECT_NE(text.find(sample("mysqlclone_last_run_bytes", "123456789")), std::string::npos);
  EXPECT_NE(text.find(sample("mysqlclone_last_run_lock_seconds", "0.25", ",lock=\"ddl\"")), std::string::npos);
  EXPECT_NE(text.find(sample("mysqlclone_last_run_lock_seconds", "0.012", ",lock=\"commits\"")), std::string::npos);
  EXPECT_NE(text.find(sample("mysqlclone_last_run_redo_bytes", "4096")), std::string::npos);
  // This run is the last success, whatever the previous file said.
  EXPECT_NE(text.find(sample("mysqlclone_last_success_timestamp_seconds", "1764771960.5")), std::string::npos);
  EXPECT_EQ(last_success_in(text), 1764771960.5);
}

TEST(Metrics, FailureCarriesTheLastSuccessOverAndOmitsWhatItDoesNotKnow) {
  const RunMetrics m = failure(3, 1764858300);
  const std::string previous = metrics_text(success(), std::nullopt);
  const std::string text = metrics_text(m, last_success_in(previous));
  EXPECT_NE(text.find(sample("mysqlclone_last_run_success", "0")), std::string::npos) << text;
  EXPECT_NE(text.find(sample("mysqlclone_last_run_exit_code", "3")), std::string::npos) << text;
  EXPECT_NE(text.find(sample("mysqlclone_last_success_timestamp_seconds", "1764771960.5")), std::string::npos);
  EXPECT_EQ(text.find("mysqlclone_last_run_bytes"), std::string::npos);
  EXPECT_EQ(text.find("lock_seconds"), std::string::npos);
  EXPECT_EQ(text.find("redo_bytes"), std::string::npos);
  // Never succeeded: no last-success sample at all (the alert rule's absent() catches that).
  EXPECT_EQ(metrics_text(m, std::nullopt).find("last_success"), std::string::npos);
}

TEST(Metrics, LastSuccessIsFoundOnlyInItsOwnSample) {
  EXPECT_EQ(last_success_in(""), std::nullopt);
  EXPECT_EQ(last_success_in("mysqlclone_last_success_timestamp_seconds_other{a=\"b\"} 5\n"), std::nullopt);
  EXPECT_EQ(last_success_in("mysqlclone_last_success_timestamp_seconds{a=\"b\"} x\n"), std::nullopt);
  EXPECT_EQ(last_success_in("# comment\nmysqlclone_last_success_timestamp_seconds 42\n"), 42.0);
}

TEST(Metrics, LabelValuesAreEscaped) {
  RunMetrics m;
  m.command = "local";
  m.target = "/a\"b\\c\nd\xff";
  const std::string text = metrics_text(m, std::nullopt);
  EXPECT_NE(text.find(R"(target="/a\"b\\c\nd\\xff")"), std::string::npos) << text;
}

TEST(Metrics, ConfigNameIsTheFileNameWithoutCnf) {
  EXPECT_EQ(config_name("/etc/mysqlclone/nightly.cnf"), "nightly");
  EXPECT_EQ(config_name("my.conf"), "my.conf");
  EXPECT_EQ(config_name(".cnf"), ".cnf");
}

TEST(Metrics, FileIsReplacedWholeAndReadable) {
  const std::string dir = ::testing::TempDir() + "metrics_test_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/mysqlclone-nightly.prom";
  ASSERT_TRUE(write_metrics_file(path, success()).is_ok());
  const RunMetrics failed = failure(8, 1764900000);
  ASSERT_TRUE(write_metrics_file(path, failed).is_ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), metrics_text(failed, 1764771960.5));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0044, 0044u);  // the exporter's user reads it
  EXPECT_EQ(std::filesystem::directory_iterator(dir)->path(), path);  // no temporary file left
  EXPECT_EQ(write_metrics_file(dir + "/missing/x.prom", failed).code(), ExitCode::kPath);
  std::filesystem::remove_all(dir);
}

TEST(TargetTimestamp, EveryPlaceholderBecomesTheUtcStart) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1764771900));  // 2025-12-03 14:25 UTC
  EXPECT_EQ(expand_target_timestamp("/b/{timestamp}", t), "/b/20251203T142500Z");
  EXPECT_EQ(expand_target_timestamp("/b/{timestamp}-{timestamp}", t), "/b/20251203T142500Z-20251203T142500Z");
  EXPECT_EQ(expand_target_timestamp("/b/plain", t), "/b/plain");
  EXPECT_EQ(expand_target_timestamp("/b/{time}", t), "/b/{time}");
}

}  // namespace
}  // namespace mysqlclone
