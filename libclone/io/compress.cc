#include "libclone/io/compress.h"

#include <lz4.h>
#include <zstd.h>

#include <limits>

#include "libclone/base/text.h"

namespace mysqlclone {

constexpr int kMaxZstdLevel = 19;

Result<Compression> parse_compression(const std::string& text) {
  if (text == "lz4") return Compression{Codec::kLz4, 0};
  if (text == "zstd") return Compression{Codec::kZstd, 1};
  if (text.starts_with("zstd:")) {
    const std::string level = text.substr(5);
    if (!level.empty() && level.size() <= 2 && level.find_first_not_of("0123456789") == std::string::npos) {
      const int n = std::stoi(level);
      if (n >= 1 && n <= kMaxZstdLevel) return Compression{Codec::kZstd, n};
    }
  }
  return Status::error(ExitCode::kUsage, "--compress " + printable(text) +
                                             ": must be zstd, zstd:LEVEL (LEVEL 1 to 19) or lz4");
}

std::string compression_name(const Compression& c) {
  switch (c.codec) {
    case Codec::kStored: return "none";
    case Codec::kZstd: return "zstd:" + std::to_string(c.level);
    case Codec::kLz4: return "lz4";
  }
  return "unknown";
}

namespace {

struct ZstdContexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};

// One pair per thread: a context keeps its tables between chunks.
ZstdContexts& zstd_contexts() {
  thread_local ZstdContexts contexts;
  return contexts;
}

}  // namespace

std::vector<uint8_t> compress(const Compression& c, std::span<const uint8_t> plain) {
  std::vector<uint8_t> out;
  if (plain.empty()) return out;
  size_t n = 0;
  if (c.codec == Codec::kZstd) {
    out.resize(ZSTD_compressBound(plain.size()));
    n = ZSTD_compressCCtx(zstd_contexts().c, out.data(), out.size(), plain.data(), plain.size(), c.level);
    if (ZSTD_isError(n)) n = 0;
  } else if (c.codec == Codec::kLz4 && plain.size() <= size_t(LZ4_MAX_INPUT_SIZE)) {
    out.resize(size_t(LZ4_compressBound(int(plain.size()))));
    const int r = LZ4_compress_default(reinterpret_cast<const char*>(plain.data()), reinterpret_cast<char*>(out.data()),
                                       int(plain.size()), int(out.size()));
    n = r > 0 ? size_t(r) : 0;
  }
  out.resize(n < plain.size() ? n : 0);
  return out;
}

Result<std::vector<uint8_t>> decompress(Codec codec, std::span<const uint8_t> packed, size_t plain_size) {
  std::vector<uint8_t> out(plain_size);
  if (codec == Codec::kZstd) {
    const size_t n = ZSTD_decompressDCtx(zstd_contexts().d, out.data(), out.size(), packed.data(), packed.size());
    if (ZSTD_isError(n)) return Status::error(ExitCode::kVerifyFailed, std::string("zstd: ") + ZSTD_getErrorName(n));
    if (n != plain_size) return Status::error(ExitCode::kVerifyFailed, "zstd: the chunk has the wrong size");
    return out;
  }
  if (codec == Codec::kLz4) {
    if (packed.size() > size_t(std::numeric_limits<int>::max()) || plain_size > size_t(LZ4_MAX_INPUT_SIZE))
      return Status::error(ExitCode::kVerifyFailed, "lz4: chunk too large");
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(packed.data()), reinterpret_cast<char*>(out.data()),
                                      int(packed.size()), int(out.size()));
    if (n < 0 || size_t(n) != plain_size) return Status::error(ExitCode::kVerifyFailed, "lz4: the chunk does not decompress");
    return out;
  }
  return Status::error(ExitCode::kVerifyFailed, "unknown compression " + std::to_string(int(codec)));
}

}  // namespace mysqlclone
