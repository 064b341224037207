#include "innodb/tablespace_flags.h"

#include <gtest/gtest.h>

namespace {
using innodb::Flavour;

TEST(TablespaceFlags, MysqlDefault16kIsZeroSsize) {
  // MySQL writes PAGE_SSIZE 0 for 16K; a DYNAMIC file-per-table has POST_ANTELOPE|ATOMIC_BLOBS|SDI.
  auto f = innodb::decode_tablespace_flags(0x4021, Flavour::kMysql);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->page_size, 16384u);
  EXPECT_EQ(f->physical_size, 16384u);
  EXPECT_FALSE(f->row_compressed);
  EXPECT_FALSE(f->full_crc32);
}

TEST(TablespaceFlags, PageSizes) {
  for (uint32_t ssize = 3; ssize <= 7; ++ssize) {
    auto f = innodb::decode_tablespace_flags(ssize << 6, Flavour::kMysql);
    ASSERT_TRUE(f) << ssize;
    EXPECT_EQ(f->page_size, 512u << ssize);
  }
  EXPECT_FALSE(innodb::decode_tablespace_flags(2u << 6, Flavour::kMysql));
  EXPECT_FALSE(innodb::decode_tablespace_flags(8u << 6, Flavour::kMysql));
}

TEST(TablespaceFlags, RowCompressedKeyBlockSizes) {
  for (uint32_t zip = 1; zip <= 5; ++zip) {
    auto f = innodb::decode_tablespace_flags(0x21 | zip << 1, Flavour::kMysql);
    ASSERT_TRUE(f) << zip;
    EXPECT_TRUE(f->row_compressed);
    EXPECT_EQ(f->physical_size, 512u << zip);
    EXPECT_EQ(f->page_size, 16384u);
  }
  // Compressed needs ATOMIC_BLOBS, and is impossible with 32K/64K pages.
  EXPECT_FALSE(innodb::decode_tablespace_flags(0x01 | 4u << 1, Flavour::kMysql));
  EXPECT_FALSE(innodb::decode_tablespace_flags(0x21 | 4u << 1 | 7u << 6, Flavour::kMysql));
}

TEST(TablespaceFlags, MysqlHighBits) {
  auto f = innodb::decode_tablespace_flags(0x21 | 1u << 11 | 1u << 13, Flavour::kMysql);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->shared);
  EXPECT_TRUE(f->encrypted);
  EXPECT_FALSE(innodb::decode_tablespace_flags(1u << 15, Flavour::kMysql));
  // Bits 10..15 are reserved in MariaDB's legacy layout.
  EXPECT_FALSE(innodb::decode_tablespace_flags(1u << 11, Flavour::kMariadb));
}

TEST(TablespaceFlags, MariadbFullCrc32) {
  // Seen on 10.11: ibdata1 flags 0x15 = marker | ssize 5 (16K).
  auto f = innodb::decode_tablespace_flags(0x15, Flavour::kMariadb);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->full_crc32);
  EXPECT_EQ(f->page_size, 16384u);
  EXPECT_FALSE(f->page_compressed);
  auto c = innodb::decode_tablespace_flags(0x15 | 2u << 5, Flavour::kMariadb);  // lz4
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->page_compressed);
  EXPECT_FALSE(innodb::decode_tablespace_flags(0x15 | 7u << 5, Flavour::kMariadb));
  EXPECT_FALSE(innodb::decode_tablespace_flags(0x115, Flavour::kMariadb));
  EXPECT_FALSE(innodb::decode_tablespace_flags(0x10, Flavour::kMariadb));  // ssize 0 is not 16K here
}

TEST(TablespaceFlags, MariadbLegacyPageCompression) {
  auto f = innodb::decode_tablespace_flags(0x21 | 1u << 16, Flavour::kMariadb);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->page_compressed);
  EXPECT_FALSE(f->full_crc32);
}

TEST(TablespaceFlags, DoublewriteArea) {
  EXPECT_FALSE(innodb::in_doublewrite_area(0, 63, 16384));
  EXPECT_TRUE(innodb::in_doublewrite_area(0, 64, 16384));
  EXPECT_TRUE(innodb::in_doublewrite_area(0, 191, 16384));
  EXPECT_FALSE(innodb::in_doublewrite_area(0, 192, 16384));
  EXPECT_FALSE(innodb::in_doublewrite_area(5, 100, 16384));
  EXPECT_TRUE(innodb::in_doublewrite_area(0, 256, 4096));   // 256 pages per extent
  EXPECT_TRUE(innodb::in_doublewrite_area(0, 64, 65536));   // 64 pages per extent
  EXPECT_FALSE(innodb::in_doublewrite_area(0, 192, 65536));
}

}  // namespace
