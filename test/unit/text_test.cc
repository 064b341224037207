// The small text helpers of libclone/base: the one checked number parser, names made safe for
// a one-line message, and the one form of a directory the user names (path.h).
#include "libclone/base/text.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "libclone/base/path.h"

#include <nlohmann/json.hpp>

namespace {
using namespace mysqlclone;

TEST(ParseU64, TakesWholeDecimalNumbersOnly) {
  EXPECT_EQ(*parse_u64("0", "x"), 0u);
  EXPECT_EQ(*parse_u64("16384", "x"), 16384u);
  EXPECT_EQ(*parse_u64("18446744073709551615", "x"), UINT64_MAX);
  EXPECT_EQ(*parse_u64("65535", "x", 65535), 65535u);
  for (const char* bad : {"", " 1", "1 ", "+1", "-1", "1x", "0x10", "1.5", "18446744073709551616",
                          "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    auto r = parse_u64(bad, "the server's innodb_page_size");
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), ExitCode::kInternal);
    // Names what, where and the value as it was.
    EXPECT_NE(r.status().message().find("the server's innodb_page_size"), std::string::npos) << r.status().message();
    // (std::string("'") + ..., not "'" + std::string(...): GCC 12 -O3 reports a false -Wrestrict.)
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos) << r.status().message();
  }
  auto over = parse_u64("65536", "the server's @@port", 65535, ExitCode::kUnsupported);
  ASSERT_FALSE(over.is_ok());
  EXPECT_EQ(over.status().code(), ExitCode::kUnsupported);
  EXPECT_EQ(over.status().message(), "the server's @@port is not a whole number from 0 to 65535: '65536'");
  // The value shown is made printable too.
  auto odd = parse_u64("1\n\xff", "x");
  ASSERT_FALSE(odd.is_ok());
  EXPECT_NE(odd.status().message().find("'1\\x0a\\xff'"), std::string::npos) << odd.status().message();
}

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

TEST(AbsoluteDir, OneFormForEverySpellingOfADirectory) {
  // A trailing '/' (tab completion) or '.' made expire take a repository's incrementals for
  // broken chains: their base's directory, /r, never equalled the repository's, /r/.
  for (const char* spelling : {"/r", "/r/", "/r/.", "/r//", "/r/./", "/x/../r", "//r"})
    EXPECT_EQ(absolute_dir(spelling), "/r") << spelling;
  EXPECT_EQ(absolute_dir("/"), "/");
  EXPECT_EQ(absolute_dir("/."), "/");
  EXPECT_EQ(absolute_dir("."), std::filesystem::current_path().string());
  EXPECT_EQ(absolute_dir("./"), std::filesystem::current_path().string());
  EXPECT_EQ(absolute_dir("a/b/"), (std::filesystem::current_path() / "a/b").string());
}

}  // namespace
