// Tablespace flags (FSP_SPACE_FLAGS on page 0) and what they say about a file's pages:
// logical and physical page size, checksum format, compression, encryption.
// ../shared/docs/innodb-formats.md §1.5; MySQL and MariaDB fsp0types.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "innodb/page.h"

namespace innodb {

// The two server families lay out flags bits 10 and above differently, and give page types
// 14..18 different meanings, so every decoder is told which family wrote the file.
enum class Flavour { kMysql, kMariadb };

struct TablespaceFormat {
  Flavour flavour = Flavour::kMysql;
  uint32_t flags = 0;
  uint32_t page_size = 16384;      // logical page size (innodb_page_size)
  uint32_t physical_size = 16384;  // bytes per page in the file (zip size when compressed)
  bool full_crc32 = false;         // MariaDB full_crc32 checksum format (bit 4 marker)
  bool row_compressed = false;     // ROW_FORMAT=COMPRESSED (KEY_BLOCK_SIZE = physical_size)
  bool page_compressed = false;    // MariaDB PAGE_COMPRESSED=1
  bool encrypted = false;          // MySQL ENCRYPTION='Y' flag (MariaDB keeps it in crypt_data)
  bool shared = false;             // MySQL general tablespace
  bool temporary = false;          // MySQL temporary tablespace
};

// Decodes flags as the given server family writes them; nullopt when the combination is not one
// that family can have written (reserved bits set, impossible sizes).
std::optional<TablespaceFormat> decode_tablespace_flags(uint32_t flags, Flavour flavour);

// The format a server of that family uses for a file with no flags known yet: the system
// tablespace's flags tell the page size of the whole instance.
TablespaceFormat default_format(uint32_t page_size, Flavour flavour);

// Page 0 (FSP header) fields needed to identify a file.
struct FspHeader {
  SpaceId space_id;     // FSP_SPACE_ID (must equal the FIL header's space id)
  PageNo size_pages;    // FSP_SIZE
  PageNo free_limit;    // FSP_FREE_LIMIT
  uint32_t flags;       // FSP_SPACE_FLAGS
};

// Needs at least kFilPageData + 24 bytes of page 0.
FspHeader read_fsp_header(std::span<const uint8_t> page0);

// Offset of the FSP header fields from the page start.
constexpr size_t kFspHeaderOffset = kFilPageData;
constexpr size_t kFspSpaceId = 0, kFspSize = 8, kFspFreeLimit = 12, kFspSpaceFlags = 16;

// Pages per extent for a logical page size (1 MiB of pages up to 16K, 64 pages above).
uint32_t extent_pages(uint32_t page_size);

// Space 0 holds the legacy doublewrite buffer at pages [extent, 3*extent): copies of other
// pages, never valid in their own right. Both servers and both backup tools skip them.
bool in_doublewrite_area(SpaceId space, PageNo page, uint32_t page_size);

}  // namespace innodb
