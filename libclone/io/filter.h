// A Filter is one stage of the chain every copied byte passes through on its way from a Source
// to a Storage: Source → [page check] → [hash] → [throttle] → Storage. (Compression and
// encryption change a chunk's size and are bound to its place in a stream: a stream Storage
// applies them per chunk, after these filters; see stream_format.h.) A filter sees a file chunk by
// chunk; it may look at them, change them in place, or stop the copy with an error. The hash sees
// a file's chunks in order; the page check and the throttle judge each chunk alone (threads that
// share a large file run them side by side: file_copy.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/io/sha256.h"
#include "libclone/io/throttle.h"

namespace mysqlclone {

class Filter {
 public:
  virtual ~Filter() = default;
  // The next chunk of the file, which starts at byte `offset`.
  virtual Status process(uint64_t offset, std::span<uint8_t> bytes) = 0;
};

// SHA-256 of everything that passes: the per-file checksum `verify` checks a backup against.
class HashFilter : public Filter {
 public:
  Status process(uint64_t, std::span<uint8_t> bytes) override {
    hash_.update(bytes);
    return Status::ok();
  }
  std::string hex_digest() { return hash_.hex_digest(); }  // once, at the end

 private:
  Sha256 hash_;
};

// Holds the chain back to the command's --max-rate.
class ThrottleFilter : public Filter {
 public:
  explicit ThrottleFilter(Throttle& throttle) : throttle_(throttle) {}
  Status process(uint64_t, std::span<uint8_t> bytes) override { return throttle_.take(bytes.size()); }

 private:
  Throttle& throttle_;
};

// Runs `bytes` through every filter in order; the first failure stops the chain.
inline Status run_filters(const std::vector<Filter*>& chain, uint64_t offset, std::span<uint8_t> bytes) {
  for (Filter* f : chain)
    if (Status s = f->process(offset, bytes); !s.is_ok()) return s;
  return Status::ok();
}

}  // namespace mysqlclone
