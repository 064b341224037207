#include "libclone/datadir/file_copy.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>

#include "libclone/base/interrupt.h"
#include "libclone/base/parallel.h"
#include "libclone/base/text.h"
#include "libclone/datadir/delta_file.h"
#include "libclone/datadir/tablespace_header.h"
#include "libclone/io/filter.h"

namespace mysqlclone {
namespace {

// The range of blocks shared by one reflink call (see the copy's pipeline).
constexpr uint64_t kShareBytes = 64 << 20;

// One chunk taken from the source: read, or shared with the target and read back from it.
struct Fetched {
  Result<size_t> bytes;
  size_t wanted = 0;  // fewer bytes than this: the end of the file
  bool shared = false;
};

// The page check of the chain: judges every page of a chunk and re-reads the bad ones from the
// source until each validates or the retries run out (a page read while the server wrote it).
// Repaired pages are written into the chunk, so the stages after it see the good bytes.
class PageCheckFilter : public Filter {
 public:
  PageCheckFilter(const ReadFile& source, const std::string& rel_path, const TablespaceLayout& layout,
                  innodb::PageNo first_page, const CopyOptions& options)
      : source_(source), rel_path_(rel_path), layout_(layout), first_page_(first_page), options_(options) {}

  Status process(uint64_t offset, std::span<uint8_t> chunk) override {
    repaired.clear();
    const uint32_t psize = layout_.format.physical_size;
    const innodb::PageNo chunk_first = first_page_ + innodb::PageNo(offset / psize);
    ChunkScan scan = scan_pages(chunk, layout_, chunk_first, false);
    for (const BadPage& bad : scan.bad) {
      const uint64_t in_chunk = uint64_t(bad.page - chunk_first) * psize;
      std::span<uint8_t> page = chunk.subspan(in_chunk, psize);
      innodb::PageVerdict v{innodb::PageStatus::kCorrupt, bad.reason, 0};
      for (unsigned attempt = 0; attempt < options_.page_retries && v.status == innodb::PageStatus::kCorrupt;
           ++attempt) {
        if (interrupted()) return interrupted_status();
        std::this_thread::sleep_for(options_.retry_delay);
        auto n = source_.read_at(offset + in_chunk, page);
        if (!n.is_ok()) return n.status();
        if (*n < psize) break;  // truncated under us: judged below as it stands
        v = innodb::check_page(page, layout_.format, bad.page, layout_.space_id);
      }
      if (v.status == innodb::PageStatus::kCorrupt)
        return Status::error(ExitCode::kSourceIo,
                             printable(rel_path_) + ": page " + std::to_string(bad.page) + " is corrupt (" +
                                 innodb::page_detail_name(v.detail) + ") and stayed so over " +
                                 std::to_string(options_.page_retries) + " re-reads");
      scan.max_lsn = std::max(scan.max_lsn, v.lsn);
      ++reread_pages;
      repaired.push_back(offset + in_chunk);
    }
    max_lsn = std::max(max_lsn, scan.max_lsn);
    return Status::ok();
  }

  innodb::Lsn max_lsn = 0;
  uint64_t reread_pages = 0;
  std::vector<uint64_t> repaired;  // file offsets of the pages of the last chunk re-read good

 private:
  const ReadFile& source_;
  const std::string& rel_path_;
  const TablespaceLayout& layout_;
  const innodb::PageNo first_page_;
  const CopyOptions& options_;
};

// The pages of a validated chunk an incremental keeps: those changed after the threshold
// (innodb-formats.md §6.4). Pages never written (LSN 0) are left out: the restore gives a page
// the base did not have zeros, and one it had is a page freed since, which nothing reads. The
// doublewrite area of the system tablespace holds copies of other pages with their LSNs, not
// its own: it is always kept whole, so a restore has the newest backup's area as a full copy would.
Status keep_changed_pages(DeltaWriter& delta, std::span<const uint8_t> chunk, innodb::PageNo first_index,
                          const TablespaceLayout& layout, innodb::PageNo first_page, innodb::Lsn threshold) {
  const uint32_t psize = layout.format.physical_size;
  for (size_t off = 0; off + psize <= chunk.size(); off += psize) {
    const innodb::PageNo index = first_index + innodb::PageNo(off / psize);
    std::span<const uint8_t> page = chunk.subspan(off, psize);
    const bool doublewrite = layout.system && innodb::in_doublewrite_area(0, first_page + index, layout.format.page_size);
    if (doublewrite || innodb::read_fil_header(page).lsn > threshold)
      if (Status s = delta.add_page(index, page); !s.is_ok()) return s;
  }
  return Status::ok();
}

// What an incremental read of a file by its list of changed pages did.
struct ListedRead {
  uint64_t file_bytes = 0;  // the file's size (whole pages) when the read began
  uint64_t read_bytes = 0;  // what was read of it
};

// An incremental with page tracking: reads only this file's pages in the tracking list (and, in
// the system tablespace, the doublewrite area, which a delta always keeps whole), in runs of
// consecutive pages of at most one chunk, each through the same chain as a scan, and keeps those
// above the threshold. Pages the list names past the file's end were added after the copy began
// (the redo carries them).
Result<ListedRead> read_listed_pages(const ReadFile& file, const std::string& rel_path, const TablespaceLayout& layout,
                                     innodb::PageNo first_page, const std::vector<Filter*>& chain, DeltaWriter& delta,
                                     const CopyOptions& options, CopyProgress& progress) {
  const uint32_t psize = layout.format.physical_size;
  auto size = file.size();
  if (!size.is_ok()) return size.status();
  ListedRead read;
  const uint64_t file_pages = *size / psize;
  read.file_bytes = file_pages * psize;
  std::vector<innodb::PageNo> indexes;
  for (innodb::PageNo page : options.incremental->changed_pages(*layout.space_id))
    if (page >= first_page && page - first_page < file_pages) indexes.push_back(page - first_page);
  if (layout.system)
    for (uint64_t i = 0; i < file_pages; ++i)
      if (innodb::in_doublewrite_area(0, first_page + innodb::PageNo(i), layout.format.page_size))
        indexes.push_back(innodb::PageNo(i));
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());

  AlignedBuffer buffer(kCopyChunkBytes);
  const size_t run_max = kCopyChunkBytes / psize;
  for (size_t i = 0; i < indexes.size();) {
    size_t run = 1;
    while (i + run < indexes.size() && run < run_max && indexes[i + run] == indexes[i] + run) ++run;
    if (interrupted()) return interrupted_status();
    if (options.keep_going)
      if (Status s = options.keep_going(); !s.is_ok()) return s;
    const uint64_t offset = uint64_t(indexes[i]) * psize;
    auto n = file.read_at(offset, buffer.span().first(run * psize));
    if (!n.is_ok()) return n.status();
    std::span<uint8_t> chunk(buffer.data(), *n - *n % psize);
    if (options.after_read) options.after_read(rel_path, offset, chunk);
    if (Status s = run_filters(chain, offset, chunk); !s.is_ok()) return s;
    if (Status s = keep_changed_pages(delta, chunk, indexes[i], layout, first_page, options.incremental->threshold);
        !s.is_ok())
      return s;
    read.read_bytes += chunk.size();
    i += run;
  }
  // The progress counts the file as gone through, read or not.
  progress.done_bytes.fetch_add(read.file_bytes, std::memory_order_relaxed);
  return read;
}

}  // namespace

// One tablespace file in copy. Chunks are taken in offset order by the thread that opened the
// file and, for a large file copied byte for byte, by helpers (CopyHelp); each thread reads,
// checks and writes its chunks on its own, and hands each one in turn to the in-order stage (the
// SHA-256) before writing it. A chunk read short is the file's end as copied: bytes the file got
// later, and chunks taken past that end, are left to the redo, as a copy by one thread would.
struct FileInCopy {
  const ReadFile& source;
  const std::string& rel_path;
  const TablespaceLayout& layout;
  const innodb::PageNo first_page;
  StorageFile& target;
  DeltaWriter* const delta;  // an incremental's delta: pages kept in order, on the owner's thread
  const CopyOptions& options;
  CopyProgress& progress;
  const bool helped;          // offered to helpers: chunks of kCopyChunkBytes, any thread
  const uint64_t size_at_start;
  // Where blocks may be shared (a reflink) rather than read and written; the owner's thread
  // alone (a shared or delta file is never helped), so these need no lock.
  const uint64_t share_end;
  bool sharing;
  uint64_t shared_until;

  std::mutex mutex{};
  std::condition_variable changed{};
  uint64_t unclaimed = 0;               // helped: the first chunk no thread has taken
  std::optional<uint64_t> short_at{};   // the lowest chunk read short: nothing after it is kept
  uint64_t in_order = 0;                // the next byte the in-order stage takes
  std::optional<uint64_t> end{};        // set by the in-order stage when it takes the last chunk
  Status failure{};                     // the first failure of any thread
  unsigned helpers = 0;
  HashFilter hash{};
  innodb::Lsn max_lsn = 0;
  uint64_t reread_pages = 0;
  uint64_t shared_bytes = 0;

  void fail(const Status& s) {
    std::lock_guard lock(mutex);
    if (failure.is_ok()) failure = s;
    changed.notify_all();
  }
};

namespace {

// The next chunk for a thread: on a helped file the first no thread has taken; otherwise the one
// right after this thread's last (`follows`: shared ranges make chunks of other sizes). None once
// the file failed or a chunk before was read short.
std::optional<uint64_t> claim_chunk(FileInCopy& f, uint64_t follows) {
  std::lock_guard lock(f.mutex);
  if (!f.failure.is_ok()) return std::nullopt;
  const uint64_t at = f.helped ? f.unclaimed : follows;
  if (f.short_at && at > *f.short_at) return std::nullopt;
  if (f.helped) f.unclaimed += kCopyChunkBytes;
  return at;
}

Status cannot_share(const std::string& rel_path) {
  return Status::error(ExitCode::kPath, printable(rel_path) +
                                            ": --reflink=always, but the target cannot share the source's blocks (it "
                                            "must be a directory on the same file system, one with reflinks: XFS "
                                            "reflink=1, btrfs)");
}

enum class InOrder { kTaken, kPastEnd, kFailed };

// Waits until every byte before `offset` has passed the in-order stage, then passes `chunk`
// (whole pages; `last`: read short, the file ends with it).
InOrder take_in_order(FileInCopy& f, uint64_t offset, std::span<uint8_t> chunk, bool last) {
  {
    std::unique_lock lock(f.mutex);
    f.changed.wait(lock, [&] { return !f.failure.is_ok() || f.in_order == offset || (f.end && offset >= *f.end); });
    if (!f.failure.is_ok()) return InOrder::kFailed;
    if (f.end && offset >= *f.end) return InOrder::kPastEnd;
  }
  // Hashed outside the lock (a MiB of SHA-256 is ~0.6 ms; the others' claims need the lock):
  // no other thread passes this stage until in_order moves, and only this one can move it.
  // A delta hashes what it writes, not what it reads.
  if (!f.delta) (void)f.hash.process(offset, chunk);
  std::lock_guard lock(f.mutex);
  f.in_order = offset + chunk.size();
  if (last) f.end = f.in_order;
  f.changed.notify_all();
  return InOrder::kTaken;
}

// Reads chunk `offset` into `into`, or shares it with the target and reads it back from there.
Fetched fetch_chunk(FileInCopy& f, uint64_t offset, std::span<uint8_t> into) {
  if (f.sharing && offset < f.share_end) {
    if (offset >= f.shared_until) {
      const uint64_t length = std::min<uint64_t>(kShareBytes, f.share_end - offset);
      auto shared = f.target.append_shared(f.source, offset, length);
      if (!shared.is_ok()) return Fetched{shared.status(), 0, true};
      if (*shared) {
        f.shared_until = offset + length;
      } else if (f.options.reflink == Reflink::kAlways) {
        return Fetched{cannot_share(f.rel_path), 0, false};
      } else {
        f.sharing = false;
      }
    }
    if (f.sharing) {
      std::span<uint8_t> want = into.first(size_t(std::min<uint64_t>(kCopyChunkBytes, f.shared_until - offset)));
      auto n = f.target.read_shared(offset, want);
      if (n.is_ok() && *n != want.size())
        return Fetched{Status::error(ExitCode::kPath, printable(f.rel_path) + ": " + std::to_string(*n) +
                                                          " bytes read back of the " + std::to_string(want.size()) +
                                                          " shared at offset " + std::to_string(offset)),
                       0, true};
      return Fetched{std::move(n), want.size(), true};
    }
  }
  return Fetched{f.source.read_at(offset, into), kCopyChunkBytes, false};
}

// One thread's part of a file's copy: the chunks it takes, until none is left. Three buffers in
// a pipeline: while chunk i passes the filters here, the thread's next chunk is being read (or
// shared and read back) and chunk i-1 written (a write can wait for the device: the drop-behind),
// so the disk always has a read and a write of this thread to work on. Blocks are shared a range
// of kShareBytes at a time, ahead of the chunks read back from it: one clone call per chunk
// would cost a file system transaction per MiB, one for the whole file would hold the source
// file's lock (and the server's writes to it) for as long as a large file takes.
// A failure is recorded in `f` (every thread of the file stops at its next chunk).
void copy_chunks(FileInCopy& f) {
  PageCheckFilter page_check(f.source, f.rel_path, f.layout, f.first_page, f.options);
  ThrottleFilter throttle(f.progress.throttle);
  const uint32_t psize = f.layout.format.physical_size;
  uint64_t shared_bytes = 0;
  // One allocation of whole huge pages for the three (see AlignedBuffer), kept by the thread for
  // every file it copies: mapping and zeroing fresh huge pages per file would cost a server of
  // many small tables ~0.1 ms a file. Reused only after the lanes below, which hold it, are done.
  thread_local AlignedBuffer memory((3 * kCopyChunkBytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);
  const std::span<uint8_t> buffers[3] = {memory.span().subspan(0, kCopyChunkBytes),
                                         memory.span().subspan(kCopyChunkBytes, kCopyChunkBytes),
                                         memory.span().subspan(2 * kCopyChunkBytes, kCopyChunkBytes)};
  // On any return a lane's destructor waits for the I/O still queued or in flight there: the
  // buffers are free again for this thread's next file.
  Lane reads;
  Lane writes;
  std::future<Fetched> reading;
  std::future<Status> writing;
  const Status status = [&]() -> Status {
    std::optional<uint64_t> offset = claim_chunk(f, 0);
    if (!offset) return Status::ok();
    // One fetch runs at a time per thread (the next starts once the last was taken).
    reading = reads.run([&f, at = *offset, into = buffers[0]] { return fetch_chunk(f, at, into); });
    for (unsigned turn = 0;; turn = (turn + 1) % 3) {
      Fetched fetched = reading.get();
      if (!fetched.bytes.is_ok()) return fetched.bytes.status();
      const size_t n = *fetched.bytes;
      // Less than asked for: the end of the file. (Asked-for sizes are whole pages.)
      const bool more = n == fetched.wanted;
      std::optional<uint64_t> next;
      if (more) {
        next = claim_chunk(f, *offset + n);
      } else {
        std::lock_guard lock(f.mutex);
        if (!f.short_at || *offset < *f.short_at) f.short_at = *offset;
      }
      // Chunk i-2's buffer is free: its write ended before chunk i-1's began.
      if (next)
        reading = reads.run([&f, at = *next, into = buffers[(turn + 1) % 3]] { return fetch_chunk(f, at, into); });
      if (interrupted()) return interrupted_status();
      if (f.options.keep_going)
        if (Status s = f.options.keep_going(); !s.is_ok()) return s;
      // Whole pages only: a file being extended may end in a partial page, which recovery
      // re-creates from the redo (FILE_EXTEND / page init records).
      const size_t whole = n - n % psize;
      std::span<uint8_t> chunk = buffers[turn].first(whole);
      if (f.options.after_read) f.options.after_read(f.rel_path, *offset, chunk);
      if (Status s = page_check.process(*offset, chunk); !s.is_ok()) return s;
      const InOrder taken = take_in_order(f, *offset, chunk, !more);
      // Past the end another thread found, or stopped by another thread's failure: so is every
      // later chunk of this thread.
      if (taken != InOrder::kTaken) return Status::ok();
      if (Status s = throttle.process(*offset, chunk); !s.is_ok()) return s;
      if (fetched.shared) {
        // The target shares the blocks as read: only the pages re-read from the source differ.
        for (uint64_t at : page_check.repaired)
          if (Status s = f.target.write_at(at, chunk.subspan(size_t(at - *offset), psize)); !s.is_ok()) return s;
        shared_bytes += whole;
      } else {
        if (writing.valid())
          if (Status s = writing.get(); !s.is_ok()) return s;
        if (f.delta) {
          const innodb::PageNo first_index = innodb::PageNo(*offset / psize);
          writing = writes.run([&f, chunk, first_index] {
            return keep_changed_pages(*f.delta, chunk, first_index, f.layout, f.first_page,
                                      f.options.incremental->threshold);
          });
        } else {
          writing = writes.run([&f, chunk, at = *offset] { return f.target.write_at(at, chunk); });
        }
      }
      f.progress.done_bytes.fetch_add(whole, std::memory_order_relaxed);
      if (!next) return Status::ok();
      offset = next;
    }
  }();
  if (!status.is_ok()) f.fail(status);
  if (writing.valid())
    if (Status s = writing.get(); !s.is_ok()) f.fail(s);
  std::lock_guard lock(f.mutex);
  f.max_lsn = std::max(f.max_lsn, page_check.max_lsn);
  f.reread_pages += page_check.reread_pages;
  f.shared_bytes += shared_bytes;
}

Result<CopiedFile> copy_one_tablespace_file(const ReadFile& file, const std::string& rel_path, TablespaceLayout layout,
                                            innodb::PageNo first_page, bool as_delta,
                                            Storage& storage, const CopyOptions& options, CopyProgress& progress) {
  auto stamp = file.stamp();
  if (!stamp.is_ok()) return stamp.status();
  file.advise_sequential();
  auto size = file.size();
  if (!size.is_ok()) return size.status();
  auto out = storage.create(as_delta ? rel_path + kDeltaSuffix : rel_path);
  if (!out.is_ok()) return out.status();

  CopiedFile result;
  result.rel_path = rel_path;
  result.tablespace = true;
  result.space_id = layout.space_id;
  result.source = stamp->identity;
  std::optional<DeltaWriter> delta;
  if (as_delta) {
    delta.emplace(**out, DeltaHeader{layout.format.physical_size, *layout.space_id, layout.format.flags,
                                     layout.format.flavour, first_page, options.incremental->threshold});
    if (Status s = delta->begin(); !s.is_ok()) return s;
  }
  const uint32_t psize = layout.format.physical_size;
  if (delta && options.incremental->changed_pages) {
    PageCheckFilter page_check(file, rel_path, layout, first_page, options);
    ThrottleFilter throttle(progress.throttle);
    auto read = read_listed_pages(file, rel_path, layout, first_page, {&page_check, &throttle}, *delta, options,
                                  progress);
    if (!read.is_ok()) return read.status();
    result.bytes = read->file_bytes;
    result.read_bytes = read->read_bytes;
    result.max_lsn = page_check.max_lsn;
    result.reread_pages = page_check.reread_pages;
  } else {
    // The blocks that may be shared rather than copied: whole pages (of at least 4 KiB, the
    // granularity of a reflink) up to the size the file had when the copy began. Bytes the file
    // gained since are copied.
    const uint64_t share_unit = std::max<uint64_t>(psize, kDirectIoAlignment);
    const uint64_t share_end = !as_delta && options.reflink != Reflink::kNever ? *size - *size % share_unit : 0;
    // The first range is shared here, which tells whether this target can share at all: only a
    // file whose bytes are copied is offered to helpers.
    uint64_t shared_until = 0;
    if (share_end > 0) {
      const uint64_t length = std::min<uint64_t>(kShareBytes, share_end);
      auto shared = (*out)->append_shared(file, 0, length);
      if (!shared.is_ok()) return shared.status();
      if (*shared) shared_until = length;
      else if (options.reflink == Reflink::kAlways) return cannot_share(rel_path);
    }
    const bool helped = options.help && !as_delta && shared_until == 0 && storage.random_access() &&
                        *size >= kHelpedFileBytes;
    FileInCopy f{file,    rel_path, layout,    first_page,       **out, delta ? &*delta : nullptr,
                 options, progress, helped,    *size,            share_end,    shared_until > 0, shared_until};
    if (helped) options.help->offer(&f);
    copy_chunks(f);
    if (helped) options.help->withdraw(&f);
    if (!f.failure.is_ok()) return f.failure;
    if (!f.end) return Status::error(ExitCode::kInternal, printable(rel_path) + ": the copy ended before the file did");
    result.bytes = *f.end;
    result.read_bytes = result.bytes;
    result.shared_bytes = f.shared_bytes;
    result.max_lsn = f.max_lsn;
    result.reread_pages = f.reread_pages;
    if (!delta) result.sha256 = f.hash.hex_digest();
  }
  if (delta) {
    if (Status s = delta->finish(result.bytes); !s.is_ok()) return s;
    result.delta_of = rel_path;
    result.rel_path = rel_path + kDeltaSuffix;
    result.file_bytes = result.bytes;
    result.delta_pages = delta->pages();
    result.bytes = delta->bytes();
    result.sha256 = delta->hex_digest();
  }
  if (Status s = (*out)->close(); !s.is_ok()) return s;
  return result;
}

}  // namespace

void CopyHelp::tablespace_done(bool ok) {
  std::lock_guard lock(mutex_);
  --running_;
  if (!ok) failed_ = true;
  changed_.notify_all();
}

void CopyHelp::offer(FileInCopy* file) {
  std::lock_guard lock(mutex_);
  files_.push_back(file);
  changed_.notify_all();
}

void CopyHelp::withdraw(FileInCopy* file) {
  {
    std::lock_guard lock(mutex_);
    files_.erase(std::find(files_.begin(), files_.end(), file));
  }
  std::unique_lock lock(file->mutex);
  file->changed.wait(lock, [file] { return file->helpers == 0; });
}

void CopyHelp::help() {
  for (;;) {
    FileInCopy* file = nullptr;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        if (failed_ || running_ == 0 || interrupted()) return;
        // The file with the most chunks not taken yet, if that is worth a thread's three buffers.
        uint64_t most = 0;
        for (FileInCopy* f : files_) {
          std::lock_guard file_lock(f->mutex);
          const uint64_t left = f->size_at_start > f->unclaimed ? f->size_at_start - f->unclaimed : 0;
          if (f->failure.is_ok() && !f->short_at && left >= 4 * kCopyChunkBytes && left > most) {
            most = left;
            file = f;
          }
        }
        if (file) break;
        // Woken by a new file or a tablespace's end; the timeout notices an interrupt.
        changed_.wait_for(lock, std::chrono::milliseconds(100));
      }
      // Joined under the list's lock: withdraw() cannot miss this helper.
      std::lock_guard file_lock(file->mutex);
      ++file->helpers;
    }
    copy_chunks(*file);
    std::lock_guard file_lock(file->mutex);
    --file->helpers;
    file->changed.notify_all();
  }
}

Result<std::vector<CopiedFile>> copy_tablespace(const std::string& source_root, const TablespaceEntry& tablespace,
                                                const innodb::TablespaceFormat& fallback, Storage& storage,
                                                const CopyOptions& options, CopyProgress& progress) {
  std::vector<CopiedFile> copied;
  TablespaceLayout layout{fallback, std::nullopt, tablespace.kind == TablespaceKind::kSystem};
  innodb::PageNo first_page = 0;
  for (size_t i = 0; i < tablespace.files.size(); ++i) {
    const std::string& rel = tablespace.files[i].rel_path;
    // One open per file: the header read and the copy see the same file whatever DDL renames.
    auto file = ReadFile::open(source_root + "/" + rel);
    if (!file.is_ok()) {
      if (i == 0 && options.ddl_may_run && !std::filesystem::exists(source_root + "/" + rel)) return copied;
      return file.status();
    }
    if (i == 0) {
      // Page 0 tells how to read the rest. If it is being written right now, re-read it.
      Result<TablespaceHeader> header = read_tablespace_header(*file, fallback.flavour, fallback);
      for (unsigned attempt = 0; header.is_ok() && header->page0_problem &&
                                 header->page0_problem->status == innodb::PageStatus::kCorrupt &&
                                 attempt < options.page_retries;
           ++attempt) {
        std::this_thread::sleep_for(options.retry_delay);
        header = read_tablespace_header(*file, fallback.flavour, fallback);
      }
      // A file being created may not have a whole page yet, or a page 0 half written: the final
      // phase copies it. (A page 0 of zeros is copied now: the server writes page 0 of a new
      // file at its first flush, which on a freshly loaded server can be long after.)
      if (options.ddl_may_run && (!header.is_ok() || (header->page0_problem &&
                                                      header->page0_problem->status == innodb::PageStatus::kCorrupt)))
        return copied;
      if (!header.is_ok()) return header.status();
      if (header->page0_problem && header->page0_problem->status == innodb::PageStatus::kCorrupt)
        return Status::error(ExitCode::kSourceIo, printable(rel) + ": page 0 is corrupt (" +
                                                      innodb::page_detail_name(header->page0_problem->detail) + ")");
      layout.format = header->format;
      layout.space_id = header->space_id;
      // The copy reads page 0 again and judges it like every page (a page 0 not written yet, a
      // file just created, is copied as the zeros it is; recovery rebuilds it from the redo): the
      // server rewrites page 0 often (the size, the free lists), and this read may meet a write.
    }
    const bool as_delta =
        options.incremental && layout.space_id && options.incremental->in_base(rel, *layout.space_id);
    auto f = copy_one_tablespace_file(*file, rel, layout, first_page, as_delta, storage, options, progress);
    if (!f.is_ok()) return f.status();
    // A file that grew since the inventory grows the total too: the progress never shows more
    // done than there is to do.
    const uint64_t read = f->delta_of.empty() ? f->bytes : f->file_bytes;
    if (read > tablespace.files[i].size) progress.total_bytes += read - tablespace.files[i].size;
    first_page += innodb::PageNo(read / layout.format.physical_size);
    copied.push_back(std::move(f).value());
  }
  return copied;
}

Result<CopiedFile> copy_plain_file(const std::string& source_root, const std::string& rel_path, Storage& storage,
                                   CopyProgress& progress, uint64_t limit, const std::string& target_rel_path) {
  auto file = ReadFile::open(source_root + "/" + rel_path);
  if (!file.is_ok()) return file.status();
  return copy_plain_file(*file, rel_path, storage, progress, limit, target_rel_path);
}

Result<CopiedFile> copy_plain_file(const ReadFile& file, const std::string& rel_path, Storage& storage,
                                   CopyProgress& progress, uint64_t limit, const std::string& target_rel_path) {
  auto out = storage.create(target_rel_path.empty() ? rel_path : target_rel_path);
  if (!out.is_ok()) return out.status();
  CopiedFile result;
  result.rel_path = rel_path;
  HashFilter hash;
  ThrottleFilter throttle(progress.throttle);
  const std::vector<Filter*> chain{&hash, &throttle};
  AlignedBuffer buf(kCopyChunkBytes);
  for (uint64_t offset = 0; offset < limit; offset += kCopyChunkBytes) {
    if (interrupted()) return interrupted_status();
    const size_t want = size_t(std::min<uint64_t>(kCopyChunkBytes, limit - offset));
    auto n = file.read_at(offset, std::span<uint8_t>(buf.data(), want));
    if (!n.is_ok()) return n.status();
    std::span<uint8_t> chunk(buf.data(), *n);
    if (Status s = run_filters(chain, offset, chunk); !s.is_ok()) return s;
    if (Status s = (*out)->append(chunk); !s.is_ok()) return s;
    result.bytes += *n;
    progress.done_bytes.fetch_add(*n, std::memory_order_relaxed);
    if (*n < want) break;
  }
  if (limit != UINT64_MAX && result.bytes != limit)
    return Status::error(ExitCode::kSourceIo, printable(file.path()) + " is shorter (" +
                                                  std::to_string(result.bytes) + " bytes) than the " +
                                                  std::to_string(limit) + " bytes to copy");
  if (Status s = (*out)->close(); !s.is_ok()) return s;
  result.sha256 = hash.hex_digest();
  return result;
}

}  // namespace mysqlclone
