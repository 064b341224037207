#include "libclone/datadir/page_scan.h"

#include <algorithm>

namespace mysqlclone {

void PageCounts::add(const PageCounts& o) {
  valid += o.valid;
  empty += o.empty;
  unverifiable += o.unverifiable;
  doublewrite += o.doublewrite;
  corrupt += o.corrupt;
}

void PageCounts::count(innodb::PageStatus s) {
  switch (s) {
    case innodb::PageStatus::kValid: ++valid; break;
    case innodb::PageStatus::kEmpty: ++empty; break;
    case innodb::PageStatus::kUnverifiable: ++unverifiable; break;
    case innodb::PageStatus::kCorrupt: ++corrupt; break;
  }
}

ChunkScan scan_pages(std::span<const uint8_t> buf, const TablespaceLayout& layout, innodb::PageNo first_page,
                     bool skip_page0) {
  const uint32_t psize = layout.format.physical_size;
  ChunkScan scan;
  for (size_t off = 0; off + psize <= buf.size(); off += psize) {
    const innodb::PageNo page_no = first_page + innodb::PageNo(off / psize);
    if (page_no == 0 && skip_page0) continue;
    if (layout.system && innodb::in_doublewrite_area(0, page_no, layout.format.page_size)) {
      ++scan.counts.doublewrite;
      continue;
    }
    const auto v = innodb::check_page(buf.subspan(off, psize), layout.format, page_no, layout.space_id);
    scan.counts.count(v.status);
    if (v.status == innodb::PageStatus::kCorrupt)
      scan.bad.push_back({page_no, v.detail});
    else
      scan.max_lsn = std::max(scan.max_lsn, v.lsn);
  }
  return scan;
}

}  // namespace mysqlclone
