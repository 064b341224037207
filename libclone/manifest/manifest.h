// mysqlclone.json: what a target says about itself, one schema for every command. Common keys
// (tool, format, kind, command, state, times, bytes, files) are typed here; each command adds its
// own sections (a backup's LSNs and binlog position, a clone's donor facts) as further top-level
// keys. `state` is "in-progress" from before the first data byte, "failed" after an error and
// "complete" only once everything is durable (target.h keeps that order).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libclone/base/status.h"

namespace mysqlclone {

constexpr const char* kManifestFile = "mysqlclone.json";
// Bumped when a key changes meaning; readers refuse a newer format than they know.
constexpr int kManifestFormat = 1;

enum class TargetState { kInProgress, kComplete, kFailed };
const char* target_state_name(TargetState s);

struct ManifestFile {
  std::string path;  // relative to the target
  uint64_t bytes = 0;
  std::string sha256;  // empty: not recorded (a clone's blocks arrive out of order)
  // Tablespaces copied page by page:
  bool tablespace = false;
  std::optional<uint32_t> space_id;
  uint64_t max_page_lsn = 0;
  uint64_t reread_pages = 0;
  // An incremental's delta (datadir/delta_file.h): `path` is NAME.delta and stands for the file
  // `delta_of`, which was `file_bytes` long when read; `delta_pages` pages were kept.
  std::string delta_of;
  uint64_t file_bytes = 0;
  uint64_t delta_pages = 0;
};

struct Manifest {
  std::string kind;     // "backup" (local), "clone" (remote)
  std::string command;  // "local", "remote"
  TargetState state = TargetState::kInProgress;
  std::string error;  // state failed: the one error line, and its exit code
  int exit_code = 0;
  std::string started_at, finished_at;  // ISO 8601, UTC
  double seconds = 0;
  uint64_t bytes = 0;
  std::vector<ManifestFile> files;
  nlohmann::json sections = nlohmann::json::object();  // the command's own top-level keys
};

nlohmann::json manifest_json(const Manifest& m);
// The document as written: indented, any invalid UTF-8 (a file name is bytes) replaced, never thrown.
std::string manifest_text(const Manifest& m);

// What a reader needs of a target's mysqlclone.json. Every field is checked: a malformed
// document is a kVerifyFailed error naming what is wrong, never an exception.
struct ManifestSummary {
  std::string kind;
  std::string state;  // as written, to report unknown states as they are
  std::string error;
  struct File {
    std::string path;
    std::string sha256;  // empty: none recorded
    uint64_t bytes = 0;
    std::optional<uint32_t> space_id;  // tablespaces whose page 0 was valid
    std::string delta_of;              // a delta: the file it stands for
    uint64_t file_bytes = 0;           // a delta: that file's size
  };
  std::vector<File> files;
  nlohmann::json document;
};
// nullopt when DIR has no mysqlclone.json (a plain datadir).
Result<std::optional<ManifestSummary>> read_manifest(const std::string& dir);

// The file under `dir` that a record of its manifest names. A name that was not UTF-8 is recorded
// with U+FFFD in place of each bad byte (mysqlclone.json is JSON): such a record names the file
// whose name, made UTF-8 the same way, is the recorded one.
std::string recorded_file(const std::string& dir, const std::string& recorded);

// xtrabackup_checkpoints, the file scripts written for XtraBackup read: type "full-backuped"
// (from 0) or "incremental" (from its threshold); to_lsn is the start checkpoint C: an
// incremental taken later must copy every page changed after it (pages changed between C and
// the end are in the copy only through its redo, which the server applies at first start).
std::string xtrabackup_checkpoints_text(const std::string& type, uint64_t from_lsn, uint64_t to_lsn, uint64_t end_lsn);

std::string utc_now_iso8601();
std::string utc_iso8601(std::chrono::system_clock::time_point t);       // 2026-12-03T14:25:00Z
std::string utc_compact_time(std::chrono::system_clock::time_point t);  // 20261203T142500Z

}  // namespace mysqlclone
