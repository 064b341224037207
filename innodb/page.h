// The FIL header and trailer every InnoDB page carries, and the page types a backup meets.
// Layout: ../shared/docs/innodb-formats.md §1.2–1.4 (MySQL fil0types.h, MariaDB fil0fil.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innodb/byte_order.h"

namespace innodb {

using Lsn = uint64_t;
using SpaceId = uint32_t;
using PageNo = uint32_t;

constexpr PageNo kFilNull = 0xFFFFFFFFu;

// FIL header offsets.
constexpr size_t kFilPageSpaceOrChecksum = 0;
constexpr size_t kFilPageOffset = 4;  // page number
constexpr size_t kFilPagePrev = 8;
constexpr size_t kFilPageNext = 12;
constexpr size_t kFilPageLsn = 16;
constexpr size_t kFilPageType = 24;
constexpr size_t kFilPageFileFlushLsn = 26;  // MariaDB legacy: key version at 26, crypt checksum at 30
constexpr size_t kFilPageSpaceId = 34;
constexpr size_t kFilPageData = 38;
constexpr size_t kFilPageEndLsnOldChecksum = 8;  // trailer size (legacy format)

// Page types (FIL_PAGE_TYPE). Values shared by both servers unless noted.
enum PageType : uint16_t {
  kPageTypeAllocated = 0,
  kPageTypeUndoLog = 2,
  kPageTypeInode = 3,
  kPageTypeIbufFreeList = 4,
  kPageTypeIbufBitmap = 5,
  kPageTypeSys = 6,
  kPageTypeTrxSys = 7,
  kPageTypeFspHdr = 8,
  kPageTypeXdes = 9,
  kPageTypeBlob = 10,
  kPageTypeZblob = 11,
  kPageTypeZblob2 = 12,
  kPageTypeMysqlCompressed = 14,           // MySQL transparent page compression
  kPageTypeMysqlEncrypted = 15,            // MySQL
  kPageTypeMysqlCompressedEncrypted = 16,  // MySQL
  kPageTypeMysqlEncryptedRtree = 17,       // MySQL
  kPageTypeMariadbPageCompressed = 34354,  // MariaDB legacy (non-full_crc32) page_compressed
  kPageTypeMariadbPageCompressedEncrypted = 37401,
  kPageTypeIndex = 17855,
  kPageTypeRtree = 17854,
  kPageTypeSdi = 17853,  // MySQL
};

// MariaDB full_crc32: bit 15 of the page type marks a page_compressed page whose low 15 bits
// give the stored length in units of 256 bytes.
constexpr uint16_t kFullCrc32CompressedMarker = 0x8000;

constexpr uint32_t kNoChecksumMagic = 0xDEADBEEFu;

// Read-only view of the FIL header fields of one page image.
struct FilHeader {
  uint32_t checksum_or_key_version;
  PageNo page_no;
  PageNo prev;
  PageNo next;
  Lsn lsn;
  uint16_t type;
  uint64_t flush_lsn;  // bytes 26..33; see kFilPageFileFlushLsn
  SpaceId space_id;
};

inline FilHeader read_fil_header(std::span<const uint8_t> page) {
  const uint8_t* p = page.data();
  return FilHeader{read_be32(p + kFilPageSpaceOrChecksum), read_be32(p + kFilPageOffset),
                   read_be32(p + kFilPagePrev),           read_be32(p + kFilPageNext),
                   read_be64(p + kFilPageLsn),            read_be16(p + kFilPageType),
                   read_be64(p + kFilPageFileFlushLsn),   read_be32(p + kFilPageSpaceId)};
}

// True when every byte of the range is zero (never-written space).
bool is_all_zero(std::span<const uint8_t> bytes);

}  // namespace innodb
