#include "innodb/redo_mysql.h"

#include <algorithm>
#include <cstring>

#include "innodb/byte_order.h"
#include "innodb/crc32c.h"

namespace innodb::mysql_redo {
namespace {

// File header fields (block 0).
constexpr size_t kHeaderFormat = 0;
constexpr size_t kHeaderLogUuid = 4;
constexpr size_t kHeaderStartLsn = 8;
constexpr size_t kHeaderCreator = 16;
constexpr size_t kHeaderFlags = kHeaderCreator + kMaxCreatorLength + 1;  // creator field is 32 bytes

// Checkpoint block: the LSN at 8; bytes 0..7 were the checkpoint number before 8.0.30.
constexpr size_t kCheckpointLsn = 8;

// Data block header fields.
constexpr size_t kBlockHdrNo = 0;
constexpr size_t kBlockDataLen = 4;
constexpr size_t kBlockFirstRecGroup = 6;
constexpr size_t kBlockEpochNo = 8;

uint32_t checksum_of(ConstBlock block) { return crc32c(0, block.data(), kBlockChecksumOffset); }

// Offsets inside a block where log records live: after the header, before the checksum.
bool in_record_area(uint64_t offset) { return offset >= kBlockHeaderSize && offset < kBlockChecksumOffset; }

MutableBlock block_of(HeaderArea& area, size_t offset) { return MutableBlock(area.data() + offset, kBlockSize); }

}  // namespace

std::optional<FileHeader> parse_file_header(ConstBlock block) {
  if (!block_checksum_ok(block)) return std::nullopt;
  const uint8_t* p = block.data();
  // The server copies the creator up to the first NUL within its 31 bytes; byte 47 is never
  // part of it, terminator or not.
  const char* creator = reinterpret_cast<const char*>(p + kHeaderCreator);
  return FileHeader{read_be32(p + kHeaderFormat), read_be32(p + kHeaderLogUuid), read_be64(p + kHeaderStartLsn),
                    std::string(creator, strnlen(creator, kMaxCreatorLength)), read_be32(p + kHeaderFlags)};
}

bool serialize_file_header(const FileHeader& header, MutableBlock block) {
  const std::string& creator = header.creator;
  if (creator.empty() || creator.size() > kMaxCreatorLength || creator.find('\0') != std::string::npos) return false;
  std::fill(block.begin(), block.end(), 0);
  uint8_t* p = block.data();
  write_be32(p + kHeaderFormat, header.format);
  write_be32(p + kHeaderLogUuid, header.log_uuid);
  write_be64(p + kHeaderStartLsn, header.start_lsn);
  std::memcpy(p + kHeaderCreator, creator.data(), creator.size());
  write_be32(p + kHeaderFlags, header.flags);
  store_block_checksum(block);
  return true;
}

std::optional<Lsn> parse_checkpoint_block(ConstBlock block) {
  if (!block_checksum_ok(block)) return std::nullopt;
  return read_be64(block.data() + kCheckpointLsn);
}

void serialize_checkpoint_block(Lsn checkpoint_lsn, MutableBlock block) {
  std::fill(block.begin(), block.end(), 0);
  write_be64(block.data() + kCheckpointLsn, checkpoint_lsn);
  store_block_checksum(block);
}

DataBlockHeader read_data_block_header(ConstBlock block) {
  const uint8_t* p = block.data();
  const uint16_t data_len = read_be16(p + kBlockDataLen);
  return DataBlockHeader{read_be32(p + kBlockHdrNo) & kHdrNoMask, uint16_t(data_len & ~kDataLenEncrypted),
                         (data_len & kDataLenEncrypted) != 0, read_be16(p + kBlockFirstRecGroup),
                         read_be32(p + kBlockEpochNo)};
}

uint32_t hdr_no_for(Lsn block_start) { return 1 + uint32_t(block_start / kBlockSize % kBlocksPerEpoch); }

uint32_t epoch_no_for(Lsn block_start) { return 1 + uint32_t(block_start / kBlockSize / kBlocksPerEpoch); }

bool block_checksum_ok(ConstBlock block) {
  return read_be32(block.data() + kBlockChecksumOffset) == checksum_of(block);
}

void store_block_checksum(MutableBlock block) { write_be32(block.data() + kBlockChecksumOffset, checksum_of(block)); }

BlockVerdict classify_block(ConstBlock block, Lsn block_start) {
  const BlockVerdict not_written{BlockState::kNotWrittenYet, block_start};
  const BlockVerdict malformed{BlockState::kMalformed, block_start};
  // A torn or never-written block fails the checksum; nothing in it can be trusted.
  if (!block_checksum_ok(block)) return not_written;
  const DataBlockHeader h = read_data_block_header(block);
  if (h.hdr_no == 0 || h.hdr_no > kBlocksPerEpoch || h.epoch_no == 0) return malformed;
  // hdr_no alone wraps every 2^30 blocks (512 GiB of log), so comparing it alone would call a
  // block from just before a wrap "newer" than one just after. With the epoch it becomes the
  // absolute block number the block was written for, which only grows.
  const uint64_t written_for = uint64_t(h.epoch_no - 1) * kBlocksPerEpoch + (h.hdr_no - 1);
  const uint64_t expected = block_start / kBlockSize;
  if (written_for < expected) return not_written;
  if (written_for > expected) return {BlockState::kOverwritten, block_start};
  if (h.data_len == kBlockSize) return {BlockState::kFull, block_start + kBlockSize};
  // The log ends at a mini-transaction boundary, never inside the header or the trailer.
  if (in_record_area(h.data_len)) return {BlockState::kPartial, block_start + h.data_len};
  return malformed;
}

FileRange file_range(Lsn start_lsn, uint64_t file_size) {
  return FileRange{start_lsn, start_lsn + (file_size > kHeaderAreaSize ? file_size - kHeaderAreaSize : 0)};
}

std::optional<size_t> find_file_covering(std::span<const FileRange> files, Lsn lsn) {
  for (size_t i = 0; i < files.size(); ++i)
    if (files[i].contains(lsn)) return i;
  return std::nullopt;
}

std::optional<CheckpointLocation> find_checkpoint(std::span<const RedoFileHeaders> files) {
  std::optional<CheckpointLocation> best;
  for (size_t i = 0; i < files.size(); ++i) {
    const RedoFileHeaders& f = files[i];
    // The range check applies to the file's larger checkpoint only: a file whose newer slot
    // points outside it is skipped whole, even if its other slot would fit. That is the server's
    // rule, and the backup must start from the checkpoint the server would recover from.
    std::optional<Lsn> in_file;
    for (ConstBlock b : {f.checkpoint_block_1, f.checkpoint_block_2}) {
      const std::optional<Lsn> lsn = parse_checkpoint_block(b);
      if (lsn && (!in_file || *lsn > *in_file)) in_file = lsn;
    }
    if (!in_file || !file_range(f.header.start_lsn, f.file_size).contains(*in_file)) continue;
    if (!best || *in_file > best->lsn) best = CheckpointLocation{*in_file, i};
  }
  return best;
}

bool is_mtr_boundary(Lsn lsn) { return in_record_area(lsn % kBlockSize); }

bool creator_switches_recovery_mode(std::string_view creator) {
  return creator.starts_with("MEB") || creator.starts_with("MySQL Clone");
}

std::optional<HeaderArea> build_header_area(Lsn checkpoint_lsn, uint32_t log_uuid, std::string_view creator,
                                            std::optional<ConstBlock> encryption_block) {
  // The server asserts start_lsn >= kLogStartLsn; a uuid of 0 is its "none".
  if (log_uuid == 0 || !is_mtr_boundary(checkpoint_lsn) || block_start_of(checkpoint_lsn) < kLogStartLsn ||
      creator_switches_recovery_mode(creator))
    return std::nullopt;
  HeaderArea area{};
  const FileHeader header{kFormat8030, log_uuid, block_start_of(checkpoint_lsn), std::string(creator), 0};
  if (!serialize_file_header(header, block_of(area, 0))) return std::nullopt;
  serialize_checkpoint_block(checkpoint_lsn, block_of(area, kCheckpoint1Offset));
  serialize_checkpoint_block(checkpoint_lsn, block_of(area, kCheckpoint2Offset));
  if (encryption_block)
    std::copy(encryption_block->begin(), encryption_block->end(), area.begin() + kEncryptionBlockOffset);
  return area;
}

std::optional<HeaderArea> build_next_header_area(const HeaderArea& first, Lsn start_lsn) {
  auto header = parse_file_header(ConstBlock(first.data(), kBlockSize));
  if (!header || start_lsn % kBlockSize != 0 || start_lsn <= header->start_lsn) return std::nullopt;
  HeaderArea area = first;
  header->start_lsn = start_lsn;
  if (!serialize_file_header(*header, block_of(area, 0))) return std::nullopt;
  serialize_checkpoint_block(0, block_of(area, kCheckpoint1Offset));
  serialize_checkpoint_block(0, block_of(area, kCheckpoint2Offset));
  return area;
}

bool trim_last_block(MutableBlock block, Lsn end_lsn) {
  if (!is_mtr_boundary(end_lsn)) return false;
  // Only a valid full block, or a partial one, holds log past its start.
  if (classify_block(block, block_start_of(end_lsn)).end_lsn < end_lsn) return false;
  const uint16_t data_len = uint16_t(end_lsn % kBlockSize);
  uint8_t* p = block.data();
  const uint16_t encrypted_bit = uint16_t(read_be16(p + kBlockDataLen) & kDataLenEncrypted);
  write_be16(p + kBlockDataLen, uint16_t(data_len | encrypted_bit));
  std::fill(p + data_len, p + kBlockChecksumOffset, 0);
  // The mini-transaction that crosses into a block records there where the next one starts, so
  // in the block holding a boundary it is at most that boundary's offset; clamp anyway so that
  // recovery never starts parsing past the end.
  write_be16(p + kBlockFirstRecGroup, std::min(read_be16(p + kBlockFirstRecGroup), data_len));
  store_block_checksum(block);
  return true;
}

std::optional<uint64_t> recovery_file_size(uint64_t log_bytes) {
  constexpr uint64_t kMiB = 1 << 20;
  if (log_bytes > kMaxFileSize) return std::nullopt;  // also keeps the sum below from overflowing
  const uint64_t needed = kHeaderAreaSize + log_bytes + kRecoveryFileSlack;
  const uint64_t size = std::max((needed + kMiB - 1) / kMiB * kMiB, kMinRecoveryFileSize);
  if (size > kMaxFileSize) return std::nullopt;
  return size;
}

}  // namespace innodb::mysql_redo
