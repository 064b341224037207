#include "libclone/datadir/file_copy.h"

#include <future>
#include <thread>

#include "libclone/base/interrupt.h"
#include "libclone/base/text.h"
#include "libclone/io/sha256.h"
#include "libclone/datadir/tablespace_header.h"

namespace mysqlclone {
namespace {

// A multiple of every physical page size and of the direct I/O alignment; large enough that
// each direct read and write keeps several requests in flight.
constexpr size_t kChunkBytes = 1 << 20;

Status interrupted_status() { return Status::error(ExitCode::kInterrupted, "interrupted"); }

// Re-reads the bad pages of a chunk until each validates or the retries run out.
Status repair_torn_pages(const ReadFile& file, const std::string& rel_path, uint64_t chunk_offset,
                         std::span<uint8_t> chunk, const TablespaceLayout& layout, innodb::PageNo first_page,
                         ChunkScan& scan, const CopyOptions& options, uint64_t& reread) {
  const uint32_t psize = layout.format.physical_size;
  for (const BadPage& bad : scan.bad) {
    const uint64_t in_chunk = uint64_t(bad.page - first_page) * psize;
    std::span<uint8_t> page = chunk.subspan(in_chunk, psize);
    innodb::PageVerdict v{innodb::PageStatus::kCorrupt, bad.reason, 0};
    for (unsigned attempt = 0; attempt < options.page_retries && v.status == innodb::PageStatus::kCorrupt; ++attempt) {
      if (interrupted()) return interrupted_status();
      std::this_thread::sleep_for(options.retry_delay);
      auto n = file.read_at(chunk_offset + in_chunk, page);
      if (!n.is_ok()) return n.status();
      if (*n < psize) break;  // truncated under us: judged below as it stands
      v = innodb::check_page(page, layout.format, bad.page, layout.space_id);
    }
    if (v.status == innodb::PageStatus::kCorrupt)
      return Status::error(ExitCode::kSourceIo,
                           printable(rel_path) + ": page " + std::to_string(bad.page) + " is corrupt (" +
                               innodb::page_detail_name(v.detail) + ") and stayed so over " +
                               std::to_string(options.page_retries) + " re-reads");
    --scan.counts.corrupt;
    scan.counts.count(v.status);
    scan.max_lsn = std::max(scan.max_lsn, v.lsn);
    ++reread;
  }
  scan.bad.clear();
  return Status::ok();
}

Result<CopiedFile> copy_one_tablespace_file(const std::string& source_root, const std::string& rel_path,
                                            TablespaceLayout layout, innodb::PageNo first_page,
                                            std::optional<innodb::PageVerdict> page0, Sink& sink,
                                            const CopyOptions& options, CopyProgress& progress) {
  auto file = ReadFile::open(source_root + "/" + rel_path);
  if (!file.is_ok()) return file.status();
  file->advise_sequential();
  auto out = sink.create(rel_path);
  if (!out.is_ok()) return out.status();

  CopiedFile result;
  result.rel_path = rel_path;
  result.tablespace = true;
  result.space_id = layout.space_id;
  if (page0) result.pages.count(page0->status);
  Sha256 hash;
  const uint32_t psize = layout.format.physical_size;
  // Three buffers in a pipeline: while chunk i is checked and hashed here, chunk i+1 is being
  // read and chunk i-1 written (direct I/O returns only once the device is done), so the disk
  // always has a read and a write to work on. The futures are declared after the buffers: on an
  // early return their destructors wait for the I/O still in flight before the buffers go.
  AlignedBuffer buffers[3] = {AlignedBuffer(kChunkBytes), AlignedBuffer(kChunkBytes), AlignedBuffer(kChunkBytes)};
  const ReadFile& source = *file;
  auto read_ahead = [&source](uint64_t offset, AlignedBuffer& into) {
    return std::async(std::launch::async, [&source, offset, &into] { return source.read_at(offset, into.span()); });
  };
  std::future<Result<size_t>> reading = read_ahead(0, buffers[0]);
  std::future<Status> writing;
  for (uint64_t offset = 0, turn = 0;; offset += kChunkBytes, turn = (turn + 1) % 3) {
    auto n = reading.get();
    if (!n.is_ok()) return n.status();
    // Chunk i-2's buffer is free: its write ended before chunk i-1's began.
    if (*n == kChunkBytes) reading = read_ahead(offset + kChunkBytes, buffers[(turn + 1) % 3]);
    if (interrupted()) return interrupted_status();
    if (options.keep_going)
      if (Status s = options.keep_going(); !s.is_ok()) return s;
    // Whole pages only: a file being extended may end in a partial page, which recovery
    // re-creates from the redo (FILE_EXTEND / page init records).
    const size_t whole = *n - *n % psize;
    std::span<uint8_t> chunk(buffers[turn].data(), whole);
    if (options.after_read) options.after_read(rel_path, offset, chunk);
    const innodb::PageNo chunk_first = first_page + innodb::PageNo(offset / psize);
    ChunkScan scan = scan_pages(chunk, layout, chunk_first, offset == 0 && page0.has_value());
    if (!scan.bad.empty()) {
      Status s = repair_torn_pages(*file, rel_path, offset, chunk, layout, chunk_first, scan, options,
                                   result.reread_pages);
      if (!s.is_ok()) return s;
    }
    result.pages.add(scan.counts);
    result.max_lsn = std::max(result.max_lsn, scan.max_lsn);
    hash.update(chunk);
    if (writing.valid())
      if (Status s = writing.get(); !s.is_ok()) return s;
    writing = std::async(std::launch::async, [&out, chunk] { return (*out)->append(chunk); });
    result.bytes += whole;
    progress.account(whole);
    if (*n < kChunkBytes) break;
  }
  if (writing.valid())
    if (Status s = writing.get(); !s.is_ok()) return s;
  if (Status s = (*out)->close(); !s.is_ok()) return s;
  result.sha256 = hash.hex_digest();
  return result;
}

}  // namespace

void CopyProgress::account(uint64_t bytes) {
  done_bytes.fetch_add(bytes, std::memory_order_relaxed);
  throttle(bytes);
}

void CopyProgress::throttle(uint64_t bytes) {
  const uint64_t read = read_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (max_bytes_per_second <= 0) return;
  const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(double(read) / max_bytes_per_second));
  while (std::chrono::steady_clock::now() < due && !interrupted())
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(due - std::chrono::steady_clock::now(),
                                                                              std::chrono::milliseconds(100)));
}

Result<std::vector<CopiedFile>> copy_tablespace(const std::string& source_root, const TablespaceEntry& tablespace,
                                                const innodb::TablespaceFormat& fallback, Sink& sink,
                                                const CopyOptions& options, CopyProgress& progress) {
  std::vector<CopiedFile> copied;
  TablespaceLayout layout{fallback, std::nullopt, tablespace.kind == TablespaceKind::kSystem};
  innodb::PageNo first_page = 0;
  for (size_t i = 0; i < tablespace.files.size(); ++i) {
    const std::string& rel = tablespace.files[i].rel_path;
    std::optional<innodb::PageVerdict> page0;
    if (i == 0) {
      // Page 0 tells how to read the rest. If it is being written right now, re-read it.
      auto file = ReadFile::open(source_root + "/" + rel);
      if (!file.is_ok()) return file.status();
      Result<TablespaceHeader> header = read_tablespace_header(*file, fallback.flavour, fallback);
      for (unsigned attempt = 0; header.is_ok() && header->page0_problem &&
                                 header->page0_problem->status == innodb::PageStatus::kCorrupt &&
                                 attempt < options.page_retries;
           ++attempt) {
        std::this_thread::sleep_for(options.retry_delay);
        header = read_tablespace_header(*file, fallback.flavour, fallback);
      }
      if (!header.is_ok()) return header.status();
      if (header->page0_problem && header->page0_problem->status == innodb::PageStatus::kCorrupt)
        return Status::error(ExitCode::kSourceIo, printable(rel) + ": page 0 is corrupt (" +
                                                      innodb::page_detail_name(header->page0_problem->detail) + ")");
      layout.format = header->format;
      layout.space_id = header->space_id;
      // A page 0 not written yet (a file just created) is copied as the zeros it is; recovery
      // rebuilds it from the redo.
      page0 = header->page0_problem ? *header->page0_problem
                                    : innodb::PageVerdict{innodb::PageStatus::kValid, innodb::PageDetail::kNone, 0};
    }
    auto f = copy_one_tablespace_file(source_root, rel, layout, first_page, page0, sink, options, progress);
    if (!f.is_ok()) return f.status();
    first_page += innodb::PageNo(f->bytes / layout.format.physical_size);
    copied.push_back(std::move(f).value());
  }
  return copied;
}

Result<CopiedFile> copy_plain_file(const std::string& source_root, const std::string& rel_path, Sink& sink,
                                   CopyProgress& progress, uint64_t limit, const std::string& target_rel_path) {
  auto file = ReadFile::open(source_root + "/" + rel_path);
  if (!file.is_ok()) return file.status();
  const std::string target = target_rel_path.empty() ? rel_path : target_rel_path;
  auto out = sink.create(target);
  if (!out.is_ok()) return out.status();
  CopiedFile result;
  result.rel_path = target;
  Sha256 hash;
  AlignedBuffer buf(kChunkBytes);
  for (uint64_t offset = 0; offset < limit; offset += kChunkBytes) {
    if (interrupted()) return interrupted_status();
    const size_t want = size_t(std::min<uint64_t>(kChunkBytes, limit - offset));
    auto n = file->read_at(offset, std::span<uint8_t>(buf.data(), want));
    if (!n.is_ok()) return n.status();
    std::span<const uint8_t> chunk(buf.data(), *n);
    hash.update(chunk);
    if (Status s = (*out)->append(chunk); !s.is_ok()) return s;
    result.bytes += *n;
    progress.account(*n);
    if (*n < want) break;
  }
  if (limit != UINT64_MAX && result.bytes != limit)
    return Status::error(ExitCode::kSourceIo, printable(source_root + "/" + rel_path) + " is shorter (" +
                                                  std::to_string(result.bytes) + " bytes) than the " +
                                                  std::to_string(limit) + " bytes to copy");
  if (Status s = (*out)->close(); !s.is_ok()) return s;
  result.sha256 = hash.hex_digest();
  return result;
}

}  // namespace mysqlclone
