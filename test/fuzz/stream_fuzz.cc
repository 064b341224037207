// libFuzzer target for the stream reader (libclone/io/stream_format.h): everything `extract`
// parses from an untrusted stream. Built and run by tools/fuzz.sh. The first byte picks a mode
// (mod 4) and the reader (bit 2: one thread, or two that check, decrypt and decompress bodies
// ahead of the records returned, extract's path):
//   0, 1  the rest is a stream as it is, read without / with the fuzz key;
//   2, 3  the rest describes records ([type][codec][plain size u32][length u16][body]...) that
//         an Encoder seals with valid frames, checksums and (3) encryption, then an end record:
//         the fuzzer reaches the body parsers, the decompressors and the file bookkeeping that
//         checksums would otherwise keep it from.
// Besides "no crash, no sanitizer report", it checks what matters for safety: every path the
// reader accepts stays inside the target directory, and nothing is returned after a failure.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "libclone/io/stream_format.h"

namespace {
using namespace mysqlclone;

void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "stream_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

SecretKey fuzz_key() {
  KeyBytes k;
  k.fill(0x5a);
  return SecretKey(k);
}

void check_path(const std::string& path) {
  if (path.empty()) return;
  const std::filesystem::path root = "/nonexistent/dir";
  const std::filesystem::path normal = (root / path).lexically_normal();
  if (normal.string().rfind("/nonexistent/dir/", 0) != 0 || normal == root)
    fail("path escapes the target directory", path);
}

void read_all(std::span<const uint8_t> bytes, bool with_key, unsigned threads) {
  stream::Reader reader(stream::memory_input(bytes), with_key ? std::optional<SecretKey>(fuzz_key()) : std::nullopt,
                        threads);
  if (!reader.open().is_ok()) return;
  while (true) {
    auto r = reader.next();
    if (!r.is_ok()) {
      if (reader.next().is_ok()) fail("a record after a failure", r.status().message());
      return;
    }
    check_path(r->path);
    check_path(r->to);
    if (r->type == stream::RecordType::kEnd) {
      if (reader.position() != bytes.size()) fail("end accepted before the input ended", std::to_string(reader.position()));
      return;
    }
  }
}

// Mode 2/3: records sealed by an Encoder from the fuzzer's descriptions.
std::vector<uint8_t> sealed(std::span<const uint8_t> in, bool with_key) {
  stream::Settings settings;
  if (with_key) settings.key.emplace(fuzz_key());
  stream::Encoder encoder(std::move(settings));
  std::vector<uint8_t> out = encoder.preamble();
  const auto append = [&](const stream::Packed& p) {
    out.insert(out.end(), p.frame.begin(), p.frame.end());
    out.insert(out.end(), p.body.begin(), p.body.end());
  };
  for (uint64_t seq = 1; in.size() >= 8; ++seq) {
    const auto type = stream::RecordType(in[0] % 12);
    const auto codec = Codec(in[1] % 3);
    uint32_t plain_size = uint32_t(in[2]) | uint32_t(in[3]) << 8 | uint32_t(in[4]) << 16 | uint32_t(in[5]) << 24;
    const size_t n = std::min<size_t>(in.size() - 8, size_t(in[6]) | size_t(in[7]) << 8);
    std::vector<uint8_t> body(in.begin() + 8, in.begin() + 8 + long(n));
    if (codec == Codec::kStored) plain_size = uint32_t(body.size());
    const stream::Packed p = encoder.frame_body(type, codec, plain_size, std::move(body), seq);
    encoder.seal(p);
    append(p);
    in = in.subspan(8 + n);
  }
  append(encoder.end());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  const unsigned threads = data[0] & 4 ? 2 : 1;
  switch (data[0] % 4) {
    case 0: read_all(rest, false, threads); break;
    case 1: read_all(rest, true, threads); break;
    case 2: read_all(sealed(rest, false), false, threads); break;
    case 3: read_all(sealed(rest, true), true, threads); break;
  }
  return 0;
}
