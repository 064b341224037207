#include "libclone/datadir/file_copy.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>

#include "libclone/base/interrupt.h"
#include "libclone/base/text.h"
#include "libclone/datadir/delta_file.h"
#include "libclone/datadir/tablespace_header.h"
#include "libclone/io/filter.h"

namespace mysqlclone {
namespace {

// A multiple of every physical page size and of the direct I/O alignment; large enough that
// each direct read and write keeps several requests in flight.
constexpr size_t kChunkBytes = 1 << 20;
// The range of blocks shared by one reflink call (see the copy's pipeline).
constexpr uint64_t kShareBytes = 64 << 20;

Status interrupted_status() { return Status::error(ExitCode::kInterrupted, "interrupted"); }

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
                  innodb::PageNo first_page, bool page0_judged, const CopyOptions& options)
      : source_(source), rel_path_(rel_path), layout_(layout), first_page_(first_page), page0_judged_(page0_judged),
        options_(options) {}

  Status process(uint64_t offset, std::span<uint8_t> chunk) override {
    repaired.clear();
    const uint32_t psize = layout_.format.physical_size;
    const innodb::PageNo chunk_first = first_page_ + innodb::PageNo(offset / psize);
    ChunkScan scan = scan_pages(chunk, layout_, chunk_first, offset == 0 && page0_judged_);
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
  const bool page0_judged_;
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

  AlignedBuffer buffer(kChunkBytes);
  const size_t run_max = kChunkBytes / psize;
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

Result<CopiedFile> copy_one_tablespace_file(const ReadFile& file, const std::string& rel_path, TablespaceLayout layout,
                                            innodb::PageNo first_page, bool page0_judged, bool as_delta,
                                            Storage& storage, const CopyOptions& options, CopyProgress& progress) {
  auto stamp = file.stamp();
  if (!stamp.is_ok()) return stamp.status();
  file.advise_sequential();
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
  PageCheckFilter page_check(file, rel_path, layout, first_page, page0_judged, options);
  HashFilter hash;
  ThrottleFilter throttle(progress.throttle);
  // A delta hashes what it writes, not what it reads.
  const std::vector<Filter*> chain =
      as_delta ? std::vector<Filter*>{&page_check, &throttle} : std::vector<Filter*>{&page_check, &hash, &throttle};
  const uint32_t psize = layout.format.physical_size;
  if (delta && options.incremental->changed_pages) {
    auto read = read_listed_pages(file, rel_path, layout, first_page, chain, *delta, options, progress);
    if (!read.is_ok()) return read.status();
    result.bytes = read->file_bytes;
    result.read_bytes = read->read_bytes;
  } else {
    // The blocks that may be shared rather than copied: whole pages (of at least 4 KiB, the
    // granularity of a reflink) up to the size the file had when the copy began. Bytes the file
    // gained since are copied.
    const uint64_t share_unit = std::max<uint64_t>(psize, kDirectIoAlignment);
    uint64_t share_end = 0;
    if (!as_delta && options.reflink != Reflink::kNever) {
      auto size = file.size();
      if (!size.is_ok()) return size.status();
      share_end = *size - *size % share_unit;
    }
    // Three buffers in a pipeline: while chunk i passes the filters here, chunk i+1 is being read
    // (or shared and read back) and chunk i-1 written (direct I/O returns only once the device is
    // done), so the disk always has a read and a write to work on. The futures are declared after
    // the buffers: on an early return their destructors wait for the I/O still in flight before
    // the buffers go.
    AlignedBuffer buffers[3] = {AlignedBuffer(kChunkBytes), AlignedBuffer(kChunkBytes), AlignedBuffer(kChunkBytes)};
    const ReadFile& source = file;
    StorageFile& target = **out;
    // Blocks are shared a range of kShareBytes at a time, ahead of the chunks read back from it:
    // one clone call per chunk would cost a file system transaction per MiB, one for the whole
    // file would hold the source file's lock (and the server's writes to it) for as long as a
    // large file takes. One fetch runs at a time (the next starts once the last was taken), so
    // `sharing` and `shared_until` need no lock.
    bool sharing = share_end > 0;
    uint64_t shared_until = 0;
    auto fetch = [&source, &target, &sharing, &shared_until, share_end, &options, &rel_path](uint64_t offset,
                                                                                            AlignedBuffer& into) {
      return std::async(std::launch::async, [&source, &target, &sharing, &shared_until, share_end, &options, &rel_path,
                                             offset, &into] {
        if (sharing && offset < share_end) {
          if (offset >= shared_until) {
            const uint64_t length = std::min<uint64_t>(kShareBytes, share_end - offset);
            auto shared = target.append_shared(source, offset, length);
            if (!shared.is_ok()) return Fetched{shared.status(), 0, true};
            if (*shared) {
              shared_until = offset + length;
            } else if (options.reflink == Reflink::kAlways) {
              return Fetched{Status::error(ExitCode::kPath,
                                           printable(rel_path) + ": --reflink=always, but the target cannot share the "
                                                                 "source's blocks (it must be a directory on the same "
                                                                 "file system, one with reflinks: XFS reflink=1, btrfs)"),
                             0, false};
            } else {
              sharing = false;
            }
          }
          if (sharing) {
            std::span<uint8_t> want = into.span().first(size_t(std::min<uint64_t>(kChunkBytes, shared_until - offset)));
            auto n = target.read_shared(offset, want);
            if (n.is_ok() && *n != want.size())
              return Fetched{Status::error(ExitCode::kPath, printable(rel_path) + ": " + std::to_string(*n) +
                                                                " bytes read back of the " + std::to_string(want.size()) +
                                                                " shared at offset " + std::to_string(offset)),
                             0, true};
            return Fetched{std::move(n), want.size(), true};
          }
        }
        return Fetched{source.read_at(offset, into.span()), kChunkBytes, false};
      });
    };
    std::future<Fetched> reading = fetch(0, buffers[0]);
    std::future<Status> writing;
    for (uint64_t offset = 0, turn = 0;; turn = (turn + 1) % 3) {
      Fetched f = reading.get();
      if (!f.bytes.is_ok()) return f.bytes.status();
      const size_t n = *f.bytes;
      // Less than asked for: the end of the file. (Asked-for sizes are whole pages.)
      const bool more = n == f.wanted;
      // Chunk i-2's buffer is free: its write ended before chunk i-1's began.
      if (more) reading = fetch(offset + n, buffers[(turn + 1) % 3]);
      if (interrupted()) return interrupted_status();
      if (options.keep_going)
        if (Status s = options.keep_going(); !s.is_ok()) return s;
      // Whole pages only: a file being extended may end in a partial page, which recovery
      // re-creates from the redo (FILE_EXTEND / page init records).
      const size_t whole = n - n % psize;
      std::span<uint8_t> chunk(buffers[turn].data(), whole);
      if (options.after_read) options.after_read(rel_path, offset, chunk);
      if (Status s = run_filters(chain, offset, chunk); !s.is_ok()) return s;
      if (f.shared) {
        // The target shares the blocks as read: only the pages re-read from the source differ.
        for (uint64_t at : page_check.repaired)
          if (Status s = target.write_at(at, chunk.subspan(size_t(at - offset), psize)); !s.is_ok()) return s;
        result.shared_bytes += whole;
      } else {
        if (writing.valid())
          if (Status s = writing.get(); !s.is_ok()) return s;
        if (delta) {
          const innodb::PageNo first_index = innodb::PageNo(offset / psize);
          const innodb::Lsn threshold = options.incremental->threshold;
          writing = std::async(std::launch::async, [&delta, chunk, first_index, &layout, first_page, threshold] {
            return keep_changed_pages(*delta, chunk, first_index, layout, first_page, threshold);
          });
        } else {
          writing = std::async(std::launch::async, [&target, chunk] { return target.append(chunk); });
        }
      }
      result.bytes += whole;
      progress.done_bytes.fetch_add(whole, std::memory_order_relaxed);
      if (!more) break;
      offset += n;
    }
    if (writing.valid())
      if (Status s = writing.get(); !s.is_ok()) return s;
    result.read_bytes = result.bytes;
  }
  if (delta) {
    if (Status s = delta->finish(result.bytes); !s.is_ok()) return s;
    result.delta_of = rel_path;
    result.rel_path = rel_path + kDeltaSuffix;
    result.file_bytes = result.bytes;
    result.delta_pages = delta->pages();
    result.bytes = delta->bytes();
    result.sha256 = delta->hex_digest();
  } else {
    result.sha256 = hash.hex_digest();
  }
  if (Status s = (*out)->close(); !s.is_ok()) return s;
  result.max_lsn = page_check.max_lsn;
  result.reread_pages = page_check.reread_pages;
  return result;
}

}  // namespace

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
    bool page0_judged = false;
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
      // Judged: a page 0 not written yet (a file just created) is copied as the zeros it is;
      // recovery rebuilds it from the redo.
      page0_judged = true;
    }
    const bool as_delta =
        options.incremental && layout.space_id && options.incremental->in_base(rel, *layout.space_id);
    auto f = copy_one_tablespace_file(*file, rel, layout, first_page, page0_judged, as_delta, storage, options, progress);
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
  AlignedBuffer buf(kChunkBytes);
  for (uint64_t offset = 0; offset < limit; offset += kChunkBytes) {
    if (interrupted()) return interrupted_status();
    const size_t want = size_t(std::min<uint64_t>(kChunkBytes, limit - offset));
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
