// MariaDB 10.8+ redo log (ib_logfile0): the file header, the two checkpoint blocks, the circular
// data area and the mini-transactions in it; and the pieces of the fresh ib_logfile0 a restore
// hands to the stock server (first_lsn = the backup's checkpoint, data re-laid from 12288).
// Layout: ../shared/docs/innodb-formats.md §3.3, §4.3, §5.3–5.4; MariaDB log0log.h (log_t),
// log0recv.cc (recv_sys_t::find_checkpoint, log_parse_start, parse_tail, log_parse_file),
// mtr0types.h (record encoding), log0crypt.cc (encryption header).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "innodb/page.h"

namespace innodb::mariadb_redo {

// File layout.
constexpr size_t kHeaderSize = 512;            // file header; CRC-32C of bytes 0..507 at 508
constexpr size_t kCheckpointBlock1 = 0x1000;
constexpr size_t kCheckpointBlock2 = 0x2000;
constexpr size_t kCheckpointBlockSize = 64;    // CRC-32C of bytes 0..59 at 60
constexpr size_t kStartOffset = 12288;         // START_OFFSET: the circular data area starts here,
                                               // and no first_lsn is smaller (FIRST_LSN)

// Values of the header's format field the servers accept for this format.
// Encryption is not a bit of the format: 10.8 up to the 10.11 releases before MDEV-36024 write
// kFormat10_8 and mark an encrypted log by the key id at offset 48 (the 0xD0687973 that MariaDB
// calls FORMAT_ENC_10_8 only exists in memory); releases with MDEV-36024 (10.11.19 seen, 11.x)
// write kFormatEnc11 for an encrypted log.
constexpr uint32_t kFormat10_8 = 0x50687973;   // "Phys"
constexpr uint32_t kFormatEnc11 = 0xF09F979D;  // UTF-8 of U+1F5DD OLD KEY

// A mini-transaction (mtr) never reaches this size (recv_sys_t::MTR_SIZE_MAX); record lengths
// that add up to it mark bytes that are not a mini-transaction.
constexpr size_t kMtrSizeMax = size_t{1} << 20;

// ------------------------------------------------------------------------------------------------
// Header and checkpoint blocks

enum class Encryption : uint8_t {
  kNone,
  kEnc10_8,  // kFormat10_8 + key id at 48: record payloads encrypted, page ids and FILE_ records
             // in clear; 8-byte nonce before each CRC
  kEnc11,    // kFormatEnc11: everything but each record's type and length bytes encrypted
             // (FILE_ records included); 8-byte nonce before each CRC
};

struct Header {
  uint32_t format = kFormat10_8;
  Lsn first_lsn = kStartOffset;  // the LSN stored at offset 12288 on the first pass over the ring
  std::string creator;           // "MariaDB 10.11.19", "Backup 10.11.19", ...; at most 32 bytes
  // Bytes 48..507 as found: when encrypted, key id (1), key version, a 16-byte message and a
  // 4-byte nonce (log_crypt_write_header), then zeros; all zero otherwise. Kept verbatim so that
  // a header we write carries the source's encryption parameters.
  std::array<uint8_t, 460> encryption_area{};
};

Encryption encryption_of(const Header& header);

// Why a header is refused; the first failing check in the server's order.
enum class HeaderStatus : uint8_t {
  kValid,
  kTooShort,            // fewer than kHeaderSize bytes
  kChecksumMismatch,
  kUnsupportedFormat,   // neither kFormat10_8 nor kFormatEnc11 (older formats included)
  kReservedNotZero,     // bytes 4..7
  kFirstLsnTooSmall,    // first_lsn < kStartOffset
  kBadEncryptionInfo,   // encrypted, but the key id at 48 is not 1
};

struct ParsedHeader {
  HeaderStatus status = HeaderStatus::kTooShort;
  Header header;  // filled in when status == kValid
};

// `file_start`: the first kHeaderSize (or more) bytes of ib_logfile0.
ParsedHeader parse_header(std::span<const uint8_t> file_start);

// The header's 512 bytes, CRC included. The creator is cut to 32 bytes.
std::array<uint8_t, kHeaderSize> serialize_header(const Header& header);

struct Checkpoint {
  Lsn checkpoint = 0;  // recovery starts here
  Lsn end_lsn = 0;     // start of the mini-transaction written for this checkpoint: a FILE_MODIFY
                       // per tablespace changed since `checkpoint`, then FILE_CHECKPOINT naming it
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// One 64-byte block; nullopt when the server would ignore it (CRC, bytes 16..59 not zero,
// checkpoint < first_lsn, end_lsn < checkpoint).
std::optional<Checkpoint> parse_checkpoint_block(std::span<const uint8_t> block, Lsn first_lsn);

std::array<uint8_t, kCheckpointBlockSize> serialize_checkpoint_block(const Checkpoint& checkpoint);

// The checkpoint recovery uses: of the valid blocks at 0x1000 and 0x2000, the one with the larger
// checkpoint LSN, the one at 0x2000 on a tie. `header_area`: at least the first
// kCheckpointBlock2 + kCheckpointBlockSize bytes of the file.
std::optional<Checkpoint> choose_checkpoint(std::span<const uint8_t> header_area, Lsn first_lsn);

// ------------------------------------------------------------------------------------------------
// The circular data area

struct Ring {
  Lsn first_lsn = kStartOffset;
  uint64_t capacity = 0;  // file size - kStartOffset
};

constexpr uint64_t ring_capacity(uint64_t file_size) {
  return file_size > kStartOffset ? file_size - kStartOffset : 0;
}

// Where the byte of `lsn` is in the file. Needs lsn >= first_lsn and capacity > 0.
constexpr uint64_t file_offset(const Ring& ring, Lsn lsn) {
  return kStartOffset + (lsn - ring.first_lsn) % ring.capacity;
}

// The terminator byte a mini-transaction ending at `lsn` carries: 1 on the first pass over the
// ring (so that a zero-filled file reads as "end of log"), 0 on the second, and so on.
// It only tells adjacent passes apart: a reader lapped twice sees valid-looking old data (§4.3).
constexpr uint8_t sequence_bit(const Ring& ring, Lsn lsn) {
  return ((lsn - ring.first_lsn) / ring.capacity) % 2 == 0 ? 1 : 0;
}

// ------------------------------------------------------------------------------------------------
// Mini-transactions

// FILE_ records: the records with same_page = 1 at the start of a mini-transaction.
enum class FileOp : uint8_t {
  kCreate = 0x80,
  kDelete = 0x90,
  kRename = 0xA0,
  kModify = 0xB0,      // first change to a tablespace after a checkpoint (names its file)
  kCheckpoint = 0xF0,  // end of the log written for a checkpoint
};

// The page number of a FILE_ record is always 0 (anything else is corrupt), so it is not kept.
struct FileRecord {
  FileOp op = FileOp::kModify;
  bool encrypted = false;  // Encryption::kEnc11: only `op` is known, the fields below are unset
  SpaceId space_id = 0;    // 0 for kCheckpoint
  Lsn checkpoint_lsn = 0;  // kCheckpoint
  std::string name;        // kCreate, kDelete, kModify; kRename: the old name ("./db/t.ibd")
  std::string new_name;    // kRename
};

enum class MtrStatus : uint8_t {
  kComplete,       // records, terminator == sequence bit, CRC-32C matches
  kNeedMore,       // the view ends inside the mini-transaction: retry with more bytes
  kNotWrittenYet,  // these bytes are not a mini-transaction of this pass: the end of the log
  kCorrupt,        // terminator and CRC fine, but a FILE_ record is malformed (the server would
                   // stop recovery on it too)
};

enum class MtrDefect : uint8_t {
  kNone,
  kEmpty,               // a terminator byte (0x00/0x01) where the first record should start
  kBadLength,           // a record length the server rejects (>= kMtrSizeMax or a 4+ byte code)
  kTooLong,             // the records reach kMtrSizeMax without a terminator
  kTerminatorMismatch,  // the terminator is the other pass's sequence bit
  kChecksumMismatch,
  kBadFileRecord,       // with kCorrupt
};

struct MiniTransaction {
  MtrStatus status = MtrStatus::kNeedMore;
  MtrDefect defect = MtrDefect::kNone;
  size_t size = 0;               // kComplete, kCorrupt: records + terminator [+ nonce] + CRC
  size_t terminator_offset = 0;  // kComplete, kCorrupt: from the first byte
  std::vector<FileRecord> file_records;  // kComplete: in log order (padding records left out)
};

// Parses the mini-transaction at the start of `view`, whose first byte has LSN `lsn`. The caller
// assembles `view` from the ring (it may cross the wrap point: the sequence bit expected at each
// position comes from `ring`); `encryption` from the header (it adds the 8-byte nonce).
MiniTransaction parse_mini_transaction(std::span<const uint8_t> view, Lsn lsn, const Ring& ring,
                                       Encryption encryption);

// Whether `mtr` holds the FILE_CHECKPOINT naming `checkpoint`, which recovery requires to find at
// or after the checkpoint. Always false for Encryption::kEnc11, whose FILE_ records are encrypted.
bool holds_file_checkpoint(const MiniTransaction& mtr, Lsn checkpoint);

// ------------------------------------------------------------------------------------------------
// Writing the ib_logfile0 of a restore (§5.4): the mini-transactions from checkpoint C on, laid
// out from offset 12288 of a file whose first_lsn is C, so that nothing wraps and every byte is on
// the first pass.

// Sets the terminator of a copy of `mtr`'s bytes to the first pass's sequence bit (1). The CRC
// does not cover the terminator and the terminator is never encrypted, so nothing else changes.
void set_first_pass_terminator(std::span<uint8_t> mtr_copy, const MiniTransaction& mtr);

// The kStartOffset bytes before the data: a header like `source`'s (format and encryption area
// copied) with first_lsn = checkpoint.checkpoint and creator "Backup " + server_version (which
// makes the server tolerate missing #sql tables, as after mariabackup), the checkpoint block at
// 0x1000, and zeros elsewhere (the zero block at 0x2000 fails its CRC and is ignored).
std::vector<uint8_t> backup_header_area(const Header& source, const Checkpoint& checkpoint,
                                        std::string_view server_version);

// Size of an ib_logfile0 holding `data_bytes` of re-laid log: kStartOffset + data + slack, rounded
// up to 1 MiB. The slack (at least 4 KiB) keeps zero bytes after the last mini-transaction inside
// the file: no record starts with 0x00, so recovery reads "end of log" there.
uint64_t backup_file_size(uint64_t data_bytes, uint64_t slack);

}  // namespace innodb::mariadb_redo
