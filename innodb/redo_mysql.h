// The MySQL 8.0.30+ redo log (#innodb_redo/#ib_redoN, format 6): file header, checkpoint and
// data blocks; how a reader tailing a live server tells a finished block from one not written
// yet or already recycled; and the pieces for writing a one-file #ib_redo0 that a stock server
// recovers from. Layout and rules: ../shared/docs/innodb-formats.md §3.1, §4.2, §5.1–5.2
// (MySQL log0constants.h, log0files_io.h/.cc, log0recv.cc, log0log.cc). Pure functions over
// bytes; every 512-byte block is passed as a fixed-size span so its length needs no checking.
//
// The log of a restore may span several files #ib_redo0…k with contiguous LSN ranges: MySQL
// 9.7.4 recovers such a set (seen: 4 files of 16 MiB, 50 files of 1 MiB — more than the 32 it
// keeps itself — with or without FILE_FULL on all but the newest).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "innodb/page.h"

namespace innodb::mysql_redo {

// ---- Geometry ------------------------------------------------------------------------------

constexpr size_t kBlockSize = 512;
using ConstBlock = std::span<const uint8_t, kBlockSize>;
using MutableBlock = std::span<uint8_t, kBlockSize>;

// Blocks 0..3 of every file: file header, checkpoint 1, encryption header, checkpoint 2. The
// byte at file offset kHeaderAreaSize holds the file's start_lsn.
constexpr size_t kHeaderAreaSize = 4 * kBlockSize;
constexpr size_t kCheckpoint1Offset = 1 * kBlockSize;
constexpr size_t kEncryptionBlockOffset = 2 * kBlockSize;
constexpr size_t kCheckpoint2Offset = 3 * kBlockSize;

// Every block (header or data) ends with the CRC-32C of its first 508 bytes.
constexpr size_t kBlockChecksumOffset = kBlockSize - 4;

// LSN at which the log of a freshly initialized instance begins; no file starts below it.
constexpr Lsn kLogStartLsn = 8192;

// The LSN of the first byte of the block holding `lsn`.
constexpr Lsn block_start_of(Lsn lsn) { return lsn - lsn % kBlockSize; }

// ---- File header (block 0) -----------------------------------------------------------------

constexpr uint32_t kFormat8030 = 6;  // every format-6 server through 9.x
constexpr size_t kMaxCreatorLength = 31;

constexpr uint32_t kFlagNoLogging = 0x1;       // ALTER INSTANCE DISABLE INNODB REDO_LOG
constexpr uint32_t kFlagCrashUnsafe = 0x2;     // the server refuses crash recovery
constexpr uint32_t kFlagNotInitialized = 0x4;  // file still being created: the server recreates the log
constexpr uint32_t kFlagFileFull = 0x8;        // the server has moved on to the next file

struct FileHeader {
  uint32_t format = kFormat8030;
  uint32_t log_uuid = 0;  // shared by all files of one redo log
  Lsn start_lsn = 0;      // LSN of the byte at kHeaderAreaSize; a multiple of kBlockSize
  std::string creator;    // "MySQL 9.7.4"; at most kMaxCreatorLength bytes
  uint32_t flags = 0;
};

// nullopt when the block's checksum does not match.
std::optional<FileHeader> parse_file_header(ConstBlock block);

// Writes block 0. False (block untouched) when the creator is empty, longer than
// kMaxCreatorLength or contains a NUL: the field is NUL-terminated and the server asserts it
// non-empty.
[[nodiscard]] bool serialize_file_header(const FileHeader& header, MutableBlock block);

// ---- Checkpoint blocks (1 and 3) -----------------------------------------------------------

// The checkpoint LSN, or nullopt when the checksum does not match. 0 is a valid value (a slot
// never used in this file).
std::optional<Lsn> parse_checkpoint_block(ConstBlock block);
void serialize_checkpoint_block(Lsn checkpoint_lsn, MutableBlock block);

// ---- Data blocks ---------------------------------------------------------------------------

constexpr size_t kBlockHeaderSize = 12;           // hdr_no, data_len, first_rec_group, epoch_no
constexpr uint32_t kHdrNoMask = 0x7FFFFFFF;       // bit 31 was the "first block of a write" flag
constexpr uint32_t kBlocksPerEpoch = 1u << 30;    // hdr_no runs 1..2^30, then epoch_no steps
constexpr uint16_t kDataLenEncrypted = 0x8000;    // bytes 12..511 are AES-encrypted

struct DataBlockHeader {
  uint32_t hdr_no;           // bit 31 masked off
  uint16_t data_len;         // kDataLenEncrypted masked off; counts the 12 header bytes
  bool encrypted;            // kDataLenEncrypted was set
  uint16_t first_rec_group;  // offset of the first mini-transaction starting here, 0 if none
  uint32_t epoch_no;
};

DataBlockHeader read_data_block_header(ConstBlock block);

// What a block starting at `block_start` (a multiple of kBlockSize) carries when written for
// that LSN: together they number blocks from 0 without wrapping, (epoch_no-1)·2^30 + hdr_no-1.
uint32_t hdr_no_for(Lsn block_start);
uint32_t epoch_no_for(Lsn block_start);

// CRC-32C of bytes [0, 508) against the stored value. A server running with
// innodb_log_checksums=OFF stores 0xDEADBEEF instead, which never matches here.
bool block_checksum_ok(ConstBlock block);
void store_block_checksum(MutableBlock block);

enum class BlockState : uint8_t {
  kFull,           // complete (data_len 512): the log goes on in the next block
  kPartial,        // the log currently ends inside this block, at end_lsn
  kNotWrittenYet,  // bad checksum (being written, zeros), or older content (a previous lap)
  kOverwritten,    // valid content from a later lap: the server already reused this place
  kMalformed,      // valid checksum and the expected number, but a header no server writes
};

struct BlockVerdict {
  BlockState state;
  Lsn end_lsn;  // log in this block ends here: start + 512, start + data_len, or start (none)
};

// Judges a block read at the place of `block_start` (a multiple of kBlockSize), as a reader
// tailing the live log needs: full and partial blocks can be copied; a not-written block is
// read again later; an overwritten one means the log was lost. Blocks of an encrypted log must
// be decrypted first (the encrypted bit itself is ignored).
BlockVerdict classify_block(ConstBlock block, Lsn block_start);

// ---- Files and LSNs ------------------------------------------------------------------------

// The LSNs one file holds: [start_lsn, end_lsn).
struct FileRange {
  Lsn start_lsn;
  Lsn end_lsn;

  bool contains(Lsn lsn) const { return start_lsn <= lsn && lsn < end_lsn; }
  // File offset of the byte holding `lsn`, and back.
  uint64_t offset_of(Lsn lsn) const { return kHeaderAreaSize + (lsn - start_lsn); }
  Lsn lsn_at(uint64_t offset) const { return start_lsn + (offset - kHeaderAreaSize); }
};

// A file of `file_size` bytes whose header says `start_lsn` (empty when it has no data area).
FileRange file_range(Lsn start_lsn, uint64_t file_size);

// Index of the first file that contains `lsn`.
std::optional<size_t> find_file_covering(std::span<const FileRange> files, Lsn lsn);

// What the server reads from each #ib_redoN to find the checkpoint (views the caller's bytes).
struct RedoFileHeaders {
  FileHeader header;
  uint64_t file_size;
  ConstBlock checkpoint_block_1;
  ConstBlock checkpoint_block_2;
};

struct CheckpointLocation {
  Lsn lsn;
  size_t file_index;  // into the files given
};

// The checkpoint recovery starts from, chosen as the server does (recv_find_max_checkpoint):
// per file the larger of its checksum-valid checkpoint blocks, kept only if that LSN lies in the
// file's own range, then the largest over all files (the first file on a tie).
std::optional<CheckpointLocation> find_checkpoint(std::span<const RedoFileHeaders> files);

// ---- Writing #ib_redo0 for recovery (§5.2) -------------------------------------------------

// A mini-transaction never ends in a block's 12-byte header or 4-byte trailer, so a checkpoint
// or an end LSN taken from the server satisfies 12 <= lsn mod 512 <= 507.
bool is_mtr_boundary(Lsn lsn);

// Creators starting "MEB" or "MySQL Clone" make the server recover in MySQL Enterprise Backup
// or clone mode (no doublewrite, no change-buffer merge, ...), which a plain restore must avoid.
bool creator_switches_recovery_mode(std::string_view creator);

using HeaderArea = std::array<uint8_t, kHeaderAreaSize>;

// Blocks 0..3 of a one-file log whose data starts with the block holding `checkpoint_lsn`:
// format 6, `log_uuid`, start_lsn = block_start_of(checkpoint_lsn), `creator`, flags 0, both
// checkpoint blocks = checkpoint_lsn, block 2 = `encryption_block` or zeros. nullopt when the
// uuid is 0, the checkpoint is not a mini-transaction boundary at or after kLogStartLsn, or
// the creator cannot be stored or switches the recovery mode.
std::optional<HeaderArea> build_header_area(Lsn checkpoint_lsn, uint32_t log_uuid, std::string_view creator,
                                            std::optional<ConstBlock> encryption_block = std::nullopt);

// Blocks 0..3 of a later file of the same log (#ib_redo1 and on): `first`'s header with
// start_lsn = `start_lsn`, checkpoint blocks holding 0 (a checkpoint outside a file's own range
// is ignored, but 9.7.4 logs "[ERROR] ... the file is corrupted" for each), block 2 as in
// `first`. nullopt unless `first` has a valid header and start_lsn is a multiple of
// kBlockSize past its start_lsn.
std::optional<HeaderArea> build_next_header_area(const HeaderArea& first, Lsn start_lsn);

// Cuts the block holding `end_lsn` so that the log ends exactly there: data_len = end_lsn mod
// 512 (encrypted bit kept), bytes [data_len, 508) zeroed, hdr_no and epoch_no kept,
// first_rec_group clamped to data_len, checksum recomputed. False (block untouched) unless
// end_lsn is a mini-transaction boundary and the block, read as the one starting at
// block_start_of(end_lsn), is a valid full block or a partial one reaching at least end_lsn.
[[nodiscard]] bool trim_last_block(MutableBlock block, Lsn end_lsn);

constexpr uint64_t kRecoveryFileSlack = 1 << 20;         // room for the restarted server to write
constexpr uint64_t kMinRecoveryFileSize = 8 << 20;       // what xtrabackup writes
constexpr uint64_t kMaxFileSize = uint64_t(16) << 30;    // innodb_redo_log_capacity max / 32
// The size of each file but the last when the log spans several: large enough that a span of
// tens of GiB stays a few dozen files, small enough to be one unit of a target's disk.
constexpr uint64_t kSpanFileSize = uint64_t(1) << 30;

// Size of the last (or only) file for `log_bytes` bytes of data blocks in it: a multiple of
// 1 MiB (so of every page size), with header area and slack, at least kMinRecoveryFileSize.
// nullopt beyond kMaxFileSize.
std::optional<uint64_t> recovery_file_size(uint64_t log_bytes);

}  // namespace innodb::mysql_redo
