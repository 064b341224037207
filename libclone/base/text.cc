#include "libclone/base/text.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace mysqlclone {

Result<uint64_t> parse_u64(std::string_view text, std::string_view what, uint64_t max, ExitCode code) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  // from_chars takes no sign or space, but it stops quietly at the first non-digit: the whole
  // text must be consumed.
  const auto [at, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || at != end || value > max)
    return Status::error(code, fmt::format("{} is not a whole number from 0 to {}: '{}'", what, max, printable(text)));
  return value;
}

std::string printable(std::string_view text, size_t max_shown) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += text[i];
  }
  if (text.size() > max_shown) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

}  // namespace mysqlclone
