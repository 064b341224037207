// File names are bytes, not text: a name that is not UTF-8 must not kill `local`, `verify` or
// `restore` (nlohmann's dump() throws on invalid UTF-8). Seen: a stray .ibd whose name holds byte
// 0xFF in a schema folder of a MySQL 9.7 datadir ended `local` with std::terminate after the copy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test/integration/harness.h"
#include "test/integration/text.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;

// How the JSON documents name a byte that is not UTF-8: U+FFFD.
constexpr const char* kStrayRel = "s/stray\xff.ibd";
constexpr const char* kStrayInJson = "s/stray\xef\xbf\xbd.ibd";

bool lists(const json& files, const std::string& key, const std::string& path) {
  if (!files.is_array()) return false;
  for (const auto& f : files)
    if (f.is_object() && f.value(key, "") == path) return true;
  return false;
}

TEST(NonUtf8Names, LocalAndVerifyOnMysql97) {
  it::Server server("mysql-9.7", "16k");
  server.sql("CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY); INSERT INTO s.t VALUES (1), (2);");
  // Four pages of zeros: to a copy, a tablespace file just created and not written yet.
  std::ofstream(server.datadir() + "/" + kStrayRel, std::ios::binary) << std::string(4 * 16384, '\0');

  it::TempDir work;
  const std::string target = work.path() + "/backup";
  auto r = it::mysqlclone_bounded({"--json", "local", "--target-dir", target, "-S", server.socket(), "-u",
                                   "mysqlclone", "-pmysqlclone"},
                                  600);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << "stdout is not one JSON document\n" << describe(r);
  EXPECT_EQ(doc.value("ok", false), true) << doc.dump();
  // Copied under its own name; the record names it with U+FFFD for the bad byte.
  EXPECT_TRUE(fs::exists(target + "/" + kStrayRel));
  const json meta = parse(it::read_file(target + "/mysqlclone.json"));
  ASSERT_TRUE(meta.is_object()) << it::read_file(target + "/mysqlclone.json");
  EXPECT_EQ(meta.value("state", ""), "complete");
  EXPECT_TRUE(lists(meta["files"], "path", kStrayInJson)) << meta["files"].dump();

  // verify of the copy finds the file the record names and checks its SHA-256.
  auto v = it::mysqlclone_bounded({"--json", "verify", target}, 600);
  ASSERT_EQ(v.exit_code, 0) << describe(v);
  const json report = parse(v.out);
  ASSERT_TRUE(report.is_object()) << "stdout is not one JSON document\n" << describe(v);
  EXPECT_EQ(report.value("ok", false), true) << report.dump();
  EXPECT_TRUE(lists(report["file_reports"], "path", kStrayInJson)) << report["file_reports"].dump();
  EXPECT_GT(report.value("checksummed_files", 0), 0) << report.dump();

  // restore takes it too (it refused the backup: "lacks s/stray\xef\xbf\xbd.ibd, which its
  // mysqlclone.json lists"), under its own name.
  auto restored = it::mysqlclone_bounded({"restore", "--backup", target, "--target-dir", work.path() + "/restored"}, 600);
  ASSERT_EQ(restored.exit_code, 0) << describe(restored);
  EXPECT_TRUE(fs::exists(work.path() + "/restored/" + kStrayRel));

  // A failure naming the file: one error line with the byte escaped, and the JSON failure
  // document (a tablespace shorter than one page cannot be read: exit 7).
  fs::resize_file(target + "/" + kStrayRel, 100);
  auto bad = it::mysqlclone_bounded({"--json", "verify", target}, 600);
  ASSERT_EQ(bad.exit_code, 7) << describe(bad);
  const json failure = parse(bad.out);
  ASSERT_TRUE(failure.is_object()) << "stdout is not one JSON document\n" << describe(bad);
  EXPECT_EQ(failure.value("ok", true), false);
  EXPECT_EQ(failure.value("exit_code", 0), 7);
  EXPECT_TRUE(contains(failure.value("error", ""), "s/stray\\xff.ibd")) << failure.dump();
  const auto errors = error_lines(bad.err);
  ASSERT_EQ(errors.size(), 1u) << describe(bad);
  EXPECT_TRUE(contains(errors[0], "s/stray\\xff.ibd")) << errors[0];
}

}  // namespace
