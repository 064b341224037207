// Small text helpers: numbers parsed with every failure checked, and names or foreign text made
// safe for a one-line human message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libclone/base/status.h"

namespace mysqlclone {

// `text` as an unsigned decimal number: all of it digits, no sign or space, within `max`.
// Anything else fails with `code` naming `what` and the text as it was
// ("the server's Innodb_lsn_current is not a whole number from 0 to 18446744073709551615: '12x'").
Result<uint64_t> parse_u64(std::string_view text, std::string_view what, uint64_t max = UINT64_MAX,
                           ExitCode code = ExitCode::kInternal);

// `text` (a file name, a donor's words) for a human line: control bytes, DEL and every byte of
// 0x80 and above written as \xNN, so the line stays one line, terminal-safe and valid UTF-8
// whatever the bytes were. With `max_shown` (a name a hostile donor chose), at most that many
// bytes of it, then how long it was.
std::string printable(std::string_view text, size_t max_shown = std::string_view::npos);

// Whether `text` is one or more ASCII digits (ibdata2, undo_001, binlog.000001).
bool all_digits(std::string_view text);

// A byte count for people: "512 B", "1.5 MiB", "2.0 TiB".
std::string human_bytes(double bytes);

}  // namespace mysqlclone
