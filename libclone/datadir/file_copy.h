// Copying source files into a Storage through one filter chain:
//   tablespaces:  Source → page check → SHA-256 → throttle → Storage
//   other files:  Source →              SHA-256 → throttle → Storage
// The page check re-reads a page read while the server wrote it (a torn page) a bounded number
// of times before the copy fails. The SHA-256s go into the backup's manifest.
// A large tablespace file may be copied by several threads at once (CopyHelp): they take its
// chunks in offset order, check and write them side by side, and the SHA-256 takes every chunk in
// file order, so the manifest keeps one digest per file whoever copied which part.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "libclone/datadir/datadir.h"
#include "libclone/datadir/page_scan.h"
#include "libclone/io/read_file.h"
#include "libclone/io/storage.h"
#include "libclone/io/throttle.h"

namespace mysqlclone {

struct CopiedFile {
  std::string rel_path;  // what was written: the file, or its delta (NAME.delta)
  uint64_t bytes = 0;    // bytes written
  std::string sha256;    // of what was written
  // Tablespaces only:
  bool tablespace = false;
  std::optional<innodb::SpaceId> space_id;
  FileIdentity source;  // the source file that was read (which one the name meant then)
  innodb::Lsn max_lsn = 0;
  uint64_t reread_pages = 0;  // pages that were bad at first read and good on a re-read
  uint64_t shared_bytes = 0;  // of `bytes`: taken by sharing the source's blocks (a reflink)
  uint64_t read_bytes = 0;    // read from the source (less than the file for a delta by page list)
  // An incremental's delta (delta_file.h): the file it stands for, that file's size as read,
  // and how many pages it kept.
  std::string delta_of;
  uint64_t file_bytes = 0;
  uint64_t delta_pages = 0;
};

// An incremental backup (innodb-formats.md §6.4): a tablespace file the base also holds is
// written as a delta of the pages whose LSN is above `threshold` (the base's start checkpoint);
// any other (new, rebuilt, truncated under a new space id, page 0 not written yet) whole.
// Every page is still read and validated: the LSN is only known once the page is read.
struct IncrementalCopy {
  innodb::Lsn threshold = 0;
  // Whether the base holds this file of tablespace `space_id` (by space id; the system
  // tablespace's files by path too).
  std::function<bool(const std::string& rel_path, innodb::SpaceId space_id)> in_base;
  // MySQL page tracking: the pages of a space (by page number in the tablespace, sorted) the
  // server changed since the threshold; every other page of a file in the base is left unread.
  // Empty: every page is read (a scan).
  std::function<std::span<const innodb::PageNo>(innodb::SpaceId space_id)> changed_pages;
};

// Whether a tablespace's bytes may be taken by sharing the source file's blocks (a reflink)
// where the target is a directory on the same file system and that file system has reflinks
// (XFS reflink=1, btrfs): no bytes are written, and the copy reads each block once (to judge it).
//   kAuto:   where possible, else copy;  kAlways: fail where not possible;  kNever: always copy.
enum class Reflink { kAuto, kAlways, kNever };

class CopyHelp;

struct CopyOptions {
  unsigned page_retries = 10;
  std::chrono::milliseconds retry_delay{100};
  // Test hook: called with every chunk just read, before it is judged; lets a test hand the
  // validator a torn page to prove the re-read path.
  std::function<void(const std::string& rel_path, uint64_t offset, std::span<uint8_t> chunk)> after_read;
  // Asked before every chunk: a failure elsewhere (the redo tailer) stops the copy with it.
  std::function<Status()> keep_going;
  std::optional<IncrementalCopy> incremental;  // deltas are always written, never shared
  Reflink reflink = Reflink::kAuto;
  // The copy runs while DDL may create, drop and rename tablespaces: a tablespace whose first file
  // is gone, or whose page 0 cannot be read or does not validate yet (a file being created), is
  // left out (no file copied) for the final phase under the DDL lock to copy.
  bool ddl_may_run = false;
  // Where threads with no tablespace left to start take chunks of the large files others are
  // still copying. Files copied byte for byte (not shared, not a delta) of at least
  // kHelpedFileBytes are offered to it. Null: each file is copied by the thread that opened it.
  CopyHelp* help = nullptr;
};

// What the copy threads share: the byte counters of the progress display and the --max-rate
// throttle (the redo tailer never waits on it: redo read late is overwritten).
struct CopyProgress {
  std::atomic<uint64_t> done_bytes{0};
  std::atomic<uint64_t> total_bytes{0};
  Throttle throttle;
};

struct FileInCopy;  // file_copy.cc: one file's chunks, shared by the threads copying it

// Lets a copy thread with nothing left to start help with the large files other threads are
// still copying: without it a copy whose data is mostly one big table ends with one thread
// reading that table while the others wait. Which thread reads which chunk, and in what order,
// does not matter to crash recovery: it judges every page by its own LSN.
class CopyHelp {
 public:
  // `tablespaces`: how many copy_tablespace calls will report tablespace_done().
  explicit CopyHelp(size_t tablespaces) : running_(tablespaces) {}
  // One copy_tablespace call ended (however it ended).
  void tablespace_done(bool ok);
  // Run by a thread that has nothing else to copy: joins the file with the most chunks not yet
  // taken, again and again, until no tablespace is left running, one failed, or an interrupt.
  // A failure met while helping is the file's, reported by the thread that owns it.
  void help();

  // For the copier (file_copy.cc): a file others may now help with; and the end of that offer,
  // which waits until every helper has left the file.
  void offer(FileInCopy* file);
  void withdraw(FileInCopy* file);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<FileInCopy*> files_;
  size_t running_;
  bool failed_ = false;
};

// What one read and one write of a data file's copy take: a multiple of every physical page size
// and of the direct I/O alignment. In
// huge-page buffers a chunk is one request to the device either way: 2 MiB copied 1 GiB in
// 1.20-1.26 s, 1 MiB in 1.32-1.38, 4 MiB in 1.21-1.27 with twice the memory (MySQL 9.7, 4 paired
// rounds). (In 4 KiB-page buffers, 4 MiB was 40 % slower than 1 MiB: each read went out split.)
constexpr size_t kCopyChunkBytes = 2 << 20;

// A file smaller than this is copied by the thread that opened it alone.
constexpr uint64_t kHelpedFileBytes = 16 << 20;

// Copies every file of one tablespace (one, or ibdata1.. for the system tablespace) from
// `source_root` into `storage` under the same relative paths. `fallback` is the instance format
// for files whose page 0 is not written yet. Fails with kSourceIo naming file and page when a
// page stays bad after every re-read. Returns no file for a tablespace left out (ddl_may_run).
Result<std::vector<CopiedFile>> copy_tablespace(const std::string& source_root, const TablespaceEntry& tablespace,
                                                const innodb::TablespaceFormat& fallback, Storage& storage,
                                                const CopyOptions& options, CopyProgress& progress);

// Copies one file byte for byte (up to its size when read), under the same relative path.
// A file that vanished is reported as kSourceIo; callers that tolerate that check for it first.
// `limit` copies only the first bytes (a binlog up to the end position); the copy must reach it.
// `target_rel_path`: another name in the target (a file that must not appear before it is whole).
Result<CopiedFile> copy_plain_file(const std::string& source_root, const std::string& rel_path, Storage& storage,
                                   CopyProgress& progress, uint64_t limit = UINT64_MAX,
                                   const std::string& target_rel_path = "");
// The same from a file already open as `rel_path`.
Result<CopiedFile> copy_plain_file(const ReadFile& file, const std::string& rel_path, Storage& storage,
                                   CopyProgress& progress, uint64_t limit = UINT64_MAX,
                                   const std::string& target_rel_path = "");

}  // namespace mysqlclone
