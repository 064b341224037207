#include "innodb/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace innodb {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78u;

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes.
struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b;
      for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1) ? kPolyReflected : 0);
      t[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; ++b)
      for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
};
constexpr Tables kTables;

// Raw (non-inverted) state updates.
inline uint32_t step_byte_sw(uint32_t s, uint8_t b) { return (s >> 8) ^ kTables.t[0][(s ^ b) & 0xFF]; }

inline uint32_t step_word_sw(uint32_t s, uint64_t w) {
  // w holds 8 input bytes in little-endian order (first input byte in the low bits).
  uint64_t x = w ^ s;
  return kTables.t[7][x & 0xFF] ^ kTables.t[6][(x >> 8) & 0xFF] ^ kTables.t[5][(x >> 16) & 0xFF] ^
         kTables.t[4][(x >> 24) & 0xFF] ^ kTables.t[3][(x >> 32) & 0xFF] ^
         kTables.t[2][(x >> 40) & 0xFF] ^ kTables.t[1][(x >> 48) & 0xFF] ^ kTables.t[0][x >> 56];
}

// GF(2) 32x32 matrix helpers for shifting a raw CRC state over zero bytes.
using Matrix = std::array<uint32_t, 32>;

uint32_t mat_times(const Matrix& m, uint32_t v) {
  uint32_t r = 0;
  for (int i = 0; v; ++i, v >>= 1)
    if (v & 1) r ^= m[i];
  return r;
}

Matrix mat_square(const Matrix& m) {
  Matrix r{};
  for (int i = 0; i < 32; ++i) r[i] = mat_times(m, m[i]);
  return r;
}

// Operator for one zero byte, then squared up: kZeroOps[k] shifts over 2^k bytes.
struct ZeroOps {
  std::array<Matrix, 40> op{};
  ZeroOps() {
    Matrix bit{};  // one zero bit
    bit[0] = kPolyReflected;
    for (int i = 1; i < 32; ++i) bit[i] = 1u << (i - 1);
    Matrix m = mat_square(mat_square(mat_square(bit)));  // 8 bits = one byte
    for (auto& o : op) {
      o = m;
      m = mat_square(m);
    }
  }
};

// Shifts a raw CRC state over `zero_bytes` zero bytes (used to join parallel streams).
uint32_t crc32c_shift(uint32_t state, size_t zero_bytes) {
  static const ZeroOps ops;
  for (int k = 0; zero_bytes; ++k, zero_bytes >>= 1)
    if (zero_bytes & 1) state = mat_times(ops.op[k], state);
  return state;
}

// crc32c_shift over a fixed number of zero bytes, as four byte lookups: the shift is linear over
// GF(2), so the state's bytes are shifted apart and XORed. The matrix product costs as much as
// the CRC of a kilobyte; joining the hardware loop's three streams does it twice per 3 KiB.
struct FixedShift {
  std::array<std::array<uint32_t, 256>, 4> t{};
  explicit FixedShift(size_t zero_bytes) {
    for (int k = 0; k < 4; ++k)
      for (uint32_t b = 0; b < 256; ++b) t[k][b] = crc32c_shift(b << (8 * k), zero_bytes);
  }
  uint32_t operator()(uint32_t s) const {
    return t[0][s & 0xFF] ^ t[1][(s >> 8) & 0xFF] ^ t[2][(s >> 16) & 0xFF] ^ t[3][s >> 24];
  }
};

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) inline uint32_t step_byte_hw(uint32_t s, uint8_t b) {
  return _mm_crc32_u8(s, b);
}
__attribute__((target("sse4.2"))) inline uint32_t step_word_hw(uint32_t s, uint64_t w) {
  return uint32_t(_mm_crc32_u64(s, w));
}
__attribute__((target("sse4.2"))) uint32_t update_hw(uint32_t s, const uint8_t* p, size_t n) {
  // Three independent streams hide the 3-cycle latency of the crc32 instruction.
  constexpr size_t kBlock = 1024;
  static const FixedShift over_one(kBlock), over_two(2 * kBlock);
  while (n >= 3 * kBlock) {
    uint64_t s0 = s, s1 = 0, s2 = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kBlock + i, 8);
      std::memcpy(&w2, p + 2 * kBlock + i, 8);
      s0 = _mm_crc32_u64(s0, w0);
      s1 = _mm_crc32_u64(s1, w1);
      s2 = _mm_crc32_u64(s2, w2);
    }
    // The raw CRC register is linear: the state after A|B|C equals state(A) shifted over
    // |B|+|C| zero bytes, XOR state(B from 0) shifted over |C|, XOR state(C from 0).
    s = over_two(uint32_t(s0)) ^ over_one(uint32_t(s1)) ^ uint32_t(s2);
    p += 3 * kBlock;
    n -= 3 * kBlock;
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    s = step_word_hw(s, w);
    p += 8;
    n -= 8;
  }
  while (n--) s = step_byte_hw(s, *p++);
  return s;
}
#endif

uint32_t update_sw(uint32_t s, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    s = step_word_sw(s, w);
    p += 8;
    n -= 8;
  }
  while (n--) s = step_byte_sw(s, *p++);
  return s;
}

bool detect_hardware() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}
const bool kHardware = detect_hardware();

}  // namespace

uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t s = ~crc;
#if defined(__x86_64__)
  s = kHardware ? update_hw(s, p, len) : update_sw(s, p, len);
#else
  s = update_sw(s, p, len);
#endif
  return ~s;
}

uint32_t crc32c_legacy_big_endian(const void* data, size_t len, unsigned base_misalignment) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t s = ~0u;
  unsigned mis = base_misalignment & 7;
  while (len && mis) {  // leading bytes up to the first aligned word
    s = step_byte_sw(s, *p++);
    --len;
    mis = (mis + 1) & 7;
  }
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    s = step_word_sw(s, __builtin_bswap64(w));
    p += 8;
    len -= 8;
  }
  while (len--) s = step_byte_sw(s, *p++);
  return ~s;
}

uint32_t crc32c_portable(uint32_t crc, const void* data, size_t len) {
  return ~update_sw(~crc, static_cast<const uint8_t*>(data), len);
}

bool crc32c_hardware() { return kHardware; }

}  // namespace innodb
