// A plain verdict on one page image: valid, never written, not verifiable without keys or
// decompression, or corrupt (and why). Follows the servers' own acceptance rules
// (MySQL BlockReporter::is_corrupted, MariaDB buf_page_is_corrupted) and adds the identity
// checks a copy needs: the page number must match the page's position and the space id the
// tablespace's. Telling a torn read from real corruption is the caller's job (re-read).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "innodb/page.h"
#include "innodb/tablespace_flags.h"

namespace innodb {

enum class PageStatus : uint8_t {
  kValid,         // a checksum algorithm the servers accept matches
  kEmpty,         // all zero: allocated, never written
  kUnverifiable,  // readable header, but the body needs a key or decompression to check
  kCorrupt,
};

// Which rule made the page valid, or why it is corrupt / unverifiable.
enum class PageDetail : uint8_t {
  kNone,
  // valid
  kCrc32,
  kCrc32LegacyBigEndian,
  kInnodbLegacy,
  kNoChecksumMagic,
  kFullCrc32,
  // unverifiable
  kEncrypted,
  kTransparentCompression,   // MySQL COMPRESSION='zlib'|'lz4'
  kLegacyPageCompression,    // MariaDB PAGE_COMPRESSED in the non-full_crc32 format
  // corrupt
  kLsnMismatch,              // low 32 bits of the LSN differ between header and trailer
  kChecksumMismatch,
  kPageNumberMismatch,
  kSpaceIdMismatch,
  kBadCompressedLength,      // full_crc32 page_compressed length out of range
};

struct PageVerdict {
  PageStatus status;
  PageDetail detail;
  Lsn lsn;  // FIL_PAGE_LSN (0 for empty pages)
};

// `page` holds exactly format.physical_size bytes.
// `expected_space_id`: the tablespace's id when known (page 0 read), to catch misplaced pages.
PageVerdict check_page(std::span<const uint8_t> page, const TablespaceFormat& format, PageNo expected_page_no,
                       std::optional<SpaceId> expected_space_id);

// Short lower-case name ("crc32", "checksum mismatch", ...), for reports and JSON.
const char* page_detail_name(PageDetail d);

// The checksum fields as the servers compute them, exposed for tests and fixture builders.
uint32_t page_crc32(std::span<const uint8_t> page, bool legacy_big_endian);  // uncompressed, legacy
uint32_t page_innodb_new_checksum(std::span<const uint8_t> page);            // stored at 0
uint32_t page_innodb_old_checksum(std::span<const uint8_t> page);            // stored at N-8
uint32_t zip_page_crc32(std::span<const uint8_t> page, bool legacy_big_endian);
uint32_t zip_page_adler32(std::span<const uint8_t> page);
uint32_t full_crc32_checksum(std::span<const uint8_t> page, size_t stored_size);

}  // namespace innodb
