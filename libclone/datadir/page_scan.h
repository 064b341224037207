// Judging a run of consecutive pages of one tablespace file: shared by `verify` (a stopped
// server) and the copier (a live one, which re-reads the bad pages before giving up).
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "innodb/page_check.h"

namespace mysqlclone {

struct PageCounts {
  uint64_t valid = 0;
  uint64_t empty = 0;
  uint64_t unverifiable = 0;
  uint64_t doublewrite = 0;  // legacy doublewrite area of the system tablespace, not judged
  uint64_t corrupt = 0;
  uint64_t total() const { return valid + empty + unverifiable + doublewrite + corrupt; }
  void add(const PageCounts& o);
  void count(innodb::PageStatus s);
};

struct BadPage {
  innodb::PageNo page;
  innodb::PageDetail reason;
};

// How to judge the pages of one file.
struct TablespaceLayout {
  innodb::TablespaceFormat format;
  std::optional<innodb::SpaceId> space_id;  // from a valid page 0
  bool system = false;                      // space 0: skip the doublewrite area
};

struct ChunkScan {
  PageCounts counts;
  std::vector<BadPage> bad;   // in page order
  innodb::Lsn max_lsn = 0;    // over pages that are not corrupt
};

// `buf` holds whole pages starting with page `first_page`; a trailing partial page is ignored.
// With `skip_page0`, page 0 is left out (the caller judged it when it read the header).
ChunkScan scan_pages(std::span<const uint8_t> buf, const TablespaceLayout& layout, innodb::PageNo first_page,
                     bool skip_page0);

}  // namespace mysqlclone
