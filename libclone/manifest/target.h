// The one lifecycle of every target, whatever command writes it:
//
//   begin_target     mysqlclone.json "in-progress" (and, where the stock server would otherwise
//                    start on a half-written copy, a start guard) before the first data byte
//   complete_target  after every byte is written: every file and directory durable, then the
//                    start guard removed, then mysqlclone.json "complete" — the very last write
//   fail_target      after an error: mysqlclone.json "failed" with the error line (on a full disk
//                    written over the "in-progress" one, which begin_target leaves room in)
//
// The start guard is the clone plugin's #clone/#status_in_progress: a MySQL server refuses a
// datadir holding it ("Incomplete cloned data directory") instead of starting on a datadir with
// no redo as if it were clean. A MariaDB backup needs none: the server refuses a datadir without
// ib_logfile0, which appears only at the end. `remote` keeps the guard of its own Clone hand-over.
//
// A reader (verify) calls check_target_finished(): an unfinished target of any kind is refused.
#pragma once

#include <chrono>
#include <string>

#include "libclone/base/status.h"
#include "libclone/io/storage.h"
#include "libclone/manifest/manifest.h"

namespace mysqlclone {

constexpr const char* kCloneDir = "#clone";
constexpr const char* kCloneInProgress = "#clone/#status_in_progress";

enum class StartGuard { kNone, kCloneInProgress };

Status begin_target(Storage& storage, Manifest& manifest, StartGuard guard);
Status complete_target(Storage& storage, Manifest& manifest, StartGuard guard);
// Best effort: the storage may be what failed.
void fail_target(Storage& storage, Manifest& manifest, const Status& error);

// kVerifyFailed when DIR is a target that is not finished: its mysqlclone.json says anything but
// "complete", or it still holds #clone/#status_in_progress (an interrupted clone, ours or the
// server's). Returns the manifest when there is one.
Result<std::optional<ManifestSummary>> check_target_finished(const std::string& dir);

// A target directory named for the run: every "{timestamp}" in `target_dir` becomes the run's
// start time in UTC, 20261203T142500Z (sorts by time; no characters a shell or unit file quotes).
std::string expand_target_timestamp(const std::string& target_dir, std::chrono::system_clock::time_point start);

}  // namespace mysqlclone
