// The first page of a tablespace a donor created during a clone (innodb/new_tablespace.h): what
// MySQL's fil_write_initial_pages leaves in a new file, checked by our own page reader.
#include "innodb/new_tablespace.h"

#include <gtest/gtest.h>

#include "innodb/byte_order.h"
#include "innodb/page_check.h"
#include "innodb/tablespace_flags.h"

namespace {
using namespace innodb;

constexpr uint32_t kDynamic16k = 0x4021;  // file-per-table, DYNAMIC, 16K pages
constexpr uint32_t kVersion = 90704;

TEST(NewTablespace, Page0CarriesOnlyTheIdentityAndAValidChecksum) {
  auto f = mysql_new_tablespace_file(42, kDynamic16k, kVersion);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->page0.size(), 16384u);
  EXPECT_EQ(f->size_bytes, 7u * 16384);
  const auto& p = f->page0;
  EXPECT_EQ(read_be32(p.data() + 8), kVersion);  // server version where page links would be
  EXPECT_EQ(read_be32(p.data() + 12), 1u);       // space version
  const FilHeader h = read_fil_header(p);
  EXPECT_EQ(h.page_no, 0u);
  EXPECT_EQ(h.lsn, 0u);
  EXPECT_EQ(h.type, kPageTypeAllocated);
  EXPECT_EQ(h.space_id, 42u);
  const FspHeader fsp = read_fsp_header(p);
  EXPECT_EQ(fsp.space_id, 42u);
  EXPECT_EQ(fsp.flags, kDynamic16k);
  EXPECT_EQ(fsp.size_pages, 0u);
  EXPECT_EQ(fsp.free_limit, 0u);
  const auto format = decode_tablespace_flags(kDynamic16k, Flavour::kMysql);
  ASSERT_TRUE(format);
  const PageVerdict v = check_page(p, *format, 0, 42);
  EXPECT_EQ(v.status, PageStatus::kValid);
  EXPECT_EQ(v.detail, PageDetail::kCrc32);
  // Everything else is zero.
  for (size_t i = 58; i < p.size() - 8; ++i) ASSERT_EQ(p[i], 0) << "byte " << i;
}

TEST(NewTablespace, OtherPageSizesAndCompressedTablespaces) {
  for (uint32_t ssize = 3; ssize <= 7; ++ssize) {
    const uint32_t flags = 0x21 | ssize << 6;
    auto f = mysql_new_tablespace_file(7, flags, kVersion);
    ASSERT_TRUE(f) << ssize;
    EXPECT_EQ(f->page0.size(), 512u << ssize);
    EXPECT_EQ(f->size_bytes, 7u * (512u << ssize));
    auto format = decode_tablespace_flags(flags, Flavour::kMysql);
    EXPECT_EQ(check_page(f->page0, *format, 0, 7).status, PageStatus::kValid) << ssize;
  }
  const uint32_t zip8k = 0x21 | 4u << 1;  // KEY_BLOCK_SIZE=8 on 16K pages
  auto f = mysql_new_tablespace_file(9, zip8k, kVersion);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->page0.size(), 8192u);
  EXPECT_EQ(f->size_bytes, 7u * 8192);
  auto format = decode_tablespace_flags(zip8k, Flavour::kMysql);
  EXPECT_EQ(check_page(f->page0, *format, 0, 9).status, PageStatus::kValid);
  EXPECT_EQ(read_fsp_header(f->page0).flags, zip8k);
}

TEST(NewTablespace, UndoTablespacesStartAt16MiB) {
  EXPECT_TRUE(is_mysql_undo_space_id(0xFFFFFFEFu));
  EXPECT_TRUE(is_mysql_undo_space_id(0xFFFFFFF0u - 127u * 512u));
  EXPECT_FALSE(is_mysql_undo_space_id(0xFFFFFFF0u - 127u * 512u - 1));
  EXPECT_FALSE(is_mysql_undo_space_id(0xFFFFFFF0u));  // the redo log
  EXPECT_FALSE(is_mysql_undo_space_id(5));
  auto f = mysql_new_tablespace_file(0xFFFFFFEEu, 0x4021 & ~0x4000u, kVersion);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size_bytes, 16u << 20);
}

TEST(NewTablespace, FlagsNoMysqlServerWritesAreRefused) {
  EXPECT_FALSE(mysql_new_tablespace_file(1, 0xFFFFFFFFu, kVersion));
  EXPECT_FALSE(mysql_new_tablespace_file(1, 0x21 | 2u << 6, kVersion));  // ssize 2: 2K pages
  EXPECT_FALSE(mysql_new_tablespace_file(1, 0x4021 | 1u << 13, kVersion));  // encrypted: needs a key
}

}  // namespace
