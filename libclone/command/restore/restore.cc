#include "libclone/command/restore/restore.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>

#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/base/parallel.h"
#include "libclone/base/text.h"
#include "libclone/command/restore/restore_plan.h"
#include "libclone/command/restore/restored_bytes.h"
#include "libclone/command/restore/target_datadir.h"
#include "libclone/datadir/server_layout.h"
#include "libclone/io/filter.h"
#include "libclone/manifest/repository.h"
#include "libclone/manifest/target.h"
#include "libclone/server/preflight.h"

namespace mysqlclone {
namespace {

namespace fs = std::filesystem;

using OpenBytes = std::function<Result<std::unique_ptr<RestoredBytes>>()>;

struct FileOutcome {
  uint64_t written = 0;  // bytes written (--delta: 0 when the file there was right)
  std::string sha256;    // of the restored bytes
  uint64_t pages = 0;    // delta pages in them
};

// Writes one planned file as `name` (created: a new name), through the same filters as any copy.
Result<std::string> write_file(RestoredBytes& bytes, const std::string& name, Storage& storage, CopyProgress& progress) {
  auto out = storage.create(name);
  if (!out.is_ok()) return out.status();
  // The output's SHA-256 goes into DIR's manifest; a whole file's is the one its backup records.
  const std::string known = bytes.known_sha256();
  HashFilter hash;
  ThrottleFilter throttle(progress.throttle);
  std::vector<Filter*> chain{&throttle};
  if (known.empty()) chain.insert(chain.begin(), &hash);
  for (uint64_t offset = 0;;) {
    if (interrupted()) return interrupted_status();
    auto chunk = bytes.next();
    if (!chunk.is_ok()) return chunk.status();
    if (chunk->empty()) break;
    // The filters take a mutable span; none of ours changes the bytes of a restore.
    std::span<uint8_t> data(const_cast<uint8_t*>(chunk->data()), chunk->size());
    if (Status s = run_filters(chain, offset, data); !s.is_ok()) return s;
    if (Status s = (*out)->append(data); !s.is_ok()) return s;
    offset += data.size();
    progress.done_bytes.fetch_add(data.size(), std::memory_order_relaxed);
  }
  if (Status s = bytes.finish(); !s.is_ok()) return s;
  if (Status s = (*out)->close(); !s.is_ok()) return s;
  return known.empty() ? hash.hex_digest() : known;
}

// One planned file into `target`. With `existing` (--delta: where the file is in the datadir),
// a file there that is not longer than the restored one is brought to it block by block, in
// place; a longer one is replaced by a new file written under a temporary name.
Result<FileOutcome> restore_file(const OpenBytes& open, const std::string& target, const std::string& existing,
                                 Storage& storage, CopyProgress& progress) {
  FileOutcome outcome;
  auto bytes = open();
  if (!bytes.is_ok()) return bytes.status();
  std::error_code ec;
  const bool there = !existing.empty() && fs::is_regular_file(existing, ec);
  if (there && fs::file_size(existing, ec) <= (*bytes)->size() && !ec) {
    auto updated = update_in_place(existing, target, **bytes, storage, progress);
    if (!updated.is_ok()) return updated.status();
    return FileOutcome{updated->written, updated->sha256, (*bytes)->pages_overlaid()};
  }
  const std::string name = there ? target + kPartialSuffix : target;
  auto digest = write_file(**bytes, name, storage, progress);
  if (!digest.is_ok()) return digest.status();
  if (there)
    if (Status s = storage.rename(name, target); !s.is_ok()) return s;
  return FileOutcome{(*bytes)->size(), *digest, (*bytes)->pages_overlaid()};
}

// DIR/mysqlclone.json: the restored backup's document (what it is consistent at, how to
// replicate from there), as a restore's: its own times, bytes and files, and the chain it came
// from. Not the backup's type: DIR is a whole datadir, whatever the newest backup was (`verify`
// checks its pages, not deltas).
Manifest restored_manifest(const Plan& plan, const std::string& started_at) {
  const BackupRecord& newest = plan.chain.back();
  Manifest m;
  m.kind = "backup";
  m.command = "restore";
  m.started_at = started_at;
  static const std::set<std::string> kCommon = {"tool",     "tool_version", "format", "kind",  "command", "state", "error",
                                                "exit_code", "started_at",  "finished_at", "seconds", "bytes", "files",
                                                "backup_type", "incremental"};
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


// Where the restore writes, checked before anything is: the layout, not held by a running
// server, new or empty (or, with --delta, there), and the owner to give it.
struct Destination {
  ServerLayout layout;
  std::optional<Owner> owner;
};

Result<Destination> prepare_destination(const RestoreOptions& options, const Plan& plan) {
  const bool mariadb = plan.chain.back().server.flavour == "mariadb";
  Destination d;
  if (options.datadir.empty()) {
    d.layout = resolve_layout({options.target_dir, "", "", "", mariadb});
  } else {
    std::error_code ec;
    auto layout = read_server_layout(options.files, fs::absolute(options.datadir, ec).string(), mariadb);
    if (!layout.is_ok()) return layout.status();
    d.layout = std::move(layout).value();
    if (Status s = refuse_running_server(d.layout); !s.is_ok()) return s;
    d.owner = owner_of(d.layout.datadir);
  }
  if (!options.owner.empty()) {
    auto owner = parse_owner(options.owner);
    if (!owner.is_ok()) return owner.status();
    d.owner = *owner;
  }
  for (const std::string& root : layout_roots(d.layout)) {
    if (options.delta) {
      std::error_code ec;
      fs::create_directories(root, ec);
      if (ec) return Status::error(ExitCode::kPath, "cannot create " + printable(root) + ": " + ec.message());
    } else if (Status s = prepare_target(root, root == d.layout.datadir ? plan.bytes : 0); !s.is_ok()) {
      if (!options.datadir.empty() && s.code() == ExitCode::kPath)
        return Status::error(s.code(), s.message() + " (--delta restores onto a datadir that holds data)");
      return s;
    }
  }
  return d;
}

// Every name the restore leaves in the datadir: what --delta does not remove.
std::set<std::string> restored_names(const Plan& plan) {
  std::set<std::string> names{kManifestFile, "xtrabackup_checkpoints", kCloneInProgress};
  for (const OverlaidFile& o : plan.overlaid) names.insert(o.path);
  for (const WholeFile& w : plan.whole) names.insert(w.target);
  if (plan.mariadb_redo) names.insert(kMariadbRedo);
  return names;
}

}  // namespace

Result<RestoreResult> run_restore(const RestoreOptions& options, CopyProgress& progress) {
  const auto started = std::chrono::steady_clock::now();
  const std::string started_at = utc_now_iso8601();
  if (options.target_dir.empty() == options.datadir.empty())
    return Status::error(ExitCode::kUsage, "one of --target-dir (a new directory) or --datadir (a stopped server's) is required");
  if (options.delta && options.datadir.empty())
    return Status::error(ExitCode::kUsage, "--delta restores onto a server's datadir: it needs --datadir");
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
  auto destination = prepare_destination(options, *plan);
  if (!destination.is_ok()) return destination.status();
  const ServerLayout& layout = destination->layout;

  LayoutStorage storage(layout);
  Manifest manifest = restored_manifest(*plan, started_at);
  const StartGuard guard = newest.server.flavour == "mysql" ? StartGuard::kCloneInProgress : StartGuard::kNone;
  std::atomic<uint64_t> pages{0}, kept_files{0}, kept_bytes{0}, written{0};
  uint64_t removed = 0;
  Status s = begin_target(storage, manifest, guard);
  // --delta: MariaDB's start guard is a datadir without ib_logfile0 (its removal made durable
  // before the first file changes); then the files the backup does not have go.
  if (s.is_ok() && options.delta && plan->mariadb_redo) s = storage.remove(kMariadbRedo);
  if (s.is_ok() && options.delta && plan->mariadb_redo) s = storage.sync();
  if (s.is_ok() && options.delta) {
    auto r = remove_unrestored(layout, restored_names(*plan), {plan->directories.begin(), plan->directories.end()}, storage);
    if (r.is_ok()) removed = *r;
    else s = r.status();
  }
  for (const std::string& d : plan->directories)
    if (s.is_ok()) s = storage.make_dir(d);
  std::vector<std::string> overlaid_sha256(plan->overlaid.size());
  if (s.is_ok()) {
    // Largest first, so the copy does not end with one thread on one big file; but the system
    // tablespace before all: a MariaDB server finding neither it nor ib_logfile0 (a restore cut
    // short) takes the directory for a new instance and writes a fresh one into it.
    std::vector<std::pair<uint64_t, size_t>> order;  // (sort key, index: overlaid first, then whole)
    const auto key = [](const std::string& path, uint64_t bytes) {
      return path.starts_with("ibdata") ? UINT64_MAX : bytes;
    };
    for (size_t i = 0; i < plan->overlaid.size(); ++i)
      order.emplace_back(key(plan->overlaid[i].path, plan->overlaid[i].final_bytes()), i);
    for (size_t i = 0; i < plan->whole.size(); ++i)
      order.emplace_back(key(plan->whole[i].target, plan->whole[i].bytes), plan->overlaid.size() + i);
    std::sort(order.begin(), order.end(), std::greater<>());
    for (const OverlaidFile& o : plan->overlaid) progress.total_bytes += o.final_bytes();
    for (const WholeFile& w : plan->whole) progress.total_bytes += w.bytes;
    s = run_parallel(order.size(), threads, [&](size_t k) -> Status {
      const size_t i = order[k].second;
      const bool overlaid = i < plan->overlaid.size();
      const std::string& target = overlaid ? plan->overlaid[i].path : plan->whole[i - plan->overlaid.size()].target;
      OpenBytes open = [&]() -> Result<std::unique_ptr<RestoredBytes>> {
        if (overlaid) return RestoredBytes::open(plan->overlaid[i]);
        return RestoredBytes::open(plan->whole[i - plan->overlaid.size()]);
      };
      const std::string existing = options.delta ? route(layout, target) + "/" + target : "";
      auto outcome = restore_file(open, target, existing, storage, progress);
      if (!outcome.is_ok()) return outcome.status();
      if (overlaid) overlaid_sha256[i] = outcome->sha256;
      written.fetch_add(outcome->written, std::memory_order_relaxed);
      if (options.delta && outcome->written == 0) {
        kept_files.fetch_add(1, std::memory_order_relaxed);
        kept_bytes.fetch_add(overlaid ? plan->overlaid[i].final_bytes() : plan->whole[i - plan->overlaid.size()].bytes,
                             std::memory_order_relaxed);
      }
      pages.fetch_add(outcome->pages, std::memory_order_relaxed);
      return Status::ok();
    });
  }
  const BackupRecord& n = plan->chain.back();
  if (s.is_ok())
    s = storage.put("xtrabackup_checkpoints", xtrabackup_checkpoints_text("full-backuped", 0, n.checkpoint_lsn, n.end_lsn));
  if (s.is_ok() && plan->mariadb_redo) {
    auto outcome = restore_file([&] { return RestoredBytes::open(*plan->mariadb_redo); }, plan->mariadb_redo->target,
                                "", storage, progress);
    s = outcome.status();
    if (s.is_ok()) written += outcome->written;
    if (s.is_ok()) s = storage.sync();
  }
  // What the restore leaves, and the directories it makes, change hands; nothing else there.
  std::set<std::string> owned = restored_names(*plan);
  owned.insert(plan->directories.begin(), plan->directories.end());
  if (plan->mariadb_redo) owned.insert(plan->mariadb_redo->target);
  if (s.is_ok() && destination->owner) s = set_owner(layout, owned, *destination->owner);
  if (s.is_ok() && interrupted()) s = interrupted_status();
  // MariaDB's redo under its name is what lets the server start (the guard is its absence): the
  // last step before completion, after everything that can still fail but the completion itself.
  if (s.is_ok() && plan->mariadb_redo) s = storage.rename(plan->mariadb_redo->target, kMariadbRedo);
  RestoreResult result;
  if (s.is_ok()) {
    for (size_t i = 0; i < plan->overlaid.size(); ++i) manifest.files[i].sha256 = overlaid_sha256[i];
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
  if (destination->owner) (void)set_owner(layout, owned, *destination->owner);  // mysqlclone.json, written last
  result.target_dir = layout.datadir;
  for (const BackupRecord& b : plan->chain) result.chain.push_back(b.dir);
  result.files = manifest.files.size();
  result.bytes = plan->bytes;
  result.delta_pages = pages;
  result.kept_files = kept_files;
  result.kept_bytes = kept_bytes;
  result.written_bytes = written;
  result.removed_files = removed;
  result.manifest = manifest_json(manifest);
  log_info("restored {} into {}: {} files, {} bytes written ({} files kept as they were, {} removed), {} pages from "
           "{} incremental{}",
           printable(newest.dir), printable(layout.datadir), result.files, result.written_bytes, result.kept_files,
           result.removed_files,
           result.delta_pages, plan->chain.size() - 1, plan->chain.size() == 2 ? "" : "s");
  return result;
}

}  // namespace mysqlclone
