#include "libclone/manifest/backup_chain.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "libclone/base/path.h"
#include "libclone/base/text.h"
#include "libclone/manifest/target.h"

namespace mysqlclone {
namespace {

// More links than any real chain has (a full every week, an incremental every hour).
constexpr size_t kMaxChain = 1000;

Status missing(const std::string& dir, const std::string& key) {
  return Status::error(ExitCode::kVerifyFailed,
                       printable(dir) + "/" + kManifestFile + ": \"" + key + "\" is missing or has the wrong type");
}

Result<std::string> string_key(const nlohmann::json& j, const char* key, const std::string& dir) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return missing(dir, key);
  return it->get<std::string>();
}

Result<uint64_t> lsn_key(const nlohmann::json& j, const char* key, const std::string& dir) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return missing(dir, key);
  return it->get<uint64_t>();
}

}  // namespace

Result<BackupRecord> read_backup(const std::string& dir) {
  std::error_code ec;
  const std::string abs = absolute_dir(dir);
  if (!std::filesystem::is_directory(abs, ec))
    return Status::error(ExitCode::kPath, "backup " + printable(dir) + " not found (not a directory)");
  auto summary = check_target_finished(abs);
  if (!summary.is_ok()) return summary.status();
  if (!summary->has_value())
    return Status::error(ExitCode::kPath, printable(abs) + " is not a mysqlclone backup (no " + kManifestFile + ")");
  BackupRecord b;
  b.dir = abs;
  b.manifest = std::move(**summary);
  const nlohmann::json& j = b.manifest.document;
  if (b.manifest.kind != "backup" || j.value("command", "") != "local")
    return Status::error(ExitCode::kPath, printable(abs) + " is not a backup written by `mysqlclone local` (kind \"" +
                                              printable(b.manifest.kind) + "\", command \"" +
                                              printable(j.value("command", "")) + "\")");
  auto type = string_key(j, "backup_type", abs);
  auto flavour = string_key(j, "flavour", abs);
  auto version = string_key(j, "server_version", abs);
  for (const auto* r : {&type, &flavour, &version})
    if (!r->is_ok()) return r->status();
  auto checkpoint = lsn_key(j, "checkpoint_lsn", abs);
  auto end = lsn_key(j, "end_lsn", abs);
  for (const auto* r : {&checkpoint, &end})
    if (!r->is_ok()) return r->status();
  const nlohmann::json source = j.value("source", nlohmann::json::object());
  auto datadir = source.is_object() ? string_key(source, "datadir", abs) : missing(abs, "source");
  if (!datadir.is_ok()) return datadir.status();
  b.server = {*flavour, *version, j.value("server_uuid", ""), *datadir, j.value("server_id", "")};
  b.checkpoint_lsn = *checkpoint;
  b.end_lsn = *end;
  if (*type == "incremental") {
    b.incremental = true;
    const nlohmann::json inc = j.value("incremental", nlohmann::json::object());
    auto base = inc.is_object() ? string_key(inc, "base", abs) : missing(abs, "incremental");
    if (!base.is_ok()) return base.status();
    auto threshold = lsn_key(inc, "threshold_lsn", abs);
    if (!threshold.is_ok()) return threshold.status();
    // Beside this backup under its own name first (the chain may have been moved as a whole),
    // else where it was; read_chain checks that the one found is the base (its start checkpoint).
    b.base_dir = absolute_dir(*base);
    // Earlier versions recorded an --incremental-from given as "DIR/" as it was, with no name.
    std::string name = inc.value("base_name", "");
    if (name.empty()) name = std::filesystem::path(b.base_dir).filename().string();
    if (!name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos) {
      const std::string beside = (std::filesystem::path(abs).parent_path() / name).string();
      std::error_code ec;
      if (std::filesystem::exists(beside + "/" + kManifestFile, ec)) b.base_dir = beside;
    }
    b.threshold_lsn = *threshold;
    b.base_started_at = inc.value("base_started_at", "");
    if (auto e = inc.find("base_end_lsn"); e != inc.end() && e->is_number_unsigned()) b.base_end_lsn = e->get<uint64_t>();
  } else if (*type != "full") {
    return Status::error(ExitCode::kVerifyFailed, printable(abs) + ": unknown backup_type \"" + printable(*type) + "\"");
  }
  return b;
}

Status check_same_server(const BackupRecord& backup, const ServerIdentity& source) {
  const ServerIdentity& b = backup.server;
  std::string differs;
  if (b.flavour != source.flavour) differs = "flavour " + b.flavour + " vs " + source.flavour;
  else if (b.server_version != source.server_version) differs = "version " + b.server_version + " vs " + source.server_version;
  else if (b.server_uuid != source.server_uuid) differs = "server_uuid " + b.server_uuid + " vs " + source.server_uuid;
  else if (b.datadir != source.datadir) differs = "datadir " + b.datadir + " vs " + source.datadir;
  else if (b.server_uuid.empty() && source.server_uuid.empty() && !b.server_id.empty() && !source.server_id.empty() &&
           b.server_id != source.server_id)
    differs = "server_id " + b.server_id + " vs " + source.server_id;
  if (differs.empty()) return Status::ok();
  return Status::error(ExitCode::kPath, printable(backup.dir) + " is a backup of another server (" + printable(differs) +
                                            "): an incremental builds only on a backup of the same server and version");
}

Result<std::vector<BackupRecord>> read_chain(const std::string& newest) {
  std::vector<BackupRecord> chain;
  std::set<std::string> seen;
  auto b = read_backup(newest);
  if (!b.is_ok()) return b.status();
  chain.push_back(std::move(b).value());
  while (chain.back().incremental) {
    const BackupRecord& child = chain.back();
    if (chain.size() >= kMaxChain || !seen.insert(child.dir).second)
      return Status::error(ExitCode::kVerifyFailed, printable(child.dir) + ": its chain of bases loops or is longer than " +
                                                        std::to_string(kMaxChain));
    auto base = read_backup(child.base_dir);
    if (!base.is_ok()) return base.status().with_context("the base of " + printable(child.dir));
    if (Status s = check_same_server(*base, child.server); !s.is_ok()) return s;
    if (base->checkpoint_lsn != child.threshold_lsn)
      return Status::error(ExitCode::kPath, printable(child.dir) + " was taken on another backup than " +
                                                printable(base->dir) + " (its threshold LSN " +
                                                std::to_string(child.threshold_lsn) + " is not that backup's start checkpoint " +
                                                std::to_string(base->checkpoint_lsn) + ")");
    // Two backups of one server can start at the same checkpoint (a quiet server): the base's
    // start time and end LSN tell them apart.
    const std::string base_started = base->manifest.document.value("started_at", "");
    if ((!child.base_started_at.empty() && child.base_started_at != base_started) ||
        (child.base_end_lsn != 0 && child.base_end_lsn != base->end_lsn))
      return Status::error(ExitCode::kPath, printable(child.dir) + " was taken on another backup than " +
                                                printable(base->dir) + " (its base started at " +
                                                printable(child.base_started_at) + " and ended at LSN " +
                                                std::to_string(child.base_end_lsn) + "; that one started at " +
                                                printable(base_started) + " and ended at LSN " +
                                                std::to_string(base->end_lsn) + ")");
    chain.push_back(std::move(base).value());
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

const std::string& data_path(const ManifestSummary::File& f) { return f.delta_of.empty() ? f.path : f.delta_of; }

TablespaceIndex::TablespaceIndex(const ManifestSummary& manifest) {
  for (const ManifestSummary::File& f : manifest.files)
    if (f.space_id) by_space_.emplace(*f.space_id, &f);
}

const ManifestSummary::File* TablespaceIndex::find(const std::string& rel_path, uint32_t space_id) const {
  auto [from, to] = by_space_.equal_range(space_id);
  for (auto it = from; it != to; ++it)
    if (space_id != 0 || data_path(*it->second) == rel_path) return it->second;
  return nullptr;
}

}  // namespace mysqlclone
