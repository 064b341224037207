// Big-endian integer access. Every multi-byte field in InnoDB pages and redo headers is stored
// most-significant byte first, whatever the host.
#pragma once

#include <cstdint>
#include <cstring>

namespace innodb {

inline uint16_t read_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

inline uint32_t read_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

inline uint64_t read_be64(const uint8_t* p) { return uint64_t(read_be32(p)) << 32 | read_be32(p + 4); }

inline void write_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

inline void write_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

inline void write_be64(uint8_t* p, uint64_t v) {
  write_be32(p, uint32_t(v >> 32));
  write_be32(p + 4, uint32_t(v));
}

}  // namespace innodb
