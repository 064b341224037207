#include "libclone/command/restore/restore.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/base/parallel.h"
#include "libclone/base/text.h"
#include "libclone/datadir/delta_file.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/filter.h"
#include "libclone/manifest/backup_chain.h"
#include "libclone/manifest/repository.h"
#include "libclone/manifest/target.h"
#include "libclone/server/preflight.h"

namespace mysqlclone {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkBytes = 1 << 20;
// MariaDB starts on a datadir only once it has ib_logfile0 (innodb-formats.md §5.1): it is
// written under this name and renamed last. MySQL's redo is covered by the clone guard.
constexpr const char* kMariadbRedo = "ib_logfile0";
constexpr const char* kPartialSuffix = ".mysqlclone-partial";

// One incremental's delta of a file, in chain order.
struct DeltaLayer {
  std::string dir;
  std::string path;     // NAME.delta in `dir`
  uint64_t file_bytes;  // the file's size when that backup read it
  uint64_t threshold;
};

// A tablespace file of the restored backup that incrementals changed: its full backup's copy,
// then each delta.
struct OverlaidFile {
  std::string path;  // in DIR
  uint32_t space_id = 0;
  std::string base_dir, base_path, base_sha256;
  uint64_t base_bytes = 0;
  std::vector<DeltaLayer> deltas;
  uint64_t final_bytes() const { return deltas.back().file_bytes; }
};

// A file taken as it is from one backup directory.
struct WholeFile {
  std::string dir, path, target, sha256;  // sha256 empty: not recorded (redo, metadata files)
  uint64_t bytes = 0;
};

struct Plan {
  std::vector<BackupRecord> chain;
  std::vector<OverlaidFile> overlaid;
  std::vector<WholeFile> whole;
  std::vector<std::string> directories;
  std::optional<WholeFile> mariadb_redo;  // written last
  uint64_t bytes = 0;                     // what DIR will hold
};

Status broken(const std::string& what) { return Status::error(ExitCode::kVerifyFailed, what); }

// Follows a delta of the restored backup back through the chain by space id to the full copy
// it continues.
Result<OverlaidFile> plan_overlay(const std::vector<BackupRecord>& chain, const std::vector<TablespaceIndex>& indexes,
                                  const ManifestSummary::File& newest) {
  OverlaidFile o;
  o.path = newest.delta_of;
  if (!newest.space_id) return broken(printable(chain.back().dir) + ": the delta " + printable(newest.path) + " has no space id");
  o.space_id = *newest.space_id;
  const ManifestSummary::File* at = &newest;
  for (size_t level = chain.size() - 1;; --level) {
    if (at->delta_of.empty()) {
      o.base_dir = chain[level].dir;
      o.base_path = at->path;
      o.base_bytes = at->bytes;
      o.base_sha256 = at->sha256;
      break;
    }
    if (level == 0 || !chain[level].incremental)
      return broken(printable(chain[level].dir) + " has a delta (" + printable(at->path) + ") but is not an incremental");
    o.deltas.push_back({chain[level].dir, at->path, at->file_bytes, chain[level].threshold_lsn});
    const ManifestSummary::File* below = indexes[level - 1].find(at->delta_of, o.space_id);
    if (!below)
      return broken("the chain is broken: " + printable(chain[level - 1].dir) + " has no file of tablespace " +
                    std::to_string(o.space_id) + " for the delta " + printable(chain[level].dir + "/" + at->path));
    at = below;
  }
  std::reverse(o.deltas.begin(), o.deltas.end());
  return o;
}

Result<Plan> make_plan(const std::string& backup) {
  Plan plan;
  auto chain = read_chain(backup);
  if (!chain.is_ok()) return chain.status();
  plan.chain = std::move(chain).value();
  std::vector<TablespaceIndex> indexes;
  for (const BackupRecord& b : plan.chain) indexes.emplace_back(b.manifest);
  const BackupRecord& newest = plan.chain.back();
  const bool mariadb = newest.server.flavour == "mariadb";

  std::map<std::string, const ManifestSummary::File*> listed;
  for (const ManifestSummary::File& f : newest.manifest.files) {
    listed[f.path] = &f;
    if (f.delta_of.empty()) continue;
    auto o = plan_overlay(plan.chain, indexes, f);
    if (!o.is_ok()) return o.status();
    plan.bytes += o->final_bytes();
    plan.overlaid.push_back(std::move(o).value());
  }
  // Everything else in the backup's directory comes as it is: the listed files (checked against
  // their SHA-256) and what the copy wrote besides them (redo, binlog index, metadata).
  std::error_code ec;
  fs::recursive_directory_iterator it(newest.dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(newest.dir).string();
    if (it->is_directory(ec)) {
      plan.directories.push_back(rel);
      continue;
    }
    if (!it->is_regular_file(ec) || rel == kManifestFile || rel == "xtrabackup_checkpoints") continue;
    auto l = listed.find(rel);
    if (l != listed.end() && !l->second->delta_of.empty()) continue;
    WholeFile w{newest.dir, rel, rel, l == listed.end() ? "" : l->second->sha256, it->file_size(ec)};
    if (ec) break;
    plan.bytes += w.bytes;
    if (mariadb && rel == kMariadbRedo) {
      w.target = std::string(kMariadbRedo) + kPartialSuffix;
      plan.mariadb_redo = w;
    } else {
      plan.whole.push_back(std::move(w));
    }
  }
  if (ec) return Status::error(ExitCode::kPath, "cannot read " + printable(newest.dir) + ": " + ec.message());
  for (const auto& [path, f] : listed)
    if (f->delta_of.empty() && !fs::exists(newest.dir + "/" + path, ec))
      return broken(printable(newest.dir) + " lacks " + printable(path) + ", which its " + kManifestFile + " lists");
  if (mariadb && !plan.mariadb_redo) return broken(printable(newest.dir) + " has no " + kMariadbRedo);
  return plan;
}

// Reads every delta the plan uses and checks each page (delta_file.h) before DIR exists.
Status check_deltas(const Plan& plan, unsigned threads) {
  std::vector<std::pair<const OverlaidFile*, const DeltaLayer*>> all;
  for (const OverlaidFile& o : plan.overlaid)
    for (const DeltaLayer& d : o.deltas) all.emplace_back(&o, &d);
  return run_parallel(all.size(), threads, [&](size_t i) -> Status {
    const auto& [file, layer] = all[i];
    const std::string path = layer->dir + "/" + layer->path;
    auto reader = DeltaReader::open(path);
    if (!reader.is_ok()) return reader.status();
    if (reader->header().space_id != file->space_id || reader->header().threshold != layer->threshold)
      return broken(printable(path) + ": its space id or threshold LSN is not the one its backup records");
    while (true) {
      if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal");
      auto page = reader->next();
      if (!page.is_ok()) return page.status();
      if (!*page) break;
    }
    if (reader->file_bytes() != layer->file_bytes)
      return broken(printable(path) + ": its file size " + std::to_string(reader->file_bytes()) +
                    " is not the one its backup records (" + std::to_string(layer->file_bytes) + ")");
    return Status::ok();
  });
}

Status check_sha256(const std::string& path, const std::string& want, const std::string& got) {
  if (want.empty() || want == got) return Status::ok();
  return broken(printable(path) + " does not match the SHA-256 its backup records (damaged since?)");
}

// The full backup's copy, cut to the smallest size any later backup saw (pages past it were
// dropped from the tablespace then), zeros up to the restored size, then each delta's pages that
// are still inside every later size.
Status restore_overlaid(const OverlaidFile& o, Storage& storage, CopyProgress& progress, std::atomic<uint64_t>& pages) {
  uint64_t keep = o.base_bytes;
  for (const DeltaLayer& d : o.deltas) keep = std::min(keep, d.file_bytes);
  auto out = storage.create(o.path);
  if (!out.is_ok()) return out.status();
  const std::string base_path = o.base_dir + "/" + o.base_path;
  auto base = ReadFile::open(base_path);
  if (!base.is_ok()) return base.status();
  base->advise_sequential();
  HashFilter hash;
  ThrottleFilter throttle(progress.throttle);
  const std::vector<Filter*> chain{&hash, &throttle};
  AlignedBuffer buf(kChunkBytes);
  for (uint64_t offset = 0; offset < o.base_bytes; offset += kChunkBytes) {
    if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal");
    const size_t want = size_t(std::min<uint64_t>(kChunkBytes, o.base_bytes - offset));
    std::span<uint8_t> chunk(buf.data(), want);
    auto n = base->read_at(offset, chunk);
    if (!n.is_ok()) return n.status();
    if (*n < want) return broken(printable(base_path) + " is shorter than its backup records");
    if (Status s = run_filters(chain, offset, chunk); !s.is_ok()) return s;
    if (offset < keep)
      if (Status s = (*out)->append(chunk.first(size_t(std::min<uint64_t>(want, keep - offset)))); !s.is_ok()) return s;
    progress.done_bytes.fetch_add(want, std::memory_order_relaxed);
  }
  if (Status s = check_sha256(base_path, o.base_sha256, hash.hex_digest()); !s.is_ok()) return s;
  if (Status s = (*out)->extend_to(o.final_bytes()); !s.is_ok()) return s;
  for (size_t i = 0; i < o.deltas.size(); ++i) {
    uint64_t limit = o.final_bytes();
    for (size_t j = i; j < o.deltas.size(); ++j) limit = std::min(limit, o.deltas[j].file_bytes);
    auto reader = DeltaReader::open(o.deltas[i].dir + "/" + o.deltas[i].path);
    if (!reader.is_ok()) return reader.status();
    const uint32_t psize = reader->header().page_size;
    while (true) {
      auto page = reader->next();
      if (!page.is_ok()) return page.status();
      if (!*page) break;
      const uint64_t at = uint64_t((*page)->index) * psize;
      if (at + psize > limit) continue;
      if (Status s = (*out)->write_at(at, (*page)->bytes); !s.is_ok()) return s;
      pages.fetch_add(1, std::memory_order_relaxed);
      progress.done_bytes.fetch_add(psize, std::memory_order_relaxed);
    }
  }
  return (*out)->close();
}

Status restore_whole(const WholeFile& w, Storage& storage, CopyProgress& progress) {
  auto copied = copy_plain_file(w.dir, w.path, storage, progress, UINT64_MAX, w.target);
  if (!copied.is_ok()) return copied.status();
  if (copied->bytes != w.bytes) return broken(printable(w.dir + "/" + w.path) + " changed size while it was restored");
  return check_sha256(w.dir + "/" + w.path, w.sha256, copied->sha256);
}

// DIR/mysqlclone.json: the restored backup's document (what it is consistent at, how to
// replicate from there), as a restore's: its own times, bytes and files, and the chain it came from.
Manifest restored_manifest(const Plan& plan, const std::string& started_at) {
  const BackupRecord& newest = plan.chain.back();
  Manifest m;
  m.kind = "backup";
  m.command = "restore";
  m.started_at = started_at;
  static const std::set<std::string> kCommon = {"tool",     "tool_version", "format", "kind",  "command", "state", "error",
                                                "exit_code", "started_at",  "finished_at", "seconds", "bytes", "files"};
  for (const auto& [key, value] : newest.manifest.document.items())
    if (!kCommon.count(key)) m.sections[key] = value;
  nlohmann::json chain = nlohmann::json::array();
  for (const BackupRecord& b : plan.chain) chain.push_back(b.dir);
  m.sections["restore"] = {{"backup", newest.dir},
                           {"backup_started_at", newest.manifest.document.value("started_at", "")},
                           {"backup_finished_at", newest.manifest.document.value("finished_at", "")},
                           {"chain", chain}};
  for (const OverlaidFile& o : plan.overlaid) m.files.push_back({o.path, o.final_bytes(), "", false, std::nullopt, 0, 0, "", 0, 0});
  for (const WholeFile& w : plan.whole) m.files.push_back({w.target, w.bytes, w.sha256, false, std::nullopt, 0, 0, "", 0, 0});
  if (plan.mariadb_redo) m.files.push_back({kMariadbRedo, plan.mariadb_redo->bytes, "", false, std::nullopt, 0, 0, "", 0, 0});
  return m;
}

}  // namespace

Result<RestoreResult> run_restore(const RestoreOptions& options, CopyProgress& progress) {
  const auto started = std::chrono::steady_clock::now();
  const std::string started_at = utc_now_iso8601();
  // --repo: the backup named there (or its newest), the repository locked so that no expire
  // removes the chain while it is read.
  std::string backup = options.backup;
  std::optional<RepositoryLock> repo_lock;
  if (!options.repo.empty()) {
    auto lock = open_repository(options.repo, "restore", false);
    if (!lock.is_ok()) return lock.status();
    repo_lock.emplace(std::move(lock).value());
    if (backup.empty()) {
      auto newest = newest_backup(options.repo);
      if (!newest.is_ok()) return newest.status();
      backup = *newest;
    } else {
      if (backup.find('/') != std::string::npos)
        return Status::error(ExitCode::kUsage, "with --repo, --backup is the name of a backup in it, not a path: " +
                                                   printable(backup));
      backup = options.repo + "/" + backup;
    }
  }
  auto plan = make_plan(backup);
  if (!plan.is_ok()) return plan.status();
  const unsigned threads = resolve_threads(options.parallel);
  const BackupRecord& newest = plan->chain.back();
  log_info("restoring {} ({} backup{} in its chain, {} files overlaid with deltas)", printable(newest.dir),
           plan->chain.size(), plan->chain.size() == 1 ? "" : "s", plan->overlaid.size());
  if (Status s = check_deltas(*plan, threads); !s.is_ok()) return s;
  if (Status s = prepare_target(options.target_dir, plan->bytes); !s.is_ok()) return s;

  DirectoryStorage storage(options.target_dir);
  Manifest manifest = restored_manifest(*plan, started_at);
  const StartGuard guard = newest.server.flavour == "mysql" ? StartGuard::kCloneInProgress : StartGuard::kNone;
  std::atomic<uint64_t> pages{0};
  Status s = begin_target(storage, manifest, guard);
  for (const std::string& d : plan->directories)
    if (s.is_ok()) s = storage.make_dir(d);
  if (s.is_ok()) {
    // Largest first, so the copy does not end with one thread on one big file.
    std::vector<std::pair<uint64_t, size_t>> order;  // (bytes, index: overlaid first, then whole)
    for (size_t i = 0; i < plan->overlaid.size(); ++i) order.emplace_back(plan->overlaid[i].final_bytes(), i);
    for (size_t i = 0; i < plan->whole.size(); ++i) order.emplace_back(plan->whole[i].bytes, plan->overlaid.size() + i);
    std::sort(order.begin(), order.end(), std::greater<>());
    for (const auto& [bytes, i] : order) progress.total_bytes += bytes;
    s = run_parallel(order.size(), threads, [&](size_t k) -> Status {
      const size_t i = order[k].second;
      if (i < plan->overlaid.size()) return restore_overlaid(plan->overlaid[i], storage, progress, pages);
      return restore_whole(plan->whole[i - plan->overlaid.size()], storage, progress);
    });
  }
  const BackupRecord& n = plan->chain.back();
  if (s.is_ok())
    s = storage.put("xtrabackup_checkpoints", xtrabackup_checkpoints_text("full-backuped", 0, n.checkpoint_lsn, n.end_lsn));
  if (s.is_ok() && plan->mariadb_redo) {
    s = restore_whole(*plan->mariadb_redo, storage, progress);
    if (s.is_ok()) s = storage.sync();
    if (s.is_ok()) s = storage.rename(plan->mariadb_redo->target, kMariadbRedo);
  }
  if (s.is_ok() && interrupted()) s = Status::error(ExitCode::kInterrupted, "interrupted by a signal");
  RestoreResult result;
  if (s.is_ok()) {
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    manifest.finished_at = utc_now_iso8601();
    manifest.seconds = result.seconds;
    manifest.bytes = plan->bytes;
    s = complete_target(storage, manifest, guard);
  }
  if (!s.is_ok()) {
    if (interrupted() && s.code() != ExitCode::kInterrupted)
      s = Status::error(ExitCode::kInterrupted, "interrupted by a signal (" + s.message() + "); the target is incomplete");
    fail_target(storage, manifest, s);
    return s;
  }
  result.target_dir = options.target_dir;
  for (const BackupRecord& b : plan->chain) result.chain.push_back(b.dir);
  result.files = manifest.files.size();
  result.bytes = plan->bytes;
  result.delta_pages = pages;
  result.manifest = manifest_json(manifest);
  log_info("restored {} into {}: {} files, {} pages from {} incremental{}", printable(newest.dir),
           printable(options.target_dir), result.files, result.delta_pages, plan->chain.size() - 1,
           plan->chain.size() == 2 ? "" : "s");
  return result;
}

}  // namespace mysqlclone
