#include "innodb/page_check.h"

#include <gtest/gtest.h>

#include "innodb/byte_order.h"
#include "test_pages.h"

namespace {
using innodb::Flavour;
using innodb::PageDetail;
using innodb::PageStatus;
using testpages::Algo;

innodb::TablespaceFormat legacy_format(Flavour fl, uint32_t size = 16384) { return innodb::default_format(size, fl); }

innodb::TablespaceFormat full_crc32_format(uint32_t size = 16384) {
  auto f = innodb::default_format(size, Flavour::kMariadb);
  f.full_crc32 = true;
  return f;
}

innodb::TablespaceFormat zip_format(uint32_t zip_size) {
  auto f = innodb::default_format(16384, Flavour::kMysql);
  f.row_compressed = true;
  f.physical_size = zip_size;
  return f;
}

innodb::PageVerdict check(const std::vector<uint8_t>& p, const innodb::TablespaceFormat& f,
                          innodb::PageNo page_no = 3, std::optional<innodb::SpaceId> space = 7) {
  return innodb::check_page(p, f, page_no, space);
}

TEST(PageCheck, LegacyAlgorithmsAcceptedByMysql) {
  const auto f = legacy_format(Flavour::kMysql);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kCrc32), f).detail, PageDetail::kCrc32);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kInnodb), f).detail, PageDetail::kInnodbLegacy);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kNone), f).detail, PageDetail::kNoChecksumMagic);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kCrc32BigEndian), f).detail, PageDetail::kCrc32LegacyBigEndian);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kCrc32), f).status, PageStatus::kValid);
}

TEST(PageCheck, MariadbDoesNotKnowTheBigEndianVariant) {
  const auto f = legacy_format(Flavour::kMariadb);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kCrc32), f).status, PageStatus::kValid);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kInnodb), f).status, PageStatus::kValid);
  EXPECT_EQ(check(testpages::legacy_page({}, Algo::kCrc32BigEndian), f).detail, PageDetail::kChecksumMismatch);
}

TEST(PageCheck, MariadbAcceptsMixedLegacyFields) {
  // MariaDB judges each field alone: magic in the old field with the innodb formula in the new.
  auto p = testpages::legacy_page({}, Algo::kInnodb);
  innodb::write_be32(&p[16384 - 8], innodb::kNoChecksumMagic);
  EXPECT_EQ(check(p, legacy_format(Flavour::kMariadb)).status, PageStatus::kValid);
  EXPECT_EQ(check(p, legacy_format(Flavour::kMysql)).detail, PageDetail::kChecksumMismatch);
}

TEST(PageCheck, EmptyPages) {
  std::vector<uint8_t> zero(16384, 0);
  EXPECT_EQ(check(zero, legacy_format(Flavour::kMysql), 99, 7).status, PageStatus::kEmpty);
  EXPECT_EQ(check(zero, full_crc32_format(), 99, 7).status, PageStatus::kEmpty);
  // Bytes 26..33 may hold a flush LSN on an otherwise empty page.
  auto flushed = zero;
  flushed[30] = 0x44;
  EXPECT_EQ(check(flushed, legacy_format(Flavour::kMysql), 99).status, PageStatus::kEmpty);
  // Anything else non-zero makes it a page to check, and a page that then fails.
  auto dirty = zero;
  dirty[100] = 1;
  EXPECT_EQ(check(dirty, legacy_format(Flavour::kMysql), 0).status, PageStatus::kCorrupt);
  EXPECT_EQ(check(dirty, full_crc32_format(), 0).status, PageStatus::kCorrupt);
  std::vector<uint8_t> zip_zero(8192, 0);
  EXPECT_EQ(check(zip_zero, zip_format(8192), 5).status, PageStatus::kEmpty);
}

TEST(PageCheck, IdentityChecks) {
  const auto p = testpages::legacy_page({}, Algo::kCrc32);
  const auto f = legacy_format(Flavour::kMysql);
  EXPECT_EQ(check(p, f, 4, 7).detail, PageDetail::kPageNumberMismatch);
  EXPECT_EQ(check(p, f, 3, 8).detail, PageDetail::kSpaceIdMismatch);
  EXPECT_EQ(check(p, f, 3, std::nullopt).status, PageStatus::kValid);
}

TEST(PageCheck, LsnTrailer) {
  auto p = testpages::legacy_page({}, Algo::kCrc32);
  p[16384 - 1] ^= 1;
  EXPECT_EQ(check(p, legacy_format(Flavour::kMysql)).detail, PageDetail::kLsnMismatch);
  auto q = testpages::full_crc32_page({});
  q[16384 - 5] ^= 1;  // inside the LSN copy at N-8, also under the CRC
  EXPECT_EQ(check(q, full_crc32_format()).status, PageStatus::kCorrupt);
}

TEST(PageCheck, MysqlEncryptedAndTransparentCompressedAreUnverifiable) {
  testpages::Spec s;
  s.type = innodb::kPageTypeMysqlEncrypted;
  auto p = testpages::legacy_page(s, Algo::kCrc32);
  p[200] ^= 0xFF;  // the body cannot be checked without the key
  EXPECT_EQ(check(p, legacy_format(Flavour::kMysql)).detail, PageDetail::kEncrypted);
  EXPECT_EQ(check(p, legacy_format(Flavour::kMysql), 4).detail, PageDetail::kPageNumberMismatch);
  // The same type number means nothing special to MariaDB: checked, and found corrupt.
  EXPECT_EQ(check(p, legacy_format(Flavour::kMariadb)).status, PageStatus::kCorrupt);
  s.type = innodb::kPageTypeMysqlCompressed;
  EXPECT_EQ(check(testpages::legacy_page(s, Algo::kCrc32), legacy_format(Flavour::kMysql)).detail,
            PageDetail::kTransparentCompression);
}

TEST(PageCheck, MariadbLegacyPageCompressed) {
  testpages::Spec s;
  s.type = innodb::kPageTypeMariadbPageCompressed;
  auto p = testpages::legacy_page(s, Algo::kCrc32);
  auto f = legacy_format(Flavour::kMariadb);
  f.page_compressed = true;
  EXPECT_EQ(check(p, f).detail, PageDetail::kLegacyPageCompression);
}

TEST(PageCheck, FullCrc32) {
  const auto f = full_crc32_format();
  EXPECT_EQ(check(testpages::full_crc32_page({}), f).detail, PageDetail::kFullCrc32);
  EXPECT_EQ(check(testpages::full_crc32_page({}, 4096), f).detail, PageDetail::kFullCrc32);
  auto bad_len = testpages::full_crc32_page({}, 4096);
  innodb::write_be16(&bad_len[innodb::kFilPageType], 0x8000 | (16384 >> 8));  // length == page size
  EXPECT_EQ(check(bad_len, f).detail, PageDetail::kBadCompressedLength);
  // Encrypted pages (key version at 0) carry no LSN copy at the end.
  auto enc = testpages::full_crc32_page({});
  innodb::write_be32(&enc[0], 5);
  enc[16384 - 5] ^= 0x10;
  innodb::write_be32(&enc[16384 - 4], innodb::full_crc32_checksum(enc, 16384));
  EXPECT_EQ(check(enc, f).status, PageStatus::kValid);
}

TEST(PageCheck, RowCompressed) {
  testpages::Spec s;
  s.size = 8192;
  const auto f = zip_format(8192);
  EXPECT_EQ(check(testpages::zip_page(s, Algo::kCrc32), f).detail, PageDetail::kCrc32);
  EXPECT_EQ(check(testpages::zip_page(s, Algo::kInnodb), f).detail, PageDetail::kInnodbLegacy);
  EXPECT_EQ(check(testpages::zip_page(s, Algo::kNone), f).detail, PageDetail::kNoChecksumMagic);
  EXPECT_EQ(check(testpages::zip_page(s, Algo::kCrc32BigEndian), f).detail, PageDetail::kCrc32LegacyBigEndian);
}

// Bytes no check covers, because the servers themselves ignore them:
//  - legacy format: 26..33 (flush LSN on page 0 of ibdata1, MariaDB key version and crypt
//    checksum elsewhere) are outside every checksum; the servers never read them on these pages.
//  - ROW_FORMAT=COMPRESSED: the LSN (16..23) and 26..33 are outside the page checksum.
//  - full_crc32 page_compressed: the punched rest of the slot after the stored length.
bool uncovered(size_t i, bool legacy, bool zip) {
  if (legacy && i >= 26 && i < 34) return true;
  if (zip && ((i >= 16 && i < 24) || (i >= 26 && i < 34))) return true;
  return false;
}

void expect_every_flip_detected(const std::vector<uint8_t>& page, const innodb::TablespaceFormat& f, bool legacy,
                                bool zip, size_t covered_end = 0) {
  ASSERT_EQ(check(page, f).status, PageStatus::kValid);
  if (!covered_end) covered_end = page.size();
  for (uint8_t mask : {uint8_t(0x01), uint8_t(0xFF)})
    for (size_t i = 0; i < covered_end; ++i) {
      if (uncovered(i, legacy, zip)) continue;
      auto p = page;
      p[i] ^= mask;
      ASSERT_NE(check(p, f).status, PageStatus::kValid) << "byte " << i << " mask " << int(mask);
    }
}

TEST(PageCheck, EverySingleByteFlipIsDetected) {
  expect_every_flip_detected(testpages::legacy_page({}, Algo::kCrc32), legacy_format(Flavour::kMysql), true, false);
  expect_every_flip_detected(testpages::legacy_page({}, Algo::kCrc32), legacy_format(Flavour::kMariadb), true, false);
  testpages::Spec small;
  small.size = 4096;
  expect_every_flip_detected(testpages::legacy_page(small, Algo::kInnodb), legacy_format(Flavour::kMysql, 4096), true,
                             false);
  expect_every_flip_detected(testpages::full_crc32_page({}), full_crc32_format(), false, false);
  expect_every_flip_detected(testpages::full_crc32_page({}, 2048), full_crc32_format(), false, false, 2048);
  testpages::Spec z;
  z.size = 4096;
  expect_every_flip_detected(testpages::zip_page(z, Algo::kCrc32), zip_format(4096), false, true);
}

}  // namespace
