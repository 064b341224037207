// The binary's contract without a server: exit codes, one-line errors, JSON error documents.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "test/integration/harness.h"

namespace {

size_t lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, UsageErrorsExit2) {
  EXPECT_EQ(it::mysqlclone({}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"verify"}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"verify", "/tmp", "--threads", "x"}).exit_code, 2);
}

TEST(Cli, HelpAndVersionExit0) {
  auto help = it::mysqlclone({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("verify"), std::string::npos);
  auto version = it::mysqlclone({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("0."), std::string::npos);
}

TEST(Cli, MissingPathIsOneLineExit6) {
  auto r = it::mysqlclone({"verify", "/nonexistent/datadir"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/datadir"), std::string::npos);
  EXPECT_NE(r.err.find("error:"), std::string::npos);
}

TEST(Cli, NotADatadirExit6WithJsonErrorDocument) {
  auto r = it::mysqlclone({"--json", "verify", "/tmp"});
  EXPECT_EQ(r.exit_code, 6);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["exit_code"], 6);
  EXPECT_NE(doc["error"].get<std::string>().find("/tmp"), std::string::npos);
}

}  // namespace
