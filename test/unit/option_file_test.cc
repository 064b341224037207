#include "libclone/server/option_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "libclone/server/connection.h"

namespace {
namespace fs = std::filesystem;

class OptionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mysqlclone-opt-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "conf.d");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(OptionFileTest, GroupsIncludesNamesAndValues) {
  write("conf.d/b.cnf", "[mysqlclone]\nport = 3310\n");
  write("conf.d/a.cnf", "[mysqlclone]\nport = 3309\n");
  write("conf.d/ignored.txt", "[client]\nuser = nobody\n");
  write("inc.cnf", "[client]\nssl_ca=/etc/ca.pem\n");
  const std::string main = write("my.cnf",
                                 "# comment\n"
                                 "[mysqld]\nport=1\n"
                                 "[client]\n"
                                 "user = backup   \n"
                                 "password = \"p#ss word\"\n"
                                 "host=db1 # trailing comment\n"
                                 "loose_ssl_mode=REQUIRED\n"
                                 "skip-column-names\n"
                                 "socket='/run/my\\\\sock'\n"
                                 "!include " + (dir_ / "inc.cnf").string() + "\n"
                                 "!includedir " + (dir_ / "conf.d").string() + "\n");
  mysqlclone::OptionFileChoice choice;
  choice.defaults_file = main;
  const std::vector<std::string> groups{"client", "mysqlclone"};
  auto entries = mysqlclone::read_option_entries(mysqlclone::option_files(choice), groups, choice);
  ASSERT_TRUE(entries.is_ok()) << entries.status().message();
  const auto values = mysqlclone::merge_by_group(*entries, groups);
  const auto* v = &values;
  EXPECT_EQ(v->at("user"), "backup");
  EXPECT_EQ(v->at("password"), "p#ss word");
  EXPECT_EQ(v->at("host"), "db1");
  EXPECT_EQ(v->at("ssl-mode"), "REQUIRED");
  EXPECT_EQ(v->at("skip-column-names"), "");
  EXPECT_EQ(v->at("socket"), "/run/my\\sock");
  EXPECT_EQ(v->at("ssl-ca"), "/etc/ca.pem");
  EXPECT_EQ(v->at("port"), "3310");  // b.cnf is read after a.cnf; [mysqld] is not ours
  // Where each came from, and how it was written.
  for (const auto& e : *entries) {
    if (e.name == "ssl-mode") {
      EXPECT_TRUE(e.loose);
      EXPECT_EQ(e.where(), main + ":8");
    }
    if (e.name == "skip-column-names") {
      EXPECT_TRUE(e.bare);
    }
    if (e.name == "port") {
      EXPECT_EQ(e.group, "mysqlclone");
    }
  }
}

TEST_F(OptionFileTest, ALaterGroupWinsWhereverItsEntriesAre) {
  const std::string f = write("g.cnf",
                              "[mysqlclone-local]\nparallel=3\n"
                              "[mysqlclone]\nparallel=2\nmax-rate=5\n"
                              "[client]\nparallel=9\nuser=u\n");
  mysqlclone::OptionFileChoice choice;
  choice.defaults_file = f;
  const std::vector<std::string> groups{"client", "mysqlclone", "mysqlclone-local"};
  auto entries = mysqlclone::read_option_entries(mysqlclone::option_files(choice), groups, choice);
  ASSERT_TRUE(entries.is_ok());
  const auto v = mysqlclone::merge_by_group(*entries, groups);
  EXPECT_EQ(v.at("parallel"), "3");
  EXPECT_EQ(v.at("max-rate"), "5");
  EXPECT_EQ(v.at("user"), "u");
}

TEST_F(OptionFileTest, FileOrderAndChoices) {
  mysqlclone::OptionFileChoice none;
  none.no_defaults = true;
  EXPECT_TRUE(mysqlclone::option_files(none).empty());
  mysqlclone::OptionFileChoice extra;
  extra.defaults_extra_file = "/x/extra.cnf";
  auto files = mysqlclone::option_files(extra);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files[0], "/etc/my.cnf");
  EXPECT_NE(std::find(files.begin(), files.end(), "/x/extra.cnf"), files.end());
  EXPECT_NE(files.back().find(".my.cnf"), std::string::npos);  // the user's file is read last
}

TEST_F(OptionFileTest, MissingExplicitFileIsAnError) {
  mysqlclone::OptionFileChoice choice;
  choice.defaults_file = (dir_ / "missing.cnf").string();
  auto v = mysqlclone::read_option_entries(mysqlclone::option_files(choice), {"client"}, choice);
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), mysqlclone::ExitCode::kUsage);
  // A directory opens and reads as an empty file: it was taken, and none of the options meant.
  choice.defaults_file = (dir_ / "conf.d").string();
  v = mysqlclone::read_option_entries(mysqlclone::option_files(choice), {"client"}, choice);
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), mysqlclone::ExitCode::kUsage);
  EXPECT_NE(v.status().message().find("is a directory"), std::string::npos) << v.status().message();
}

TEST_F(OptionFileTest, CommandLineWinsThenFilesThenEnvironment) {
  const std::string f = write("c.cnf",
                              "[mysqlclone-local]\nport=4000\n[client]\nuser=fileuser\nport=3999\n[mysqlclone]\n"
                              "host=filehost\nport=3998\n");
  mysqlclone::ConnectionOptions cli;
  cli.files.defaults_file = f;
  cli.command = "local";
  cli.user = "cliuser";
  ::setenv("MYSQL_PWD", "envpass", 1);
  auto p = mysqlclone::resolve_connection(cli);
  ::unsetenv("MYSQL_PWD");
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  EXPECT_EQ(p->user, "cliuser");
  EXPECT_EQ(p->host, "filehost");
  EXPECT_EQ(p->port, 4000u);
  EXPECT_EQ(p->password, "envpass");
  cli.ssl_mode = "sometimes";
  EXPECT_EQ(mysqlclone::resolve_connection(cli).status().code(), mysqlclone::ExitCode::kUsage);
}

}  // namespace
