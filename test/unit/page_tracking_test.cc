// The list of changed pages MySQL's page tracking writes (page_tracking.h): 8-byte big-endian
// (space id, page number) entries in no order, with repeats.
#include "libclone/server/page_tracking.h"

#include <gtest/gtest.h>

namespace {
using namespace mysqlclone;

std::vector<uint8_t> entries(const std::vector<std::pair<uint32_t, uint32_t>>& pages) {
  std::vector<uint8_t> bytes;
  for (auto [space, page] : pages)
    for (uint32_t v : {space, page})
      for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(uint8_t(v >> shift));
  return bytes;
}

TEST(PageTrackingList, GroupsBySpaceSortedWithoutRepeats) {
  // As MySQL 9.7.4 wrote it: the undo and mysql spaces (ids near 2^32), then system and user pages.
  auto pages = parse_changed_pages(
      entries({{0xffffffef, 0x11b}, {0xffffffef, 0}, {0xfffffffe, 0x1ac}, {5, 9}, {0, 5}, {5, 3}, {5, 9}, {0xffffffef, 0x11b}}));
  ASSERT_TRUE(pages.is_ok()) << pages.status().message();
  EXPECT_EQ(pages->size(), 4u);
  EXPECT_EQ(pages->at(0xffffffef), (std::vector<innodb::PageNo>{0, 0x11b}));
  EXPECT_EQ(pages->at(0xfffffffe), (std::vector<innodb::PageNo>{0x1ac}));
  EXPECT_EQ(pages->at(5), (std::vector<innodb::PageNo>{3, 9}));
  EXPECT_EQ(pages->at(0), (std::vector<innodb::PageNo>{5}));
}

TEST(PageTrackingList, EmptyAndCutLists) {
  auto none = parse_changed_pages({});
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
  auto bytes = entries({{1, 2}, {3, 4}});
  bytes.pop_back();
  auto cut = parse_changed_pages(bytes);
  ASSERT_FALSE(cut.is_ok());
  EXPECT_NE(cut.status().message().find("15 bytes"), std::string::npos) << cut.status().message();
}

}  // namespace
