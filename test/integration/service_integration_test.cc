// The scheduled backup (issue 13): the command line of packaging/systemd/mysqlclone-backup@.service,
// run as the unit runs it (its own words, with the unit's directories moved into a throwaway
// one), with an option file pointing at a test server; the metrics file after a success and
// after a failure (the server stopped), which carries the last success over.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "test/integration/harness.h"
#include "test/integration/text.h"

namespace {

namespace fs = std::filesystem;
using namespace it::text;

// The unit's ExecStart, word by word, for instance `name`, with its fixed paths under `root`.
std::vector<std::string> service_command(const std::string& name, const std::string& root) {
  std::ifstream unit(std::string(MYSQLCLONE_SOURCE_DIR) + "/packaging/systemd/mysqlclone-backup@.service");
  std::string line;
  while (std::getline(unit, line) && !line.starts_with("ExecStart=")) {
  }
  std::vector<std::string> words;
  std::istringstream in(line.substr(std::string("ExecStart=").size()));
  for (std::string w; in >> w;) {
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"/usr/bin/mysqlclone", it::mysqlclone_binary()},
             {"/etc/mysqlclone/", root + "/etc/"},
             {"/var/lib/prometheus/node-exporter/", root + "/metrics/"},
             {"%i", name}})
      if (auto at = w.find(from); at != std::string::npos) w.replace(at, from.size(), to);
    words.push_back(w);
  }
  return words;
}

// The one sample of `metric` in a metrics file's text ("" when absent).
std::string sample(const std::string& text, const std::string& metric) {
  for (const auto& l : split_lines(text))
    if (l.starts_with(metric + "{")) return l;
  return "";
}

double value(const std::string& sample_line) { return std::stod(sample_line.substr(sample_line.rfind(' ') + 1)); }

TEST(Service, ScheduledRunWritesANewTargetAndTheMetricsOfSuccessAndFailure) {
  it::Server server("mariadb-10.11", "16k");
  it::TempDir root;
  const std::vector<std::string> command = service_command("nightly", root.path());
  ASSERT_EQ(command.size(), 5u) << join(command, " ");
  EXPECT_EQ(command[0], it::mysqlclone_binary());
  fs::create_directories(root.path() + "/etc");
  fs::create_directories(root.path() + "/metrics");
  fs::create_directories(root.path() + "/backups");
  const std::string target = root.path() + "/backups/nightly/{timestamp}";
  fs::create_directories(root.path() + "/backups/nightly");
  std::ofstream(root.path() + "/etc/nightly.cnf") << "[mysqlclone]\nuser = mysqlclone\npassword = mysqlclone\n"
                                                  << "socket = " << server.socket() << "\n"
                                                  << "[mysqlclone-local]\ntarget-dir = " << target << "\n";
  // The backup is described entirely by the option file: the unit's command line, nothing else.
  const std::vector<std::string>& argv = command;
  const std::string metrics = root.path() + "/metrics/mysqlclone-nightly.prom";
  const std::string labels = "{command=\"local\",config=\"nightly\",target=\"" + target + "\"}";

  const it::CommandResult ok = it::run_bounded(argv, 600);
  ASSERT_EQ(ok.exit_code, 0) << describe(ok);
  const std::vector<std::string> made = it::listing(root.path() + "/backups/nightly");
  ASSERT_EQ(made.size(), 1u);
  EXPECT_TRUE(std::regex_match(made[0], std::regex("20[0-9]{6}T[0-9]{6}Z"))) << made[0];
  EXPECT_EQ(parse(it::read_file(root.path() + "/backups/nightly/" + made[0] + "/mysqlclone.json")).value("state", ""),
            "complete");
  std::string text = it::read_file(metrics);
  EXPECT_EQ(sample(text, "mysqlclone_last_run_success"), "mysqlclone_last_run_success" + labels + " 1") << text;
  EXPECT_EQ(sample(text, "mysqlclone_last_run_exit_code"), "mysqlclone_last_run_exit_code" + labels + " 0");
  EXPECT_GT(value(sample(text, "mysqlclone_last_run_bytes")), 1e6) << text;
  EXPECT_NE(text.find("mysqlclone_last_run_lock_seconds{command=\"local\",config=\"nightly\""), std::string::npos);
  EXPECT_NE(sample(text, "mysqlclone_last_run_redo_bytes"), "") << text;
  const double succeeded = value(sample(text, "mysqlclone_last_success_timestamp_seconds"));
  EXPECT_EQ(succeeded, value(sample(text, "mysqlclone_last_run_end_timestamp_seconds")));
  EXPECT_GE(value(sample(text, "mysqlclone_last_run_duration_seconds")), 0);

  server.stop();
  const it::CommandResult failed = it::run_bounded(argv, 120);
  EXPECT_EQ(failed.exit_code, 3) << describe(failed);  // cannot connect
  EXPECT_EQ(error_lines(failed.err).size(), 1u) << failed.err;
  text = it::read_file(metrics);
  EXPECT_EQ(sample(text, "mysqlclone_last_run_success"), "mysqlclone_last_run_success" + labels + " 0") << text;
  EXPECT_EQ(sample(text, "mysqlclone_last_run_exit_code"), "mysqlclone_last_run_exit_code" + labels + " 3");
  EXPECT_EQ(sample(text, "mysqlclone_last_run_bytes"), "") << text;
  EXPECT_EQ(value(sample(text, "mysqlclone_last_success_timestamp_seconds")), succeeded) << text;
  EXPECT_GT(value(sample(text, "mysqlclone_last_run_start_timestamp_seconds")), succeeded);
  EXPECT_EQ(it::listing(root.path() + "/metrics"), std::vector<std::string>{"mysqlclone-nightly.prom"});
}

}  // namespace
