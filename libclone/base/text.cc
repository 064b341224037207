#include "libclone/base/text.h"

#include <fmt/format.h>

namespace mysqlclone {

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

}  // namespace mysqlclone
