#include "innodb/page.h"

#include <cstring>

namespace innodb {

bool is_all_zero(std::span<const uint8_t> bytes) {
  // Compare 8 bytes at a time; pages are large and mostly checked on the hot path.
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (w) return false;
    p += 8;
    n -= 8;
  }
  while (n--)
    if (*p++) return false;
  return true;
}

}  // namespace innodb
