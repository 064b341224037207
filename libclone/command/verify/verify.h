// `mysqlclone verify`: every page of every InnoDB tablespace under a directory, checked in
// parallel, with a report of what is wrong and where.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "innodb/page_check.h"
#include "libclone/datadir/datadir.h"
#include "libclone/datadir/page_scan.h"
#include "libclone/base/status.h"

namespace mysqlclone {

struct VerifyOptions {
  std::string dir;
  unsigned threads = 0;        // 0: one per CPU
  bool allow_running = false;  // read a live server's files anyway (pages may be in flight)
};

struct FileReport {
  std::string rel_path;
  TablespaceKind kind;
  uint64_t bytes = 0;
  uint32_t physical_page_size = 0;
  std::optional<innodb::SpaceId> space_id;
  PageCounts pages;
  innodb::Lsn max_lsn = 0;
  std::vector<BadPage> bad_pages;  // the first kMaxBadPagesListed, in page order
  std::string file_problem;        // e.g. a size that is not a whole number of pages
  bool ok() const { return pages.corrupt == 0 && file_problem.empty(); }
};

constexpr size_t kMaxBadPagesListed = 100;

struct VerifyReport {
  std::string dir;
  bool is_backup = false;          // has a complete mysqlclone.json
  uint64_t checksummed_files = 0;  // files whose SHA-256 matched the backup's metadata
  innodb::Flavour flavour;
  uint32_t page_size = 0;
  std::vector<FileReport> files;
  PageCounts pages;
  uint64_t bytes = 0;
  innodb::Lsn max_lsn = 0;
  double seconds = 0;
  unsigned threads = 0;
  bool ok() const;
  size_t bad_files() const;
};

// Shared with the caller's progress display.
struct VerifyProgress {
  std::atomic<uint64_t> total_bytes{0};
  std::atomic<uint64_t> done_bytes{0};
};

// A backup directory (one with mysqlclone.json) must be complete — an unfinished or failed one
// is kVerifyFailed at once — and every file it lists must still have its SHA-256.
// An incremental backup (no datadir of its own) is checked by its SHA-256s and every page of
// every delta (CRC-32C and the page's own checksum); `restore` makes the datadir.
// Errors: kPath (not a datadir, in use), kSourceIo (unreadable file), kVerifyFailed (an
// incomplete backup, or the system tablespace's page 0 is unusable), kInterrupted. Bad pages are not an error: they are
// in the report (report.ok() == false).
Result<VerifyReport> verify_datadir(const VerifyOptions& options, VerifyProgress& progress);

}  // namespace mysqlclone
