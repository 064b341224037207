#include "test_datadir.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "test_pages.h"

namespace testpages {
namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::vector<std::vector<uint8_t>>& pages) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  for (const auto& p : pages) out.write(reinterpret_cast<const char*>(p.data()), std::streamsize(p.size()));
}

std::vector<std::vector<uint8_t>> tablespace(innodb::SpaceId space, uint32_t n) {
  Spec s;
  s.space_id = space;
  std::vector<std::vector<uint8_t>> pages{page0(s, 0, n, false)};
  for (uint32_t i = 1; i < n - 2; ++i) {
    s.page_no = i;
    s.seed = space * 1000 + i;
    pages.push_back(legacy_page(s, Algo::kCrc32));
  }
  pages.emplace_back(16384, 0);
  pages.emplace_back(16384, 0);
  return pages;
}

void make_mysql_datadir(const fs::path& dir) {
  write_file(dir / "ibdata1", tablespace(0, 8));
  write_file(dir / "mysql.ibd", tablespace(0xFFFFFFFEu, 6));
  write_file(dir / "db" / "t1.ibd", tablespace(5, 10));
  write_file(dir / "ibtmp1", {std::vector<uint8_t>(16384, 0xAB)});  // temporary: never read
}

ScratchDir::ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  path = fs::temp_directory_path() /
         ("mysqlclone-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" + std::to_string(::getpid()));
  fs::remove_all(path);
  fs::create_directories(path);
}

ScratchDir::~ScratchDir() { fs::remove_all(path); }

}  // namespace testpages
