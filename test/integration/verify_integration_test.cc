// `mysqlclone verify` against datadirs written by real servers: every row format, general and
// partitioned tablespaces, MariaDB page compression and both MariaDB checksum formats, at 16K,
// 4K and 64K pages. A clean shutdown must verify clean; one flipped byte must be reported as
// exactly that file and page.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/harness.h"

namespace {

struct Case {
  std::string flavour;
  std::string page_size;
  unsigned page_bytes;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.flavour + "_" + info.param.page_size;
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

// 1000 rows into `table`, with blobs large enough to need overflow pages.
std::string fill(const std::string& table, unsigned blob_bytes) {
  return "INSERT INTO " + table +
         " (id, v, b) SELECT n, REPEAT(CHAR(97 + n % 26), 50 + n % 100), REPEAT(CHAR(65 + n % 26), " +
         std::to_string(blob_bytes) +
         " + n) FROM (SELECT a.n + 10 * b.n + 100 * c.n AS n FROM t.d a, t.d b, t.d c) s;\n";
}

std::string schema(const Case& c, bool mariadb) {
  const std::string cols = " (id INT PRIMARY KEY, v VARCHAR(200), b BLOB)";
  // Rows of small-page servers must fit half a page with the 768-byte prefix of REDUNDANT/COMPACT.
  const unsigned blob = c.page_bytes <= 4096 ? 300 : 3000;
  std::string s =
      "CREATE DATABASE t;\n"
      "CREATE TABLE t.d (n INT);\n"
      "INSERT INTO t.d VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);\n";
  for (const char* rf : {"REDUNDANT", "COMPACT", "DYNAMIC"}) {
    std::string name = std::string("t.") + rf;
    s += "CREATE TABLE " + name + cols + " ROW_FORMAT=" + rf + ";\n" + fill(name, blob);
  }
  // ROW_FORMAT=COMPRESSED needs KEY_BLOCK_SIZE <= page size <= 16K.
  if (c.page_bytes <= 16384)
    s += "CREATE TABLE t.compressed4" + cols + " ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4;\n" + fill("t.compressed4", blob);
  if (c.page_bytes >= 8192 && c.page_bytes <= 16384)
    s += "CREATE TABLE t.compressed8" + cols + " ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8;\n" + fill("t.compressed8", blob);
  s += "CREATE TABLE t.parts" + cols + " PARTITION BY HASH(id) PARTITIONS 4;\n" + fill("t.parts", blob);
  if (mariadb) {
    s += "CREATE TABLE t.pagecomp" + cols + " PAGE_COMPRESSED=1;\n" + fill("t.pagecomp", blob);
    // full_crc32 is the default; a table created under crc32 keeps the legacy format.
    s += "SET GLOBAL innodb_checksum_algorithm=crc32;\n"
         "CREATE TABLE t.legacy_crc32" + cols + ";\n" + fill("t.legacy_crc32", blob) +
         "SET GLOBAL innodb_checksum_algorithm=full_crc32;\n";
  } else {
    s += "CREATE TABLESPACE general1 ADD DATAFILE 'general1.ibd';\n"
         "CREATE TABLE t.in_general" + cols + " TABLESPACE general1;\n" + fill("t.in_general", blob);
  }
  return s;
}

const nlohmann::json* file_report(const nlohmann::json& doc, const std::string& path) {
  for (const auto& f : doc["file_reports"])
    if (f["path"] == path) return &f;
  return nullptr;
}

class VerifyOnRealServer : public ::testing::TestWithParam<Case> {};

TEST_P(VerifyOnRealServer, CleanThenOneFlippedByte) {
  const Case& c = GetParam();
  it::Server server(c.flavour, c.page_size);
  ASSERT_EQ(server.sql("SELECT @@innodb_page_size;"), std::to_string(c.page_bytes) + "\n");
  server.sql(schema(c, server.is_mariadb()));

  // A running server's files are refused: their pages may be in flight.
  auto running = it::mysqlclone({"verify", server.datadir()});
  EXPECT_EQ(running.exit_code, 6) << running.err;
  EXPECT_NE(running.err.find("in use by a running server"), std::string::npos) << running.err;

  server.stop();
  auto clean = it::mysqlclone({"--json", "verify", server.datadir()});
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  const auto doc = nlohmann::json::parse(clean.out);
  EXPECT_EQ(doc["ok"], true);
  EXPECT_EQ(doc["page_size"], c.page_bytes);
  EXPECT_EQ(doc["pages"]["corrupt"], 0);
  EXPECT_GT(doc["pages"]["valid"].get<uint64_t>(), 100u);
  // Every kind of file the schema made was read.
  std::vector<std::string> expected{"ibdata1", "t/REDUNDANT.ibd", "t/COMPACT.ibd", "t/DYNAMIC.ibd"};
  if (c.page_bytes <= 16384) expected.push_back("t/compressed4.ibd");
  if (server.is_mariadb()) {
    expected.insert(expected.end(), {"t/pagecomp.ibd", "t/legacy_crc32.ibd"});
  } else {
    expected.insert(expected.end(), {"mysql.ibd", "general1.ibd", "undo_001"});
  }
  for (const auto& path : expected) {
    const auto* f = file_report(doc, path);
    ASSERT_NE(f, nullptr) << path << " not verified";
    EXPECT_EQ((*f)["ok"], true) << path;
  }
  if (c.page_bytes <= 16384) {
    EXPECT_EQ((*file_report(doc, "t/compressed4.ibd"))["page_size"], 4096);
  }
  bool saw_partition = false;
  for (const auto& f : doc["file_reports"])
    saw_partition |= f["path"].get<std::string>().find("parts#p#p") != std::string::npos ||
                     f["path"].get<std::string>().find("parts#P#p") != std::string::npos;
  EXPECT_TRUE(saw_partition) << "no partition file verified";

  // One flipped byte in the middle of page 3 of one table.
  const std::string victim = "t/DYNAMIC.ibd";
  it::flip_byte(server.datadir() + "/" + victim, 3ULL * c.page_bytes + c.page_bytes / 2);
  auto bad = it::mysqlclone({"--json", "verify", server.datadir()});
  ASSERT_EQ(bad.exit_code, 11) << bad.out << bad.err;
  const auto bad_doc = nlohmann::json::parse(bad.out);
  EXPECT_EQ(bad_doc["ok"], false);
  // Like every failure document: the error line and the exit code (they were missing).
  EXPECT_EQ(bad_doc.value("exit_code", 0), 11);
  EXPECT_EQ(bad_doc.value("error", ""), "1 of " + std::to_string(bad_doc.value("files", 0)) +
                                            " files have bad pages or problems");
  EXPECT_EQ(bad_doc["bad_files"], 1);
  EXPECT_EQ(bad_doc["pages"]["corrupt"], 1);
  const auto* f = file_report(bad_doc, victim);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ((*f)["bad_pages"].size(), 1u);
  EXPECT_EQ((*f)["bad_pages"][0]["page"], 3);
  // The human report names file and page.
  auto human = it::mysqlclone({"verify", server.datadir()});
  EXPECT_EQ(human.exit_code, 11);
  EXPECT_NE(human.out.find("BAD  " + victim + ":3: "), std::string::npos) << human.out;
}

INSTANTIATE_TEST_SUITE_P(Servers, VerifyOnRealServer,
                         ::testing::Values(Case{"mariadb-10.11", "16k", 16384}, Case{"mariadb-10.11", "4k", 4096},
                                           Case{"mariadb-10.11", "64k", 65536}, Case{"mysql-9.7", "16k", 16384},
                                           Case{"mysql-9.7", "4k", 4096}, Case{"mysql-9.7", "64k", 65536},
                                           Case{"mariadb-11.8", "16k", 16384}, Case{"mariadb-11.8", "4k", 4096}),
                         case_name);

}  // namespace
