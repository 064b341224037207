#include "libclone/command/verify/verify.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "libclone/datadir/datadir_lock.h"
#include "libclone/datadir/delta_file.h"
#include "libclone/manifest/backup_chain.h"
#include "libclone/manifest/target.h"
#include "libclone/base/parallel.h"
#include "libclone/base/text.h"
#include "libclone/io/read_file.h"
#include "libclone/io/sha256.h"
#include "libclone/datadir/tablespace_header.h"

namespace mysqlclone {
namespace {

namespace fs = std::filesystem;

constexpr size_t kVerifyChunkBytes = 4 << 20;  // a multiple of every physical page size

// One run of consecutive pages of one file.
struct Chunk {
  size_t file_index;   // into the job's files
  uint64_t offset;     // byte offset in the file
  uint64_t length;     // bytes, a multiple of the page size
  innodb::PageNo first_page;
};

// A file being verified and everything needed to judge its pages. It holds no descriptor: a
// datadir may have tens of thousands of files, more than a process may open (often 1024).
struct FileJob {
  std::string path;
  TablespaceLayout layout;
  FileReport report;
  std::mutex mutex;  // guards report while workers merge chunk results
};

Status verify_chunk(FileJob& job, const Chunk& c, VerifyProgress& progress) {
  thread_local AlignedBuffer buf(kVerifyChunkBytes);
  // Open for this chunk only: one descriptor per thread at most, and an open costs nothing
  // next to a 4 MiB read.
  auto file = ReadFile::open(job.path);
  if (!file.is_ok()) return file.status();
  auto n = file->read_at(c.offset, std::span<uint8_t>(buf.data(), c.length));
  if (!n.is_ok()) return n.status();
  // A file that shrank under us (only possible with --allow-running) is judged as far as it goes.
  const ChunkScan scan = scan_pages(std::span<const uint8_t>(buf.data(), *n), job.layout, c.first_page, c.offset == 0);
  {
    std::lock_guard lock(job.mutex);
    job.report.pages.add(scan.counts);
    job.report.max_lsn = std::max(job.report.max_lsn, scan.max_lsn);
    job.report.bad_pages.insert(job.report.bad_pages.end(), scan.bad.begin(), scan.bad.end());
  }
  progress.done_bytes.fetch_add(c.length, std::memory_order_relaxed);
  return Status::ok();
}

// Reads every tablespace's header (in parallel, each file open only while its page 0 is read)
// and cuts every file into chunks.
Status plan(const DatadirInventory& inv, const innodb::TablespaceFormat& instance, bool backup, unsigned threads,
            std::vector<std::unique_ptr<FileJob>>& jobs, std::vector<Chunk>& chunks) {
  std::vector<const TablespaceEntry*> spaces;
  for (const TablespaceEntry& ts : inv.tablespaces)
    if (ts.kind != TablespaceKind::kTemporary) spaces.push_back(&ts);
  std::vector<std::optional<TablespaceHeader>> headers(spaces.size());
  Status read = run_parallel(spaces.size(), threads, [&](size_t i) -> Status {
    auto file = ReadFile::open(inv.dir + "/" + spaces[i]->files.front().rel_path);
    if (!file.is_ok()) return file.status();
    auto h = read_tablespace_header(*file, inv.flavour, instance);
    if (!h.is_ok()) return h.status();
    headers[i] = std::move(h).value();
    return Status::ok();
  });
  if (!read.is_ok()) return read;
  for (size_t i = 0; i < spaces.size(); ++i) {
    const TablespaceEntry& ts = *spaces[i];
    const TablespaceHeader& header = *headers[i];
    innodb::PageNo first_page = 0;
    for (const TablespaceFile& tf : ts.files) {
      auto job = std::make_unique<FileJob>();
      job->path = inv.dir + "/" + tf.rel_path;
      job->report.rel_path = tf.rel_path;
      job->report.kind = ts.kind;
      job->report.bytes = tf.size;
      if (&tf == &ts.files.front()) {  // page 0 is in the first file only
        if (header.page0_problem && header.page0_problem->status == innodb::PageStatus::kCorrupt) {
          job->report.pages.corrupt++;
          job->report.bad_pages.push_back({0, header.page0_problem->detail});
        } else if (header.page0_problem && backup) {
          // A hot copy may hold a file the server had not written yet: recovery rebuilds its
          // pages from the redo (MariaDB defers page 0 of new tables).
          job->report.pages.empty++;
        } else if (header.page0_problem) {
          job->report.file_problem = "page 0 is empty: the file was never initialised";
        } else {
          job->report.pages.valid++;
        }
      }
      job->layout = {header.format, header.space_id, ts.kind == TablespaceKind::kSystem};
      job->report.space_id = header.space_id;
      const uint32_t psize = job->layout.format.physical_size;
      job->report.physical_page_size = psize;
      if (tf.size % psize != 0)
        job->report.file_problem = "size " + std::to_string(tf.size) + " is not a multiple of the page size " +
                                   std::to_string(psize);
      const uint64_t usable = tf.size - tf.size % psize;
      for (uint64_t off = 0; off < usable; off += kVerifyChunkBytes) {
        const uint64_t len = std::min<uint64_t>(kVerifyChunkBytes, usable - off);
        chunks.push_back({jobs.size(), off, len, innodb::PageNo(first_page + off / psize)});
      }
      first_page += innodb::PageNo(usable / psize);
      jobs.push_back(std::move(job));
    }
  }
  return Status::ok();
}

Result<std::string> file_sha256(const std::string& path) {
  auto file = ReadFile::open(path);
  if (!file.is_ok()) return file.status();
  Sha256 hash;
  thread_local AlignedBuffer buf(kVerifyChunkBytes);
  for (uint64_t off = 0;; off += kVerifyChunkBytes) {
    auto n = file->read_at(off, buf.span());
    if (!n.is_ok()) return n.status();
    hash.update(std::span<const uint8_t>(buf.data(), *n));
    if (*n < kVerifyChunkBytes) break;
  }
  return hash.hex_digest();
}

// Compares every file the backup lists with its recorded SHA-256; mismatches and missing files
// become file problems in the report. A clone written by `remote` records none (its blocks
// arrive out of order from several connections), so only its pages are checked.
Status check_backup_checksums(const ManifestSummary& meta, VerifyReport& report, unsigned threads) {
  std::vector<std::pair<std::string, std::string>> files;  // path, sha256
  // A delta's SHA-256 is checked as verify_incremental reads it.
  for (const auto& f : meta.files)
    if (!f.sha256.empty() && f.delta_of.empty()) files.emplace_back(recorded_file(report.dir, f.path), f.sha256);
  std::vector<std::string> problems(files.size());
  Status s = run_parallel(files.size(), threads, [&](size_t i) -> Status {
    auto digest = file_sha256(report.dir + "/" + files[i].first);
    if (!digest.is_ok())
      problems[i] = "missing or unreadable: " + digest.status().message();
    else if (*digest != files[i].second)
      problems[i] = "SHA-256 differs from the backup's record";
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  // By path, not a search per file: a backup of a server with every file damaged has as many
  // problems as files.
  std::unordered_map<std::string, size_t> by_path;
  for (size_t i = 0; i < report.files.size(); ++i) by_path.emplace(report.files[i].rel_path, i);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& rel = files[i].first;
    if (problems[i].empty()) {
      ++report.checksummed_files;
      continue;
    }
    auto [at, added] = by_path.emplace(rel, report.files.size());
    if (added) {
      report.files.push_back(FileReport{});
      report.files.back().rel_path = rel;
      report.files.back().kind = TablespaceKind::kUser;
    }
    report.files[at->second].file_problem = problems[i];
  }
  return Status::ok();
}

// An incremental holds no datadir to scan: its tablespace files are deltas (or whole files of
// tablespaces new since its base). Every listed file's SHA-256 is checked, and every page of
// every delta as `restore` checks it (delta_file.h), before restore needs it.
Result<VerifyReport> verify_incremental(const std::string& dir, const ManifestSummary& meta, unsigned threads) {
  // Its chain first: an incremental whose base is gone or not its own restores nothing.
  if (auto chain = read_chain(dir); !chain.is_ok()) return chain.status();
  VerifyReport report;
  report.dir = dir;
  report.is_backup = true;
  report.flavour = meta.document.value("flavour", "") == "mariadb" ? innodb::Flavour::kMariadb : innodb::Flavour::kMysql;
  report.page_size = meta.document.value("page_size", 0u);
  report.threads = threads;
  std::vector<const ManifestSummary::File*> deltas;
  for (const auto& f : meta.files)
    if (!f.delta_of.empty()) deltas.push_back(&f);
  std::vector<FileReport> reports(deltas.size());
  std::vector<uint8_t> checksummed(deltas.size());  // bytes, not vector<bool>'s bits: one thread each
  Status s = run_parallel(deltas.size(), threads, [&](size_t i) -> Status {
    FileReport& r = reports[i];
    r.rel_path = deltas[i]->path;
    r.kind = TablespaceKind::kUser;
    r.bytes = deltas[i]->bytes;
    r.space_id = deltas[i]->space_id;
    auto reader = DeltaReader::open(dir + "/" + recorded_file(dir, deltas[i]->path), !deltas[i]->sha256.empty());
    if (!reader.is_ok()) {
      if (reader.status().code() != ExitCode::kVerifyFailed && reader.status().code() != ExitCode::kSourceIo)
        return reader.status();
      r.file_problem = reader.status().message();
      return Status::ok();
    }
    r.physical_page_size = reader->header().page_size;
    while (true) {
      auto page = reader->next();
      if (!page.is_ok()) {
        if (page.status().code() != ExitCode::kVerifyFailed) return page.status();
        r.file_problem = page.status().message();
        break;
      }
      if (!*page) {
        if (deltas[i]->sha256.empty()) break;
        if (reader->hex_digest() == deltas[i]->sha256) checksummed[i] = 1;
        else r.file_problem = "SHA-256 differs from the backup's record";
        break;
      }
      ++r.pages.valid;
    }
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  report.checksummed_files += size_t(std::count(checksummed.begin(), checksummed.end(), uint8_t(1)));
  for (FileReport& r : reports) {
    report.pages.add(r.pages);
    report.bytes += r.bytes;
    report.files.push_back(std::move(r));
  }
  if (Status c = check_backup_checksums(meta, report, threads); !c.is_ok()) return c;
  return report;
}

}  // namespace

bool VerifyReport::ok() const { return bad_files() == 0; }

size_t VerifyReport::bad_files() const {
  return size_t(std::count_if(files.begin(), files.end(), [](const FileReport& f) { return !f.ok(); }));
}

Result<VerifyReport> verify_datadir(const VerifyOptions& options, VerifyProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  auto meta = check_target_finished(options.dir);
  if (!meta.is_ok()) return meta.status();
  // A datadir that `restore` made from an incremental is whole (one of an earlier version still
  // said "incremental").
  if (meta->has_value() && (*meta)->document.value("backup_type", "") == "incremental" &&
      (*meta)->document.value("command", "") != "restore") {
    auto report = verify_incremental(options.dir, **meta, resolve_threads(options.threads));
    if (report.is_ok())
      report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  }
  auto inv = scan_datadir(options.dir);
  if (!inv.is_ok()) return inv.status();

  auto holder = datadir_lock_holder(options.dir);
  if (!holder.is_ok()) return holder.status();
  if (holder->has_value() && !options.allow_running)
    return Status::error(ExitCode::kPath, options.dir + " is in use by a running server (pid " +
                                              std::to_string(**holder) +
                                              "); stop it first, or pass --allow-running to read pages in flight");

  auto ibdata1 = ReadFile::open(options.dir + "/" + inv->tablespaces.front().files.front().rel_path);
  if (!ibdata1.is_ok()) return ibdata1.status();
  auto instance = read_instance_format(*ibdata1, inv->flavour);
  if (!instance.is_ok()) return instance.status();
  // Other tablespaces inherit the page size and checksum format, never row compression.
  innodb::TablespaceFormat fallback = innodb::default_format(instance->page_size, inv->flavour);
  fallback.full_crc32 = instance->full_crc32;

  std::vector<std::unique_ptr<FileJob>> jobs;
  std::vector<Chunk> chunks;
  if (Status s = plan(*inv, fallback, meta->has_value(), resolve_threads(options.threads), jobs, chunks); !s.is_ok())
    return s;
  uint64_t total = 0;
  for (const Chunk& c : chunks) total += c.length;
  progress.total_bytes = total;

  const unsigned threads = unsigned(std::min<size_t>(resolve_threads(options.threads), std::max<size_t>(1, chunks.size())));
  if (Status s = run_parallel(chunks.size(), threads,
                              [&](size_t i) { return verify_chunk(*jobs[chunks[i].file_index], chunks[i], progress); });
      !s.is_ok())
    return s;

  VerifyReport report;
  report.dir = options.dir;
  report.flavour = inv->flavour;
  report.page_size = instance->page_size;
  report.threads = threads;
  for (auto& job : jobs) {
    FileReport& f = job->report;
    std::sort(f.bad_pages.begin(), f.bad_pages.end(), [](auto& a, auto& b) { return a.page < b.page; });
    if (f.bad_pages.size() > kMaxBadPagesListed) f.bad_pages.resize(kMaxBadPagesListed);
    report.pages.add(f.pages);
    report.bytes += f.bytes;
    report.max_lsn = std::max(report.max_lsn, f.max_lsn);
    report.files.push_back(std::move(f));
  }
  if (meta->has_value()) {
    report.is_backup = true;
    if (Status s = check_backup_checksums(**meta, report, threads); !s.is_ok()) return s;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace mysqlclone
