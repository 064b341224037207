#include "innodb/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

// Bit-at-a-time reference: the definition of CRC-32C, too slow for use, easy to trust.
uint32_t reference_crc32c(const uint8_t* p, size_t n) {
  uint32_t c = ~0u;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
  }
  return ~c;
}

std::vector<uint8_t> random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

TEST(Crc32c, CheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(innodb::crc32c(0, s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(innodb::crc32c_portable(0, s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(innodb::crc32c(0, nullptr, 0), 0u);
}

TEST(Crc32c, MatchesReferenceAtEveryLengthAndAlignment) {
  // Lengths cross the 8-byte word loop and the 3 x 1 KiB interleaved hardware loop.
  const auto data = random_bytes(16384 + 64, 1);
  for (size_t len : {0, 1, 7, 8, 9, 63, 1000, 3071, 3072, 3073, 6144, 9999, 16384})
    for (size_t align = 0; align < 8; ++align) {
      const uint32_t want = reference_crc32c(data.data() + align, len);
      EXPECT_EQ(innodb::crc32c(0, data.data() + align, len), want) << len << "/" << align;
      EXPECT_EQ(innodb::crc32c_portable(0, data.data() + align, len), want) << len << "/" << align;
    }
}

TEST(Crc32c, ContinuesAcrossCalls) {
  const auto data = random_bytes(5000, 2);
  const uint32_t whole = innodb::crc32c(0, data.data(), data.size());
  for (size_t cut : {0, 1, 100, 3072, 4999, 5000})
    EXPECT_EQ(innodb::crc32c(innodb::crc32c(0, data.data(), cut), data.data() + cut, data.size() - cut), whole);
}

TEST(Crc32c, LegacyBigEndianEqualsPlainOnPalindromicWords) {
  // Swapping the bytes of a word that reads the same both ways changes nothing, so on such
  // input the legacy variant must equal the plain CRC; on other input it must differ.
  std::vector<uint8_t> data(256);
  for (size_t w = 0; w < data.size() / 8; ++w)
    for (size_t i = 0; i < 4; ++i) data[w * 8 + i] = data[w * 8 + 7 - i] = uint8_t(w * 13 + i * 7 + 1);
  EXPECT_EQ(innodb::crc32c_legacy_big_endian(data.data(), data.size(), 0), innodb::crc32c(0, data.data(), data.size()));
  const auto random = random_bytes(256, 3);
  EXPECT_NE(innodb::crc32c_legacy_big_endian(random.data(), random.size(), 0),
            innodb::crc32c(0, random.data(), random.size()));
}

TEST(Crc32c, LegacyBigEndianHonoursMisalignment) {
  // With misalignment 4 the first 4 bytes go one at a time and words start at offset 4.
  std::vector<uint8_t> data(4 + 64);
  for (size_t i = 0; i < 4; ++i) data[i] = uint8_t(i + 1);
  for (size_t w = 0; w < 8; ++w)
    for (size_t i = 0; i < 4; ++i) data[4 + w * 8 + i] = data[4 + w * 8 + 7 - i] = uint8_t(w * 5 + i + 9);
  EXPECT_EQ(innodb::crc32c_legacy_big_endian(data.data(), data.size(), 4), innodb::crc32c(0, data.data(), data.size()));
  EXPECT_NE(innodb::crc32c_legacy_big_endian(data.data(), data.size(), 0), innodb::crc32c(0, data.data(), data.size()));
}

}  // namespace
