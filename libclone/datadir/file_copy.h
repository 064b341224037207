// Copying source files into a Sink: InnoDB tablespaces page-validated (a page read while the
// server writes it is re-read a bounded number of times before the copy fails), everything else
// byte for byte. Both hash what they write (SHA-256) for the backup's metadata.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "libclone/datadir/datadir.h"
#include "libclone/datadir/page_scan.h"
#include "libclone/io/read_file.h"
#include "libclone/io/sink.h"

namespace mysqlclone {

struct CopiedFile {
  std::string rel_path;
  uint64_t bytes = 0;
  std::string sha256;
  // Tablespaces only:
  bool tablespace = false;
  std::optional<innodb::SpaceId> space_id;
  PageCounts pages;
  innodb::Lsn max_lsn = 0;
  uint64_t reread_pages = 0;  // pages that were bad at first read and good on a re-read
};

struct CopyOptions {
  unsigned page_retries = 10;
  std::chrono::milliseconds retry_delay{100};
  // Test hook: called with every chunk just read, before it is judged; lets a test hand the
  // validator a torn page to prove the re-read path.
  std::function<void(const std::string& rel_path, uint64_t offset, std::span<uint8_t> chunk)> after_read;
  // Asked before every chunk: a failure elsewhere (the redo tailer) stops the copy with it.
  std::function<Status()> keep_going;
};

// Byte counter shared with the progress display, and the --max-rate throttle.
struct CopyProgress {
  std::atomic<uint64_t> done_bytes{0};
  std::atomic<uint64_t> total_bytes{0};
  // --max-rate caps everything read from the source, data files and redo log alike.
  double max_bytes_per_second = 0;  // 0: unthrottled
  std::atomic<uint64_t> read_bytes{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Counts `bytes` of data as copied, then throttle()s.
  void account(uint64_t bytes);
  // Sleeps while the reading runs ahead of the allowed rate.
  void throttle(uint64_t bytes);
};

// Copies every file of one tablespace (one, or ibdata1.. for the system tablespace) from
// `source_root` into `sink` under the same relative paths. `fallback` is the instance format
// for files whose page 0 is not written yet. Fails with kSourceIo naming file and page when a
// page stays bad after every re-read.
Result<std::vector<CopiedFile>> copy_tablespace(const std::string& source_root, const TablespaceEntry& tablespace,
                                                const innodb::TablespaceFormat& fallback, Sink& sink,
                                                const CopyOptions& options, CopyProgress& progress);

// Copies one file byte for byte (up to its size when read). A file that vanished is reported
// as kSourceIo; callers that tolerate that check for it first.
// `limit` copies only the first bytes (a binlog up to the end position); the copy must reach it.
Result<CopiedFile> copy_plain_file(const std::string& source_root, const std::string& rel_path, Sink& sink,
                                   CopyProgress& progress, uint64_t limit = UINT64_MAX,
                                   const std::string& target_rel_path = "");

}  // namespace mysqlclone
