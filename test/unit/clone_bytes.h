// Donor bytes built by hand for the Clone protocol tests, so each test states the wire layout
// independently of the parsers it checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mysqlclone::test {

using Bytes = std::vector<uint8_t>;

// Every method is kept out of line: inlined into one chain (Writer().le32(n).str(s)), GCC 12 at
// -O3 (Release) follows push_back's reallocation into the next insert with a stale buffer size
// and reports writes past its end (-Warray-bounds / -Wstringop-overflow false positives, which
// -Werror makes a failed build). Test helpers lose nothing by not being inlined.
struct Writer {
  Bytes b;
  [[gnu::noinline]] Writer& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  [[gnu::noinline]] Writer& le32(uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  [[gnu::noinline]] Writer& be16(uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  [[gnu::noinline]] Writer& be32(uint32_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  [[gnu::noinline]] Writer& be64(uint64_t v) {
    for (int i = 7; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  [[gnu::noinline]] Writer& raw(const Bytes& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  [[gnu::noinline]] Writer& str(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  [[gnu::noinline]] Writer& le_string(const std::string& s) { return le32(static_cast<uint32_t>(s.size())).str(s); }
};

}  // namespace mysqlclone::test
