#include "libclone/command/remote/clone_paths.h"

#include <gtest/gtest.h>

#include <string>

namespace {
using namespace mysqlclone;
using namespace mysqlclone::clone;
namespace fs = std::filesystem;

const fs::path kDir = "/srv/clone/target";

PathRules rules(bool allow_absolute = false) { return PathRules{kDir, allow_absolute}; }

// The property that matters: whatever is accepted stays under DIR.
void expect_under_dir(const fs::path& p) {
  const fs::path rel = p.lexically_normal().lexically_relative(kDir);
  ASSERT_FALSE(rel.empty()) << p;
  EXPECT_NE(*rel.begin(), "..") << p;
  EXPECT_NE(rel, ".") << p;
}

void expect_target(const std::string& name, const fs::path& expected, bool allow_absolute = false) {
  auto r = data_file_target(name, rules(allow_absolute));
  ASSERT_TRUE(r.is_ok()) << name << ": " << r.status().message();
  EXPECT_EQ(*r, expected) << name;
  expect_under_dir(*r);
}

void expect_refused(const std::string& name, ExitCode code, bool allow_absolute = false) {
  auto r = data_file_target(name, rules(allow_absolute));
  ASSERT_FALSE(r.is_ok()) << "accepted: " << name << " -> " << r.value();
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST(ClonePathsTest, AcceptsTheNamesDonorsSend) {
  expect_target("ibdata1", kDir / "ibdata1");
  expect_target("undo_001", kDir / "undo_001");
  expect_target("ib_buffer_pool", kDir / "ib_buffer_pool");
  expect_target("./mysql.ibd", kDir / "mysql.ibd");
  expect_target("./db1/t1.ibd", kDir / "db1" / "t1.ibd");
  expect_target("db1/t@002d1#p#p0.ibd", kDir / "db1" / "t@002d1#p#p0.ibd");
  expect_target("a/b", kDir / "a" / "b");
  expect_target("./..a/b..", kDir / "..a" / "b..");  // dots inside a name are just characters
  expect_target("#clonex/y", kDir / "#clonex" / "y");
  expect_target("x/#clone/y", kDir / "x" / "#clone" / "y");  // only the first component is reserved
  expect_target(std::string(4096, 'n'), kDir / std::string(4096, 'n'));
}

TEST(ClonePathsTest, RefusesHostileNames) {
  for (const std::string name :
       {"../x", "a/../../x", "./../x", "..", ".", "./", "./.", "a/..", "a//b", "a/./b", "./a/./b", "", "a/", "a/b/",
        ".//a", "#clone/#status_fix", "./#clone/x", "#clone", "#CLONE/x", "mysqlclone.json", "./mysqlclone.json",
        "MySQLClone.JSON", "#external/x", "#innodb_redo/#ib_redo0", "a\nb", "a\x01", "a\tb"}) {
    expect_refused(name, ExitCode::kProtocol);
  }
  expect_refused(std::string("a\0b", 3), ExitCode::kProtocol);
  expect_refused(std::string("\0", 1), ExitCode::kProtocol);
  expect_refused(std::string(4097, 'n'), ExitCode::kProtocol);
  expect_refused(std::string(1 << 20, 'n'), ExitCode::kProtocol);
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "../";
  expect_refused(deep + "etc/passwd", ExitCode::kProtocol);
}

TEST(ClonePathsTest, MessagesShowTheNameSafely) {
  auto nl = data_file_target("a\nb", rules());
  ASSERT_FALSE(nl.is_ok());
  EXPECT_NE(nl.status().message().find("\"a\\x0ab\""), std::string::npos) << nl.status().message();
  auto dots = data_file_target("a/../../x", rules());
  ASSERT_FALSE(dots.is_ok());
  EXPECT_EQ(dots.status().message(), "donor file name \"a/../../x\": has a '..' component");
  auto huge = data_file_target(std::string(1 << 20, 'n'), rules());
  ASSERT_FALSE(huge.is_ok());
  EXPECT_LT(huge.status().message().size(), 400u);
  EXPECT_NE(huge.status().message().find("(1048576 bytes)"), std::string::npos) << huge.status().message();
}

TEST(ClonePathsTest, AbsoluteNamesOnlyWhenAllowed) {
  auto refused = data_file_target("/etc/passwd", rules(false));
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ExitCode::kUnsupported);
  EXPECT_NE(refused.status().message().find("--allow-absolute-paths"), std::string::npos)
      << refused.status().message();
  expect_refused("/data/ext/db/t.ibd", ExitCode::kUnsupported);

  expect_target("/etc/passwd", kDir / "#external" / "etc" / "passwd", true);
  expect_target("/data/ext/db/t.ibd", kDir / "#external" / "data" / "ext" / "db" / "t.ibd", true);
  // Under #external the donor's top-level names are its own directories, not ours.
  expect_target("/#clone/x", kDir / "#external" / "#clone" / "x", true);
  for (const std::string name : {"/", "//etc/passwd", "/a/../../x", "/..", "/a/./b", "/a/", "/a//b"}) {
    expect_refused(name, ExitCode::kProtocol, true);
  }
}

TEST(ClonePathsTest, IsAbsoluteDonorName) {
  EXPECT_TRUE(is_absolute_donor_name("/a/b.ibd"));
  EXPECT_FALSE(is_absolute_donor_name("./a/b.ibd"));
  EXPECT_FALSE(is_absolute_donor_name("a"));
  EXPECT_FALSE(is_absolute_donor_name(""));
}

TEST(ServerVersionTest, Parse) {
  auto v = parse_server_version("8.0.36");
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(*v, (ServerVersion{8, 0, 36}));
  EXPECT_EQ(*parse_server_version("9.7.4-2"), (ServerVersion{9, 7, 4}));
  EXPECT_EQ(*parse_server_version("8.4.3-log"), (ServerVersion{8, 4, 3}));
  EXPECT_EQ(*parse_server_version("8.0.36-0ubuntu0.22.04.1"), (ServerVersion{8, 0, 36}));
  EXPECT_EQ(*parse_server_version("10.11.6-MariaDB-0+deb12u1"), (ServerVersion{10, 11, 6}));
  for (const std::string bad : {"10", "", "8.0", "8.0.", "8..36", ".8.0.36", "8.0.36x", "8.0.36.1", "a.b.c", " 8.0.36",
                                "8.0.-36", "123456.0.0", "8.0.999999"}) {
    auto r = parse_server_version(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().code(), ExitCode::kUnsupported);
  }
  EXPECT_LT((ServerVersion{8, 0, 29}), (ServerVersion{8, 0, 30}));
  EXPECT_LT((ServerVersion{8, 0, 99}), (ServerVersion{8, 1, 0}));
  EXPECT_LT((ServerVersion{8, 4, 3}), (ServerVersion{9, 0, 0}));
}

TEST(ClonePathsTest, RedoFileNames) {
  EXPECT_EQ(redo_file_target(kDir, 0, {8, 0, 17}), kDir / "ib_logfile0");
  EXPECT_EQ(redo_file_target(kDir, 1, {8, 0, 29}), kDir / "ib_logfile1");
  EXPECT_EQ(redo_file_target(kDir, 0, {8, 0, 30}), kDir / "#innodb_redo" / "#ib_redo0");
  EXPECT_EQ(redo_file_target(kDir, 2, {8, 4, 3}), kDir / "#innodb_redo" / "#ib_redo2");
  EXPECT_EQ(redo_file_target(kDir, 12, {9, 7, 4}), kDir / "#innodb_redo" / "#ib_redo12");
}

}  // namespace
