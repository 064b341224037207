// The bytes one planned file restores to, produced in order, a chunk at a time, so that the same
// producer feeds a new file (append only) and the comparison of --delta with the file already
// there:
//   a whole file    its bytes as its backup holds them;
//   an overlaid one the full backup's copy cut to the smallest size any later backup saw (pages
//                   past it were dropped from the tablespace then), zeros up to the restored
//                   size, and each delta's pages that are still inside every later size, later
//                   deltas over earlier ones.
// Every source is checked: a delta page by its own checksums as it is read, a recorded SHA-256
// once the file is read to its end (finish()).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/command/restore/restore_plan.h"
#include "libclone/datadir/delta_file.h"
#include "libclone/io/read_file.h"
#include "libclone/io/sha256.h"

namespace mysqlclone {

class RestoredBytes {
 public:
  static Result<std::unique_ptr<RestoredBytes>> open(const OverlaidFile& file);
  static Result<std::unique_ptr<RestoredBytes>> open(const WholeFile& file);

  uint64_t size() const { return size_; }
  // The next chunk (at most 1 MiB; empty at the end), valid until the next call.
  Result<std::span<const uint8_t>> next();
  // After the last chunk: reads what of the source was not needed (a base longer than the
  // restored file) and checks the source against its recorded SHA-256.
  Status finish();
  uint64_t pages_overlaid() const { return pages_overlaid_; }  // delta pages put in so far
  // The SHA-256 of the output when it is known without hashing it: a whole file whose backup
  // records one (finish() checks the source against it); "" otherwise.
  std::string known_sha256() const {
    return layers_.empty() && keep_ == source_bytes_ && size_ == source_bytes_ ? source_sha256_ : "";
  }

 private:
  struct Layer {
    DeltaReader reader;
    uint64_t limit;  // its pages count only below this (every later backup's size)
    std::optional<DeltaPage> pending;
    bool ended = false;
  };
  RestoredBytes(ReadFile source, std::string source_sha256, uint64_t source_bytes, uint64_t keep, uint64_t size);
  Status overlay(std::span<uint8_t> chunk);

  ReadFile source_;  // the whole file, or the overlaid file's base
  std::string source_sha256_;
  uint64_t source_bytes_;
  uint64_t keep_;  // source bytes used; zeros from there to size_
  uint64_t size_;
  std::vector<Layer> layers_;
  uint64_t offset_ = 0;  // of the next chunk
  uint64_t hashed_ = 0;  // source bytes hashed so far
  uint64_t pages_overlaid_ = 0;
  Sha256 hash_;
  AlignedBuffer buffer_;
};

}  // namespace mysqlclone
