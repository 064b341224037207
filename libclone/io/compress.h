// Compression of a stream's chunks (stream_format.h): zstd (levels 1..19, default 1) and lz4.
// Pure functions over bytes; each call is independent, so copy threads compress in parallel.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "libclone/base/status.h"

namespace mysqlclone {

// The values are written in the stream: never renumber.
enum class Codec : uint8_t { kStored = 0, kZstd = 1, kLz4 = 2 };

struct Compression {
  Codec codec = Codec::kStored;
  int level = 0;  // zstd only
};

// "zstd", "zstd:LEVEL" (1..19) or "lz4"; kUsage naming the value otherwise.
Result<Compression> parse_compression(const std::string& text);
std::string compression_name(const Compression& c);

// `plain` compressed with `c`. Empty when compressing does not make it smaller (the chunk is
// then stored as it is).
std::vector<uint8_t> compress(const Compression& c, std::span<const uint8_t> plain);

// Exactly `plain_size` bytes out of `packed`, or why not (the caller names where).
Result<std::vector<uint8_t>> decompress(Codec codec, std::span<const uint8_t> packed, size_t plain_size);

}  // namespace mysqlclone
