#include "libclone/command/restore/restore_plan.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "libclone/base/interrupt.h"
#include "libclone/base/parallel.h"
#include "libclone/base/text.h"
#include "libclone/datadir/delta_file.h"
#include "libclone/manifest/manifest.h"

namespace mysqlclone {
namespace {

namespace fs = std::filesystem;

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
    o.deltas.push_back({chain[level].dir, at->path, at->file_bytes, chain[level].threshold_lsn, at->sha256});
    const ManifestSummary::File* below = indexes[level - 1].find(at->delta_of, o.space_id);
    if (!below)
      return broken("the chain is broken: " + printable(chain[level - 1].dir) + " has no file of tablespace " +
                    std::to_string(o.space_id) + " for the delta " + printable(chain[level].dir + "/" + at->path));
    at = below;
  }
  std::reverse(o.deltas.begin(), o.deltas.end());
  return o;
}

}  // namespace

Status broken(const std::string& what) { return Status::error(ExitCode::kVerifyFailed, what); }

Result<Plan> make_plan(const std::string& backup) {
  Plan plan;
  auto chain = read_chain(backup);
  if (!chain.is_ok()) return chain.status();
  plan.chain = std::move(chain).value();
  std::vector<TablespaceIndex> indexes;
  for (const BackupRecord& b : plan.chain) indexes.emplace_back(b.manifest);
  const BackupRecord& newest = plan.chain.back();
  const bool mariadb = newest.server.flavour == "mariadb";

  // By the name of the file in the directory (a name that was not UTF-8 is recorded otherwise).
  std::map<std::string, const ManifestSummary::File*> listed;
  for (const ManifestSummary::File& f : newest.manifest.files) {
    listed[recorded_file(newest.dir, f.path)] = &f;
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

Status check_deltas(const Plan& plan, unsigned threads) {
  std::vector<std::pair<const OverlaidFile*, const DeltaLayer*>> all;
  for (const OverlaidFile& o : plan.overlaid)
    for (const DeltaLayer& d : o.deltas) all.emplace_back(&o, &d);
  return run_parallel(all.size(), threads, [&](size_t i) -> Status {
    const auto& [file, layer] = all[i];
    const std::string path = layer->dir + "/" + layer->path;
    auto reader = DeltaReader::open(path, true);
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
    // Every block and page checked out: what is left is a delta whole and sound that is not the
    // one this backup wrote (another backup's, put in its place).
    if (!layer->sha256.empty() && reader->hex_digest() != layer->sha256)
      return broken(printable(path) + ": its SHA-256 is not the one its backup records (not the delta that "
                                      "backup wrote)");
    return Status::ok();
  });
}

}  // namespace mysqlclone
