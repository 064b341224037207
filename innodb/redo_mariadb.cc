#include "innodb/redo_mariadb.h"

#include <algorithm>
#include <cstring>

#include "innodb/byte_order.h"
#include "innodb/crc32c.h"

namespace innodb::mariadb_redo {
namespace {

// Header fields (log0log.h LOG_HEADER_*).
constexpr size_t kFormatOffset = 0;
constexpr size_t kReservedOffset = 4;
constexpr size_t kFirstLsnOffset = 8;
constexpr size_t kCreatorOffset = 16;
constexpr size_t kCreatorSize = 32;
constexpr size_t kEncryptionOffset = 48;
constexpr size_t kHeaderChecksumOffset = 508;
// log0crypt.cc LOG_DEFAULT_ENCRYPTION_KEY: the only key id an encrypted redo log uses.
constexpr uint32_t kRedoKeyId = 1;

// Checkpoint block fields.
constexpr size_t kCheckpointLsnOffset = 0;
constexpr size_t kEndLsnOffset = 8;
constexpr size_t kCheckpointZeroFrom = 16;  // bytes 16..59 must be zero
constexpr size_t kCheckpointChecksumOffset = 60;

// Mini-transaction tail: terminator, nonce (encrypted logs), CRC-32C.
constexpr size_t kNonceSize = 8;
constexpr size_t kChecksumSize = 4;

// mtr0log.h: a tablespace id, page number or record length is a 1..5-byte big-endian code whose
// leading 1 bits give its length; each length starts where the shorter ones end.
constexpr uint32_t kMin2Byte = 0x80, kMin3Byte = 0x4080, kMin4Byte = 0x204080, kMin5Byte = 0x10204080;

// Length of the code starting with `first`: 1 + its leading 1 bits (up to 9; over 5 is invalid).
size_t varint_width(uint8_t first) {
  size_t width = 1;
  for (; first & 0x80; first = uint8_t(first << 1)) ++width;
  return width;
}

// What the servers make of an invalid code (MLOG_DECODE_ERROR). It is also the value of the
// largest 5-byte code, which they therefore refuse as well (no tablespace has that id).
constexpr uint32_t kDecodeError = 0xFFFFFFFF;

// Decodes a code of varint_width(p[0]) bytes; kDecodeError for the codes the servers reject
// (over 5 bytes, a 5-byte code other than 0xF0 + 4 bytes, a value beyond 32 bits).
uint32_t decode_varint(const uint8_t* p) {
  const uint32_t first = p[0];
  if (first < 0x80) return first;
  if (first < 0xC0) return kMin2Byte + ((first & 0x3F) << 8 | p[1]);
  if (first < 0xE0) return kMin3Byte + ((first & 0x1F) << 16 | uint32_t(p[1]) << 8 | p[2]);
  if (first < 0xF0) return kMin4Byte + ((first & 0x0F) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]);
  if (first == 0xF0) {
    const uint32_t rest = read_be32(p + 1);
    if (rest <= ~kMin5Byte) return kMin5Byte + rest;
  }
  return kDecodeError;
}

// A record as laid out: type byte, optional length code, then `body_size` bytes (page id,
// payload).
struct RecordLayout {
  uint8_t type;
  size_t body;       // offset of the body from the mini-transaction start
  size_t body_size;
};

// The layout of the record at `pos`. The framing walk has already validated every length.
RecordLayout record_at(std::span<const uint8_t> mtr, size_t pos) {
  const uint8_t type = mtr[pos];
  size_t body = pos + 1;
  size_t rest = type & 0x0F;  // bytes after the type byte, length code included
  if (rest == 0) {
    const size_t width = varint_width(mtr[body]);
    rest = decode_varint(&mtr[body]) + 15;
    body += width;
    rest -= width;
  }
  return {type, body, rest};
}

bool ends_with_ibd(std::string_view name) { return name.size() >= 4 && name.substr(name.size() - 4) == ".ibd"; }

enum class FileRecordVerdict { kRecord, kPadding, kMalformed };

// A FILE_ record in clear, checked as log_parse_file does (less the undo tablespace ids, which
// need the configuration). `next_type`: the byte after the record (the terminator if it is last).
FileRecordVerdict decode_file_record(std::span<const uint8_t> mtr, const RecordLayout& rec, uint8_t next_type,
                                     FileRecord& out) {
  const uint8_t* p = mtr.data() + rec.body;
  size_t left = rec.body_size;  // >= 1: a length is 1..15 or at least 14 after its code

  // The page id: the tablespace id code must leave a byte for the page number.
  const size_t width = varint_width(p[0]);
  if (width >= left) {
    // FILE_CHECKPOINT of length 1 holding a NUL: padding.
    if (rec.type == 0xF1 && p[0] == 0) return FileRecordVerdict::kPadding;
    return FileRecordVerdict::kMalformed;
  }
  const uint32_t space = decode_varint(p);  // codes over 5 bytes give kDecodeError
  if (space == kDecodeError) return FileRecordVerdict::kMalformed;
  p += width;
  left -= width;
  // The page number must be 0, so its code is the single byte 0x00; the servers refuse any
  // other, padding included.
  if (p[0] != 0) return FileRecordVerdict::kMalformed;
  ++p;
  --left;

  if (left == 0)  // FILE_CHECKPOINT with length 2 and page id 0:0: padding
    return rec.type == 0xF2 && space == 0 ? FileRecordVerdict::kPadding : FileRecordVerdict::kMalformed;

  out.space_id = space;
  if (out.op == FileOp::kCheckpoint) {
    if (space != 0 || next_type > 1) return FileRecordVerdict::kMalformed;  // must end the mtr
    if (left != 8)  // NUL bytes of any other length pad the log
      return is_all_zero({p, left}) ? FileRecordVerdict::kPadding : FileRecordVerdict::kMalformed;
    out.checkpoint_lsn = read_be64(p);
    return out.checkpoint_lsn ? FileRecordVerdict::kRecord : FileRecordVerdict::kPadding;
  }

  // Names are not NUL-terminated; FILE_RENAME has one NUL between the old and the new name.
  if (space == 0) return FileRecordVerdict::kMalformed;
  const std::string_view names(reinterpret_cast<const char*>(p), left);
  const size_t nul = names.find('\0');
  if ((nul == std::string_view::npos) == (out.op == FileOp::kRename)) return FileRecordVerdict::kMalformed;
  const std::string_view name = names.substr(0, nul);
  if (!ends_with_ibd(name)) return FileRecordVerdict::kMalformed;
  out.name = name;
  if (out.op == FileOp::kRename) {
    const std::string_view new_name = names.substr(nul + 1);
    if (new_name.find('\0') != std::string_view::npos || !ends_with_ibd(new_name)) return FileRecordVerdict::kMalformed;
    out.new_name = new_name;
  }
  return FileRecordVerdict::kRecord;
}

std::optional<FileOp> file_op_of(uint8_t type) {
  switch (type & 0xF0) {
    case 0x80: return FileOp::kCreate;
    case 0x90: return FileOp::kDelete;
    case 0xA0: return FileOp::kRename;
    case 0xB0: return FileOp::kModify;
    case 0xF0: return FileOp::kCheckpoint;
    default: return std::nullopt;  // 0xC0..0xE0: no such file operation
  }
}

// Collects the FILE_ records of a framed, checksummed mini-transaction. A same_page record is a
// FILE_ record until the first page record; after it, same_page means "the previous page".
bool collect_file_records(std::span<const uint8_t> mtr, size_t terminator, Encryption encryption,
                          std::vector<FileRecord>& out) {
  bool page_record_seen = false;
  for (size_t pos = 0; pos < terminator;) {
    const RecordLayout rec = record_at(mtr, pos);
    pos = rec.body + rec.body_size;
    if (!(rec.type & 0x80)) page_record_seen = true;
    if (page_record_seen) continue;

    const std::optional<FileOp> op = file_op_of(rec.type);
    if (!op) return false;
    FileRecord record;
    record.op = *op;
    if (encryption == Encryption::kEnc11) {
      record.encrypted = true;
      out.push_back(std::move(record));
      continue;
    }
    switch (decode_file_record(mtr, rec, mtr[pos], record)) {
      case FileRecordVerdict::kRecord: out.push_back(std::move(record)); break;
      case FileRecordVerdict::kPadding: break;
      case FileRecordVerdict::kMalformed: return false;
    }
  }
  return true;
}

MiniTransaction incomplete(MtrStatus status, MtrDefect defect) {
  MiniTransaction m;
  m.status = status;
  m.defect = defect;
  return m;
}

}  // namespace

Encryption encryption_of(const Header& header) {
  if (header.format == kFormatEnc11) return Encryption::kEnc11;
  return read_be32(header.encryption_area.data()) != 0 ? Encryption::kEnc10_8 : Encryption::kNone;
}

ParsedHeader parse_header(std::span<const uint8_t> file_start) {
  ParsedHeader parsed;
  if (file_start.size() < kHeaderSize) {
    parsed.status = HeaderStatus::kTooShort;
    return parsed;
  }
  const uint8_t* p = file_start.data();
  if (crc32c(0, p, kHeaderChecksumOffset) != read_be32(p + kHeaderChecksumOffset)) {
    parsed.status = HeaderStatus::kChecksumMismatch;
    return parsed;
  }
  Header& h = parsed.header;
  h.format = read_be32(p + kFormatOffset);
  h.first_lsn = read_be64(p + kFirstLsnOffset);
  const char* creator = reinterpret_cast<const char*>(p + kCreatorOffset);
  h.creator.assign(creator, strnlen(creator, kCreatorSize));
  std::memcpy(h.encryption_area.data(), p + kEncryptionOffset, h.encryption_area.size());

  if (h.format != kFormat10_8 && h.format != kFormatEnc11)
    parsed.status = HeaderStatus::kUnsupportedFormat;
  else if (read_be32(p + kReservedOffset) != 0)
    parsed.status = HeaderStatus::kReservedNotZero;
  else if (h.first_lsn < kStartOffset)
    parsed.status = HeaderStatus::kFirstLsnTooSmall;
  else if (encryption_of(h) != Encryption::kNone && read_be32(h.encryption_area.data()) != kRedoKeyId)
    parsed.status = HeaderStatus::kBadEncryptionInfo;
  else
    parsed.status = HeaderStatus::kValid;
  return parsed;
}

std::array<uint8_t, kHeaderSize> serialize_header(const Header& header) {
  std::array<uint8_t, kHeaderSize> out{};
  uint8_t* p = out.data();
  write_be32(p + kFormatOffset, header.format);
  write_be64(p + kFirstLsnOffset, header.first_lsn);
  std::memcpy(p + kCreatorOffset, header.creator.data(), std::min(header.creator.size(), kCreatorSize));
  std::memcpy(p + kEncryptionOffset, header.encryption_area.data(), header.encryption_area.size());
  write_be32(p + kHeaderChecksumOffset, crc32c(0, p, kHeaderChecksumOffset));
  return out;
}

std::optional<Checkpoint> parse_checkpoint_block(std::span<const uint8_t> block, Lsn first_lsn) {
  if (block.size() < kCheckpointBlockSize) return std::nullopt;
  const uint8_t* p = block.data();
  const Checkpoint c{read_be64(p + kCheckpointLsnOffset), read_be64(p + kEndLsnOffset)};
  if (c.checkpoint < first_lsn || c.end_lsn < c.checkpoint) return std::nullopt;
  if (!is_all_zero(block.subspan(kCheckpointZeroFrom, kCheckpointChecksumOffset - kCheckpointZeroFrom)))
    return std::nullopt;
  if (crc32c(0, p, kCheckpointChecksumOffset) != read_be32(p + kCheckpointChecksumOffset)) return std::nullopt;
  return c;
}

std::array<uint8_t, kCheckpointBlockSize> serialize_checkpoint_block(const Checkpoint& checkpoint) {
  std::array<uint8_t, kCheckpointBlockSize> out{};
  write_be64(out.data() + kCheckpointLsnOffset, checkpoint.checkpoint);
  write_be64(out.data() + kEndLsnOffset, checkpoint.end_lsn);
  write_be32(out.data() + kCheckpointChecksumOffset, crc32c(0, out.data(), kCheckpointChecksumOffset));
  return out;
}

std::optional<Checkpoint> choose_checkpoint(std::span<const uint8_t> header_area, Lsn first_lsn) {
  if (header_area.size() < kCheckpointBlock2 + kCheckpointBlockSize) return std::nullopt;
  std::optional<Checkpoint> chosen;
  for (size_t offset : {kCheckpointBlock1, kCheckpointBlock2}) {
    const auto c = parse_checkpoint_block(header_area.subspan(offset, kCheckpointBlockSize), first_lsn);
    if (c && (!chosen || c->checkpoint >= chosen->checkpoint)) chosen = c;
  }
  return chosen;
}

MiniTransaction parse_mini_transaction(std::span<const uint8_t> view, Lsn lsn, const Ring& ring,
                                       Encryption encryption) {
  // The framing walk of log_parse_start: records by their lengths up to a byte <= 1.
  if (view.empty()) return incomplete(MtrStatus::kNeedMore, MtrDefect::kNone);
  if (view[0] <= 1) return incomplete(MtrStatus::kNotWrittenYet, MtrDefect::kEmpty);
  size_t pos = 0;
  size_t record_bytes = 0;  // what the server bounds: lengths after the type bytes, summed
  for (;;) {
    if (pos >= view.size()) return incomplete(MtrStatus::kNeedMore, MtrDefect::kNone);
    if (record_bytes >= kMtrSizeMax) return incomplete(MtrStatus::kNotWrittenYet, MtrDefect::kTooLong);
    if (view[pos] <= 1) break;
    size_t rest = view[pos] & 0x0F;
    ++pos;
    if (rest == 0) {
      if (pos >= view.size()) return incomplete(MtrStatus::kNeedMore, MtrDefect::kNone);
      // 4- and 5-byte codes start at 0x204080 > kMtrSizeMax: no need to wait for their bytes.
      const size_t width = varint_width(view[pos]);
      if (width > 3) return incomplete(MtrStatus::kNotWrittenYet, MtrDefect::kBadLength);
      if (pos + width > view.size()) return incomplete(MtrStatus::kNeedMore, MtrDefect::kNone);
      const uint32_t extra = decode_varint(&view[pos]);
      if (extra >= kMtrSizeMax) return incomplete(MtrStatus::kNotWrittenYet, MtrDefect::kBadLength);
      rest = size_t(extra) + 15;
    }
    pos += rest;
    record_bytes += rest;
  }

  const size_t terminator = pos;
  if (view[terminator] != sequence_bit(ring, lsn + terminator))
    return incomplete(MtrStatus::kNotWrittenYet, MtrDefect::kTerminatorMismatch);
  const size_t nonce = encryption == Encryption::kNone ? 0 : kNonceSize;
  const size_t size = terminator + 1 + nonce + kChecksumSize;
  if (size > view.size()) return incomplete(MtrStatus::kNeedMore, MtrDefect::kNone);
  // The CRC covers the records and the nonce, not the terminator between them.
  const uint32_t crc = crc32c(crc32c(0, view.data(), terminator), view.data() + terminator + 1, nonce);
  if (crc != read_be32(view.data() + terminator + 1 + nonce))
    return incomplete(MtrStatus::kNotWrittenYet, MtrDefect::kChecksumMismatch);

  MiniTransaction m;
  m.size = size;
  m.terminator_offset = terminator;
  if (collect_file_records(view.first(terminator + 1), terminator, encryption, m.file_records)) {
    m.status = MtrStatus::kComplete;
  } else {
    m.status = MtrStatus::kCorrupt;
    m.defect = MtrDefect::kBadFileRecord;
    m.file_records.clear();
  }
  return m;
}

bool holds_file_checkpoint(const MiniTransaction& mtr, Lsn checkpoint) {
  return std::any_of(mtr.file_records.begin(), mtr.file_records.end(), [&](const FileRecord& r) {
    return r.op == FileOp::kCheckpoint && !r.encrypted && r.checkpoint_lsn == checkpoint;
  });
}

void set_first_pass_terminator(std::span<uint8_t> mtr_copy, const MiniTransaction& mtr) {
  mtr_copy[mtr.terminator_offset] = 1;
}

std::vector<uint8_t> backup_header_area(const Header& source, const Checkpoint& checkpoint,
                                        std::string_view server_version) {
  Header h = source;
  h.first_lsn = checkpoint.checkpoint;
  h.creator = "Backup ";
  h.creator += server_version;
  std::vector<uint8_t> area(kStartOffset, 0);
  const auto header = serialize_header(h);
  std::copy(header.begin(), header.end(), area.begin());
  const auto block = serialize_checkpoint_block(checkpoint);
  std::copy(block.begin(), block.end(), area.begin() + kCheckpointBlock1);
  return area;
}

uint64_t backup_file_size(uint64_t data_bytes, uint64_t slack) {
  constexpr uint64_t kMinSlack = 4096, kRound = uint64_t{1} << 20;
  const uint64_t bytes = kStartOffset + data_bytes + std::max(slack, kMinSlack);
  return (bytes + kRound - 1) / kRound * kRound;
}

}  // namespace innodb::mariadb_redo
