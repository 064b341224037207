// `mysqlclone extract`: replays a stream (libclone/io/stream_format.h) into a directory, which
// then holds exactly what `local --target-dir` would have written: the same files, the same
// mysqlclone.json, and a datadir the stock server starts on.
//
// A stream is untrusted input: every record is checked before it touches DIR, and DIR is never
// left startable by a stream that is cut, damaged, reordered, spliced or opened with the wrong
// key. The target lifecycle (manifest/target.h) is kept: DIR is "in-progress" from the start and
// "failed" after an error. The last steps of the copy (the names that make the datadir startable:
// ib_logfile0 renamed into place, the #clone guard removed, mysqlclone.json "complete") are
// records after the last file record; extract holds every such name operation until the next
// file record or, for the last ones, until the end record has proven the whole stream.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/io/byte_stream.h"
#include "libclone/manifest/manifest.h"

namespace mysqlclone {

struct ExtractOptions {
  std::string target_dir;
  std::string input;     // a file; empty or "-": standard input
  std::string key_file;  // empty: the stream is not encrypted
  unsigned parallel = 0;  // threads that decrypt and decompress; 0: one per CPU, at least 2
};

struct ExtractProgress {
  std::atomic<uint64_t> done_bytes{0};   // stream bytes read
  std::atomic<uint64_t> total_bytes{0};  // the input's size when it is a file, else 0
};

struct ExtractResult {
  std::string target_dir;
  uint64_t stream_bytes = 0;
  uint64_t files = 0;
  uint64_t data_bytes = 0;
  bool encrypted = false;
  double seconds = 0;
  std::optional<ManifestSummary> manifest;  // DIR/mysqlclone.json as the stream wrote it
  // How to make the copy a replica, as the stream's manifest says (mysqlclone.json "replication");
  // null when it has none.
  nlohmann::json replication;
};

// kVerifyFailed for a damaged, cut or wrong-key stream (DIR is then marked failed and never
// startable), kUsage for a missing or needless key, kPath for DIR, kNetwork for reading the
// input, kInterrupted on a signal.
Result<ExtractResult> run_extract(const ExtractOptions& options, ExtractProgress& progress);
// The same from `input` (a peer connection: receive.h); options.input is not used.
Result<ExtractResult> extract_from(const ExtractOptions& options, ByteSource& input, ExtractProgress& progress);

}  // namespace mysqlclone
