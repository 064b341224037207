// CRC-32C (Castagnoli), the checksum of InnoDB pages (crc32 and full_crc32) and redo blocks.
// None of the approved libraries exposes CRC-32C (zlib's crc32 is another polynomial), so this
// is the one piece of checksum code we own: SSE4.2 when the CPU has it, a table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace innodb {

// CRC-32C of `len` bytes, continuing from a previous result `crc` (0 to start).
// crc32c(0, "123456789", 9) == 0xE3069283.
uint32_t crc32c(uint32_t crc, const void* data, size_t len);

// MySQL's "legacy big-endian" CRC-32C variant: pages written by MySQL 5.6 on big-endian hosts.
// The server fed each 8-byte word of its input to the CRC with its bytes swapped; words were
// taken at 8-byte-aligned addresses, bytes before the first and after the last aligned word
// one at a time. `base_misalignment` is (address of data) mod 8 in that server's buffer; page
// buffers are aligned, so it is the data's offset within the page mod 8.
uint32_t crc32c_legacy_big_endian(const void* data, size_t len, unsigned base_misalignment);

// The table-driven implementation (machines without SSE4.2; also checks the fast path in tests).
uint32_t crc32c_portable(uint32_t crc, const void* data, size_t len);

// Whether the hardware path is in use (for diagnostics and benchmarks).
bool crc32c_hardware();

}  // namespace innodb
