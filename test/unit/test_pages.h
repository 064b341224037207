// Synthetic page images for unit tests: random bodies with correct headers and checksums, built
// with the library's checksum functions. They test the decision logic; the checksum functions
// themselves are checked against real server pages in page_fixture_test.cc.
#pragma once

#include <cstdint>
#include <vector>

#include "innodb/page.h"

namespace testpages {

enum class Algo { kCrc32, kCrc32BigEndian, kInnodb, kNone };

struct Spec {
  uint32_t size = 16384;
  innodb::PageNo page_no = 3;
  innodb::SpaceId space_id = 7;
  innodb::Lsn lsn = 0x123456789AULL;
  uint16_t type = innodb::kPageTypeIndex;
  unsigned seed = 1;
};

std::vector<uint8_t> legacy_page(const Spec& s, Algo algo);
// `stored` < s.size makes a page_compressed page of that length (a multiple of 256).
std::vector<uint8_t> full_crc32_page(const Spec& s, uint32_t stored = 0);
// ROW_FORMAT=COMPRESSED page of s.size bytes (the zip size).
std::vector<uint8_t> zip_page(const Spec& s, Algo algo);

// Page 0 of a tablespace: FSP header with `flags` and `size_pages`, crc32 (legacy) or
// full_crc32 checksum depending on the flags.
std::vector<uint8_t> page0(const Spec& s, uint32_t flags, uint32_t size_pages, bool full_crc32);

}  // namespace testpages
