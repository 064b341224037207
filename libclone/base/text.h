// Small text helpers: names or foreign text made safe for a one-line human message.
#pragma once

#include <string>
#include <string_view>

namespace mysqlclone {

// `text` (a file name, a donor's words) for a human line: control bytes, DEL and every byte of
// 0x80 and above written as \xNN, so the line stays one line, terminal-safe and valid UTF-8
// whatever the bytes were. With `max_shown` (a name a hostile donor chose), at most that many
// bytes of it, then how long it was.
std::string printable(std::string_view text, size_t max_shown = std::string_view::npos);

}  // namespace mysqlclone
