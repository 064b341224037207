// Small synthetic data directories on disk for engine tests.
#pragma once

#include <filesystem>
#include <vector>

#include "innodb/page.h"

namespace testpages {

void write_file(const std::filesystem::path& path, const std::vector<std::vector<uint8_t>>& pages);

// A 16K crc32 tablespace of `n` pages: page 0, data pages, and two never-written pages at the end.
std::vector<std::vector<uint8_t>> tablespace(innodb::SpaceId space, uint32_t n);

// A MySQL-looking datadir: ibdata1 (8 pages), mysql.ibd (6), db/t1.ibd (10), ibtmp1.
void make_mysql_datadir(const std::filesystem::path& dir);

// A per-test scratch directory under /tmp, removed by the destructor.
struct ScratchDir {
  ScratchDir();
  ~ScratchDir();
  std::filesystem::path path;
};

}  // namespace testpages
