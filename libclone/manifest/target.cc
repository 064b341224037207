#include "libclone/manifest/target.h"

#include <sys/stat.h>

#include "libclone/base/text.h"
#include "libclone/io/directory_storage.h"

namespace mysqlclone {
namespace {

// Room left (trailing spaces, which JSON allows) in the "in-progress" mysqlclone.json for the
// failed one to be written over it when the disk is full: the error line and its code.
constexpr size_t kFailureRoom = 4096;

}  // namespace

Status begin_target(Storage& storage, Manifest& manifest, StartGuard guard) {
  manifest.state = TargetState::kInProgress;
  if (Status s = storage.put(kManifestFile, manifest_text(manifest) + std::string(kFailureRoom, ' ') + "\n");
      !s.is_ok())
    return s;
  if (guard == StartGuard::kCloneInProgress)
    if (Status s = storage.put(kCloneInProgress, ""); !s.is_ok()) return s;
  return storage.sync();
}

Status complete_target(Storage& storage, Manifest& manifest, StartGuard guard) {
  if (Status s = storage.sync(); !s.is_ok()) return s;
  if (guard == StartGuard::kCloneInProgress) {
    if (Status s = storage.remove(kCloneInProgress); !s.is_ok()) return s;
    if (Status s = storage.remove_dir(kCloneDir); !s.is_ok()) return s;
    if (Status s = storage.sync(); !s.is_ok()) return s;
  }
  manifest.state = TargetState::kComplete;
  return storage.put(kManifestFile, manifest_text(manifest));
}

void fail_target(Storage& storage, Manifest& manifest, const Status& error) {
  manifest.state = TargetState::kFailed;
  manifest.error = error.message();
  manifest.exit_code = int(error.code());
  if (storage.put(kManifestFile, manifest_text(manifest)).is_ok()) return;
  // No room for a new file (ENOSPC is a common reason to fail): over the "in-progress" one, in
  // its own blocks and its room, the error cut to fit; else it stays "in-progress", which is
  // never complete either.
  if (manifest.error.size() > kFailureRoom / 2) manifest.error = manifest.error.substr(0, kFailureRoom / 2) + "...";
  (void)storage.overwrite_in_place(kManifestFile, manifest_text(manifest));
}

Result<std::optional<ManifestSummary>> check_target_finished(const std::string& dir) {
  auto manifest = read_manifest(dir);
  if (!manifest.is_ok()) return manifest.status();
  if (manifest->has_value() && (*manifest)->state != "complete")
    return Status::error(ExitCode::kVerifyFailed,
                         dir + " is an incomplete " + ((*manifest)->kind == "clone" ? "clone" : "backup") +
                             " (state \"" + printable((*manifest)->state) + "\"" +
                             ((*manifest)->error.empty() ? std::string() : ": " + printable((*manifest)->error)) +
                             "): it must not be used");
  struct stat st {};
  // Killed while the first manifest was being written: the target was just begun.
  if (!manifest->has_value() && ::lstat((dir + "/" + kManifestFile + kPutSuffix).c_str(), &st) == 0)
    return Status::error(ExitCode::kVerifyFailed, dir + " is an incomplete target (its " + kManifestFile +
                                                      " was being written when mysqlclone stopped): it must not be used");
  if (::lstat((dir + "/" + kCloneInProgress).c_str(), &st) == 0)
    return Status::error(ExitCode::kVerifyFailed, dir + " is an unfinished clone (" + kCloneInProgress +
                                                      " is present): it must not be used");
  return manifest;
}

std::string expand_target_timestamp(const std::string& target_dir, std::chrono::system_clock::time_point start) {
  constexpr std::string_view kPlaceholder = "{timestamp}";
  const std::string stamp = utc_compact_time(start);
  std::string out = target_dir;
  for (size_t at = out.find(kPlaceholder); at != std::string::npos; at = out.find(kPlaceholder, at + stamp.size()))
    out.replace(at, kPlaceholder.size(), stamp);
  return out;
}

}  // namespace mysqlclone
