#include "test_pages.h"

#include <random>

#include "innodb/byte_order.h"
#include "innodb/page_check.h"
#include "innodb/tablespace_flags.h"

namespace testpages {
namespace {

std::vector<uint8_t> header(const Spec& s, size_t size) {
  std::vector<uint8_t> p(size);
  std::mt19937 rng(s.seed);
  for (auto& b : p) b = uint8_t(rng());
  innodb::write_be32(&p[innodb::kFilPageOffset], s.page_no);
  innodb::write_be64(&p[innodb::kFilPageLsn], s.lsn);
  innodb::write_be16(&p[innodb::kFilPageType], s.type);
  innodb::write_be64(&p[innodb::kFilPageFileFlushLsn], 0);
  innodb::write_be32(&p[innodb::kFilPageSpaceId], s.space_id);
  return p;
}

}  // namespace

std::vector<uint8_t> legacy_page(const Spec& s, Algo algo) {
  auto p = header(s, s.size);
  innodb::write_be32(&p[s.size - 4], uint32_t(s.lsn));
  uint32_t f1 = 0, f2 = 0;
  switch (algo) {
    case Algo::kCrc32: f1 = f2 = innodb::page_crc32(p, false); break;
    case Algo::kCrc32BigEndian: f1 = f2 = innodb::page_crc32(p, true); break;
    case Algo::kNone: f1 = f2 = innodb::kNoChecksumMagic; break;
    case Algo::kInnodb:
      f1 = innodb::page_innodb_new_checksum(p);
      innodb::write_be32(&p[0], f1);  // the old formula covers the new field
      f2 = innodb::page_innodb_old_checksum(p);
      break;
  }
  innodb::write_be32(&p[0], f1);
  innodb::write_be32(&p[s.size - 8], f2);
  return p;
}

std::vector<uint8_t> full_crc32_page(const Spec& s, uint32_t stored) {
  auto p = header(s, s.size);
  innodb::write_be32(&p[0], 0);  // key version: not encrypted
  size_t len = s.size;
  if (stored) {
    innodb::write_be16(&p[innodb::kFilPageType], uint16_t(innodb::kFullCrc32CompressedMarker | stored >> 8));
    std::fill(p.begin() + stored, p.end(), 0);  // the punched rest of the slot
    len = stored;
  } else {
    innodb::write_be32(&p[s.size - 8], uint32_t(s.lsn));
  }
  innodb::write_be32(&p[len - 4], innodb::full_crc32_checksum(p, len));
  return p;
}

std::vector<uint8_t> zip_page(const Spec& s, Algo algo) {
  auto p = header(s, s.size);
  uint32_t c = 0;
  switch (algo) {
    case Algo::kCrc32: c = innodb::zip_page_crc32(p, false); break;
    case Algo::kCrc32BigEndian: c = innodb::zip_page_crc32(p, true); break;
    case Algo::kInnodb: c = innodb::zip_page_adler32(p); break;
    case Algo::kNone: c = innodb::kNoChecksumMagic; break;
  }
  innodb::write_be32(&p[0], c);
  return p;
}

std::vector<uint8_t> page0(const Spec& s, uint32_t flags, uint32_t size_pages, bool full_crc32) {
  Spec z = s;
  z.page_no = 0;
  z.type = innodb::kPageTypeFspHdr;
  auto p = header(z, s.size);
  uint8_t* fsp = &p[innodb::kFspHeaderOffset];
  innodb::write_be32(fsp + innodb::kFspSpaceId, s.space_id);
  innodb::write_be32(fsp + innodb::kFspSize, size_pages);
  innodb::write_be32(fsp + innodb::kFspFreeLimit, size_pages);
  innodb::write_be32(fsp + innodb::kFspSpaceFlags, flags);
  if (full_crc32) {
    innodb::write_be32(&p[0], 0);
    innodb::write_be32(&p[s.size - 8], uint32_t(s.lsn));
    innodb::write_be32(&p[s.size - 4], innodb::full_crc32_checksum(p, s.size));
  } else {
    innodb::write_be32(&p[s.size - 4], uint32_t(s.lsn));
    const uint32_t c = innodb::page_crc32(p, false);
    innodb::write_be32(&p[0], c);
    innodb::write_be32(&p[s.size - 8], c);
  }
  return p;
}

}  // namespace testpages
