// Real page images cut from MySQL 9.7.4 and MariaDB 10.11 datadirs (test/fixtures, made by
// make_fixtures.py): they must validate under the detail the server wrote them with, and every
// single-byte flip in the bytes the server protects must be caught. These pages, not the
// synthetic ones, are what proves the checksum arithmetic.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "innodb/page_check.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::load;

struct Fixture {
  std::string file;
  innodb::Flavour flavour;
  uint32_t flags;
  innodb::PageNo page_no;
  innodb::SpaceId space_id;
  std::string detail;
};

std::vector<Fixture> manifest() {
  std::ifstream in(std::string(MYSQLCLONE_FIXTURES) + "/MANIFEST");
  std::vector<Fixture> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    Fixture f;
    std::string flavour, flags;
    ss >> f.file >> flavour >> flags >> f.page_no >> f.space_id >> f.detail;
    f.flavour = flavour == "mysql" ? innodb::Flavour::kMysql : innodb::Flavour::kMariadb;
    f.flags = uint32_t(std::stoul(flags, nullptr, 16));
    out.push_back(f);
  }
  return out;
}

TEST(PageFixtures, ManifestCoversBothFlavoursAndFormats) {
  auto m = manifest();
  ASSERT_GE(m.size(), 10u);
  std::set<std::string> details;
  for (const auto& f : m) details.insert(f.detail);
  EXPECT_TRUE(details.count("crc32"));
  EXPECT_TRUE(details.count("full_crc32"));
}

TEST(PageFixtures, RealPagesValidate) {
  for (const Fixture& fx : manifest()) {
    SCOPED_TRACE(fx.file);
    auto format = innodb::decode_tablespace_flags(fx.flags, fx.flavour);
    ASSERT_TRUE(format);
    const auto page = load(fx.file);
    ASSERT_EQ(page.size(), format->physical_size);
    auto v = innodb::check_page(page, *format, fx.page_no, fx.space_id);
    EXPECT_EQ(v.status, innodb::PageStatus::kValid);
    EXPECT_EQ(innodb::page_detail_name(v.detail), fx.detail);
    EXPECT_GT(v.lsn, 0u);
    EXPECT_EQ(innodb::check_page(page, *format, fx.page_no + 1, fx.space_id).detail,
              innodb::PageDetail::kPageNumberMismatch);
    // The other family's reading of the same bytes must not crash, whatever it concludes.
    auto other = innodb::decode_tablespace_flags(
        fx.flags, fx.flavour == innodb::Flavour::kMysql ? innodb::Flavour::kMariadb : innodb::Flavour::kMysql);
    if (other && other->physical_size == page.size()) (void)innodb::check_page(page, *other, fx.page_no, fx.space_id);
  }
}

TEST(PageFixtures, EveryProtectedByteFlipIsCaught) {
  for (const Fixture& fx : manifest()) {
    SCOPED_TRACE(fx.file);
    auto format = innodb::decode_tablespace_flags(fx.flags, fx.flavour);
    ASSERT_TRUE(format);
    const auto page = load(fx.file);
    // Bytes outside every check, because the servers ignore them too (see page_check_test.cc):
    // 26..33 outside full_crc32; the LSN of ROW_FORMAT=COMPRESSED pages; the punched tail of a
    // page_compressed slot.
    size_t end = page.size();
    const uint16_t type = uint16_t(page[24] << 8 | page[25]);
    if (format->full_crc32 && (type & innodb::kFullCrc32CompressedMarker)) end = size_t(type & 0x7FFF) << 8;
    for (size_t i = 0; i < end; ++i) {
      if (!format->full_crc32 && i >= 26 && i < 34) continue;
      if (format->row_compressed && i >= 16 && i < 24) continue;
      auto p = page;
      p[i] ^= 0x01;
      ASSERT_NE(innodb::check_page(p, *format, fx.page_no, fx.space_id).status, innodb::PageStatus::kValid)
          << "byte " << i;
    }
  }
}

}  // namespace
