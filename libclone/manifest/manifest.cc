#include "libclone/manifest/manifest.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "mysqlclone_version.h"
#include "libclone/base/text.h"
#include "libclone/io/relative_path.h"

namespace mysqlclone {

const char* target_state_name(TargetState s) {
  switch (s) {
    case TargetState::kInProgress: return "in-progress";
    case TargetState::kComplete: return "complete";
    case TargetState::kFailed: return "failed";
  }
  return "unknown";
}

namespace {

std::string utc_time(std::chrono::system_clock::time_point t, const char* format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string xtrabackup_checkpoints_text(const std::string& type, uint64_t from_lsn, uint64_t to_lsn, uint64_t end_lsn) {
  return fmt::format("backup_type = {}\nfrom_lsn = {}\nto_lsn = {}\nlast_lsn = {}\nflushed_lsn = {}\n", type, from_lsn,
                     to_lsn, end_lsn, end_lsn);
}

std::string utc_now_iso8601() { return utc_iso8601(std::chrono::system_clock::now()); }
std::string utc_iso8601(std::chrono::system_clock::time_point t) { return utc_time(t, "%Y-%m-%dT%H:%M:%SZ"); }
std::string utc_compact_time(std::chrono::system_clock::time_point t) { return utc_time(t, "%Y%m%dT%H%M%SZ"); }

nlohmann::json manifest_json(const Manifest& m) {
  nlohmann::json j = {{"tool", "mysqlclone"},
                      {"tool_version", MYSQLCLONE_VERSION},
                      {"format", kManifestFormat},
                      {"kind", m.kind},
                      {"command", m.command},
                      {"state", target_state_name(m.state)},
                      {"started_at", m.started_at}};
  if (m.state == TargetState::kFailed) {
    j["error"] = m.error;
    j["exit_code"] = m.exit_code;
  }
  if (m.state == TargetState::kComplete) {
    j["finished_at"] = m.finished_at;
    j["seconds"] = m.seconds;
    j["bytes"] = m.bytes;
  }
  for (const auto& [key, value] : m.sections.items()) j[key] = value;
  nlohmann::json files = nlohmann::json::array();
  for (const ManifestFile& f : m.files) {
    nlohmann::json e = {{"path", f.path}, {"bytes", f.bytes}};
    if (!f.sha256.empty()) e["sha256"] = f.sha256;
    if (f.tablespace) {
      e["space_id"] = f.space_id ? nlohmann::json(*f.space_id) : nlohmann::json(nullptr);
      e["max_page_lsn"] = f.max_page_lsn;
      e["reread_pages"] = f.reread_pages;
    }
    if (!f.delta_of.empty()) {
      e["delta_of"] = f.delta_of;
      e["file_bytes"] = f.file_bytes;
      e["pages"] = f.delta_pages;
    }
    files.push_back(std::move(e));
  }
  j["files"] = std::move(files);
  return j;
}

std::string manifest_text(const Manifest& m) {
  return manifest_json(m).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

Status malformed(const std::string& dir, const std::string& what) {
  return Status::error(ExitCode::kVerifyFailed, dir + "/" + kManifestFile + ": " + what);
}

// An unsigned member, or 0 when absent; an error when present with another type.
Result<uint64_t> optional_unsigned(const nlohmann::json& j, const char* key, const std::string& dir) {
  auto it = j.find(key);
  if (it == j.end()) return uint64_t(0);
  if (!it->is_number_unsigned()) return malformed(dir, std::string("\"") + key + "\" is not an unsigned number");
  return it->get<uint64_t>();
}

// A string member, or "" when absent; an error when present with another type.
Result<std::string> optional_string(const nlohmann::json& j, const char* key, const std::string& dir) {
  auto it = j.find(key);
  if (it == j.end()) return std::string();
  if (!it->is_string()) return malformed(dir, std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

}  // namespace

Result<std::optional<ManifestSummary>> read_manifest(const std::string& dir) {
  std::ifstream in(dir + "/" + kManifestFile);
  if (!in) return std::optional<ManifestSummary>{};
  ManifestSummary s;
  s.document = nlohmann::json::parse(in, nullptr, false);
  const nlohmann::json& j = s.document;
  if (j.is_discarded()) return malformed(dir, "not valid JSON");
  if (!j.is_object()) return malformed(dir, "not a JSON object");
  if (auto f = j.find("format"); f != j.end() && (!f->is_number_unsigned() || f->get<uint64_t>() > kManifestFormat))
    return malformed(dir, "written in a newer format than this mysqlclone reads (" + f->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ")");
  auto kind = optional_string(j, "kind", dir);
  auto state = optional_string(j, "state", dir);
  auto error = optional_string(j, "error", dir);
  for (const auto* r : {&kind, &state, &error})
    if (!r->is_ok()) return r->status();
  s.kind = *kind;
  s.state = *state;
  s.error = *error;
  if (s.state.empty()) return malformed(dir, "no \"state\"");
  auto files = j.find("files");
  // Every manifest lists its files (an empty list at first): one without is not ours, or broken.
  if (files == j.end() || !files->is_array()) return malformed(dir, "\"files\" is missing or not a list");
  for (const nlohmann::json& f : *files) {
    if (!f.is_object()) return malformed(dir, "an entry of \"files\" is not an object");
    auto path = optional_string(f, "path", dir);
    auto sha = optional_string(f, "sha256", dir);
    auto delta_of = optional_string(f, "delta_of", dir);
    for (const auto* r : {&path, &sha, &delta_of})
      if (!r->is_ok()) return r->status();
    auto bytes = optional_unsigned(f, "bytes", dir);
    auto file_bytes = optional_unsigned(f, "file_bytes", dir);
    for (const auto* r : {&bytes, &file_bytes})
      if (!r->is_ok()) return r->status();
    if (path->empty()) return malformed(dir, "an entry of \"files\" has no path");
    // Names that restore and verify put under a directory: never one that leaves it (a manifest
    // edited or damaged is input like a stream's).
    std::vector<std::string_view> parts;
    for (const std::string* name : {&*path, &*delta_of})
      if (!name->empty())
        if (const char* why = split_relative_path(*name, parts))
          return malformed(dir, "the file name \"" + printable(*name, 200) + "\" " + why);
    ManifestSummary::File file{*path, *sha, *bytes, std::nullopt, *delta_of, *file_bytes};
    if (auto id = f.find("space_id"); id != f.end() && !id->is_null()) {
      if (!id->is_number_unsigned() || id->get<uint64_t>() > UINT32_MAX)
        return malformed(dir, "the space id of " + *path + " is not a 32-bit unsigned number");
      file.space_id = id->get<uint32_t>();
    }
    s.files.push_back(std::move(file));
  }
  return std::optional<ManifestSummary>(std::move(s));
}

std::string recorded_file(const std::string& dir, const std::string& recorded) {
  namespace fs = std::filesystem;
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::error_code ec;
  if (recorded.find(kReplacement) == std::string::npos || fs::exists(fs::path(dir) / recorded, ec)) return recorded;
  const auto as_json = [](const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  const std::string wanted = as_json(recorded);
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir, ec).string();
    if (!ec && it->is_regular_file(ec) && as_json(rel) == wanted) return rel;
  }
  return recorded;
}

}  // namespace mysqlclone
