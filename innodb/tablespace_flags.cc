#include "innodb/tablespace_flags.h"

namespace innodb {
namespace {

// Legacy layout, shared by MySQL and MariaDB for bits 0..9.
constexpr uint32_t kPostAntelope = 1u << 0;
constexpr unsigned kZipSsizeShift = 1;  // 4 bits
constexpr uint32_t kAtomicBlobs = 1u << 5;
constexpr unsigned kPageSsizeShift = 6;  // 4 bits
// MySQL bits 10..14: DATA_DIR, SHARED, TEMPORARY, ENCRYPTION, SDI.
constexpr uint32_t kMysqlShared = 1u << 11;
constexpr uint32_t kMysqlTemporary = 1u << 12;
constexpr uint32_t kMysqlEncryption = 1u << 13;
constexpr uint32_t kMysqlKnown = (1u << 15) - 1;
// MariaDB legacy: bits 10..15 reserved (zero on disk), bit 16 PAGE_COMPRESSION.
constexpr uint32_t kMariadbPageCompression = 1u << 16;
constexpr uint32_t kMariadbLegacyKnown = ((1u << 10) - 1) | kMariadbPageCompression;
// MariaDB full_crc32: bits 0..3 page ssize, bit 4 marker, bits 5..7 compression algorithm.
constexpr uint32_t kFcrc32Marker = 1u << 4;
constexpr unsigned kFcrc32AlgoShift = 5;
constexpr uint32_t kFcrc32Known = 0xFF;
constexpr unsigned kFcrc32MaxAlgo = 6;  // zlib lz4 lzo lzma bzip2 snappy

std::optional<uint32_t> page_size_from_ssize(uint32_t ssize, bool zero_means_16k) {
  if (ssize == 0 && zero_means_16k) return 16384;
  if (ssize < 3 || ssize > 7) return std::nullopt;  // 4K .. 64K
  return 512u << ssize;
}

}  // namespace

std::optional<TablespaceFormat> decode_tablespace_flags(uint32_t flags, Flavour flavour) {
  TablespaceFormat f;
  f.flavour = flavour;
  f.flags = flags;

  if (flavour == Flavour::kMariadb && (flags & kFcrc32Marker)) {
    if (flags & ~kFcrc32Known) return std::nullopt;
    auto size = page_size_from_ssize(flags & 0xF, false);
    unsigned algo = (flags >> kFcrc32AlgoShift) & 7;
    if (!size || algo > kFcrc32MaxAlgo) return std::nullopt;
    f.full_crc32 = true;
    f.page_size = f.physical_size = *size;
    f.page_compressed = algo != 0;
    return f;
  }

  const uint32_t known = flavour == Flavour::kMysql ? kMysqlKnown : kMariadbLegacyKnown;
  if (flags & ~known) return std::nullopt;
  auto size = page_size_from_ssize((flags >> kPageSsizeShift) & 0xF, true);
  if (!size) return std::nullopt;
  f.page_size = f.physical_size = *size;

  const uint32_t zip_ssize = (flags >> kZipSsizeShift) & 0xF;
  if (zip_ssize) {
    // ROW_FORMAT=COMPRESSED: 1K..16K, needs DYNAMIC-style blobs, not above 16K pages.
    if (zip_ssize > 5 || *size > 16384 || !(flags & kAtomicBlobs) || !(flags & kPostAntelope))
      return std::nullopt;
    f.row_compressed = true;
    f.physical_size = 512u << zip_ssize;
  }
  if ((flags & kAtomicBlobs) && !(flags & kPostAntelope)) return std::nullopt;

  if (flavour == Flavour::kMysql) {
    f.shared = flags & kMysqlShared;
    f.temporary = flags & kMysqlTemporary;
    f.encrypted = flags & kMysqlEncryption;
  } else {
    f.page_compressed = flags & kMariadbPageCompression;
    if (f.page_compressed && f.row_compressed) return std::nullopt;
  }
  return f;
}

TablespaceFormat default_format(uint32_t page_size, Flavour flavour) {
  TablespaceFormat f;
  f.flavour = flavour;
  f.page_size = f.physical_size = page_size;
  return f;
}

FspHeader read_fsp_header(std::span<const uint8_t> page0) {
  const uint8_t* h = page0.data() + kFspHeaderOffset;
  return FspHeader{read_be32(h + kFspSpaceId), read_be32(h + kFspSize), read_be32(h + kFspFreeLimit),
                   read_be32(h + kFspSpaceFlags)};
}

uint32_t extent_pages(uint32_t page_size) { return page_size <= 16384 ? (1u << 20) / page_size : 64; }

bool in_doublewrite_area(SpaceId space, PageNo page, uint32_t page_size) {
  const uint32_t e = extent_pages(page_size);
  return space == 0 && page >= e && page < 3 * e;
}

}  // namespace innodb
