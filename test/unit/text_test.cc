// The small text helpers of libclone/base: names made safe for a one-line message.
#include "libclone/base/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace {
using namespace mysqlclone;

TEST(Printable, EscapesControlBytesAndEveryByteAbove0x7e) {
  EXPECT_EQ(printable("db/t1.ibd"), "db/t1.ibd");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("a\nb\x1b[0m\x7f"), "a\\x0ab\\x1b[0m\\x7f");
  EXPECT_EQ(printable("t\xff.ibd"), "t\\xff.ibd");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\\xc3\\xa9");  // valid UTF-8 too: one rule, always ASCII
  // The result is always valid UTF-8: a strict dump does not throw.
  EXPECT_NO_THROW((void)nlohmann::json(printable("\xff\xfe\xc3")).dump());
  EXPECT_EQ(printable(std::string(300, 'n')).size(), 300u);  // no cap unless asked
  EXPECT_EQ(printable(std::string(300, 'n'), 4), "nnnn... (300 bytes)");
}

}  // namespace
