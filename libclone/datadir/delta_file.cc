#include "libclone/datadir/delta_file.h"

#include <cstring>

#include "innodb/byte_order.h"
#include "innodb/crc32c.h"
#include "innodb/page_check.h"
#include "libclone/base/text.h"

namespace mysqlclone {
namespace {

constexpr char kMagic[8] = {'M', 'C', 'D', 'E', 'L', 'T', 'A', '1'};
constexpr uint32_t kChunkMagic = 0x4D434443;  // "MCDC"
constexpr size_t kEntriesOffset = 20;
// The smallest physical page (ROW_FORMAT=COMPRESSED, KEY_BLOCK_SIZE=1) must hold a full chunk's list.
static_assert(kEntriesOffset + 8 * kDeltaChunkPages + 4 <= 1024);

uint32_t block_crc(const uint8_t* block, uint32_t size) { return innodb::crc32c(0, block, size - 4); }

}  // namespace

DeltaWriter::DeltaWriter(StorageFile& out, const DeltaHeader& header)
    : out_(out), header_(header), buffer_(size_t(kDeltaChunkPages + 1) * header.page_size) {}

Status DeltaWriter::begin() {
  const uint32_t p = header_.page_size;
  uint8_t* b = buffer_.data();
  std::memset(b, 0, p);
  std::memcpy(b, kMagic, sizeof kMagic);
  innodb::write_be32(b + 8, p);
  innodb::write_be32(b + 12, header_.space_id);
  innodb::write_be32(b + 16, header_.fsp_flags);
  innodb::write_be32(b + 20, header_.flavour == innodb::Flavour::kMariadb ? 1 : 0);
  innodb::write_be32(b + 24, header_.first_page);
  innodb::write_be64(b + 28, header_.threshold);
  innodb::write_be32(b + p - 4, block_crc(b, p));
  std::span<const uint8_t> block(b, p);
  hash_.update(block);
  bytes_ += p;
  return out_.append(block);
}

Status DeltaWriter::add_page(innodb::PageNo index, std::span<const uint8_t> page) {
  const uint32_t p = header_.page_size;
  std::memcpy(buffer_.data() + size_t(entries_.size() + 1) * p, page.data(), p);
  entries_.emplace_back(index, innodb::crc32c(0, page.data(), p));
  ++pages_;
  return entries_.size() == kDeltaChunkPages ? flush(false, 0) : Status::ok();
}

Status DeltaWriter::finish(uint64_t file_bytes) { return flush(true, file_bytes); }

Status DeltaWriter::flush(bool last, uint64_t file_bytes) {
  const uint32_t p = header_.page_size;
  uint8_t* b = buffer_.data();
  std::memset(b, 0, p);
  innodb::write_be32(b, kChunkMagic);
  innodb::write_be32(b + 4, uint32_t(entries_.size()));
  innodb::write_be32(b + 8, last ? 1 : 0);
  innodb::write_be64(b + 12, file_bytes);
  for (size_t i = 0; i < entries_.size(); ++i) {
    innodb::write_be32(b + kEntriesOffset + 8 * i, entries_[i].first);
    innodb::write_be32(b + kEntriesOffset + 8 * i + 4, entries_[i].second);
  }
  innodb::write_be32(b + p - 4, block_crc(b, p));
  std::span<const uint8_t> bytes(b, (entries_.size() + 1) * p);
  entries_.clear();
  hash_.update(bytes);
  bytes_ += bytes.size();
  return out_.append(bytes);
}

DeltaReader::DeltaReader(ReadFile file, DeltaHeader header, innodb::TablespaceFormat format,
                         std::span<const uint8_t> header_block, bool with_sha256)
    : file_(std::move(file)), header_(header), format_(format),
      buffer_(std::make_unique<AlignedBuffer>(size_t(kDeltaChunkPages + 1) * header.page_size)),
      hash_(with_sha256 ? std::make_unique<Sha256>() : nullptr),
      offset_(header.page_size) {
  if (hash_) hash_->update(header_block);
}

Status DeltaReader::bad(const std::string& what) const {
  return Status::error(ExitCode::kVerifyFailed, printable(file_.path()) + ": " + what);
}

Result<DeltaReader> DeltaReader::open(const std::string& path, bool with_sha256) {
  auto file = ReadFile::open(path);
  if (!file.is_ok()) return file.status();
  const auto malformed = [&](const std::string& what) {
    return Status::error(ExitCode::kVerifyFailed, printable(path) + ": " + what);
  };
  uint8_t head[40];
  auto n = file->read_at(0, head);
  if (!n.is_ok()) return n.status();
  if (*n < sizeof head || std::memcmp(head, kMagic, sizeof kMagic) != 0) return malformed("not a mysqlclone delta file");
  DeltaHeader h;
  h.page_size = innodb::read_be32(head + 8);
  if (h.page_size < 1024 || h.page_size > 65536 || (h.page_size & (h.page_size - 1)))
    return malformed("impossible page size " + std::to_string(h.page_size));
  AlignedBuffer block(h.page_size);
  n = file->read_at(0, block.span());
  if (!n.is_ok()) return n.status();
  if (*n < h.page_size || innodb::read_be32(block.data() + h.page_size - 4) != block_crc(block.data(), h.page_size))
    return malformed("its header block is damaged (CRC-32C mismatch)");
  h.space_id = innodb::read_be32(head + 12);
  h.fsp_flags = innodb::read_be32(head + 16);
  const uint32_t flavour = innodb::read_be32(head + 20);
  if (flavour > 1) return malformed("unknown server flavour " + std::to_string(flavour));
  h.flavour = flavour ? innodb::Flavour::kMariadb : innodb::Flavour::kMysql;
  h.first_page = innodb::read_be32(head + 24);
  h.threshold = innodb::read_be64(head + 28);
  auto format = innodb::decode_tablespace_flags(h.fsp_flags, h.flavour);
  if (!format || format->physical_size != h.page_size)
    return malformed("its tablespace flags do not match its page size");
  return DeltaReader(std::move(file).value(), h, *format, block.span(), with_sha256);
}

Result<std::optional<DeltaPage>> DeltaReader::next() {
  const uint32_t p = header_.page_size;
  while (next_entry_ == entries_.size()) {
    if (last_chunk_) {
      if (!ended_) {
        // Nothing may follow the last chunk: a delta spliced onto another is not one delta.
        uint8_t extra[1];
        auto n = file_.read_at(offset_, extra);
        if (!n.is_ok()) return n.status();
        if (*n) return bad("bytes follow its last chunk");
        ended_ = true;
      }
      return std::optional<DeltaPage>();
    }
    uint8_t* b = buffer_->data();
    auto n = file_.read_at(offset_, std::span<uint8_t>(b, p));
    if (!n.is_ok()) return n.status();
    if (*n < p) return bad("it ends before its last chunk (cut short?)");
    if (innodb::read_be32(b) != kChunkMagic || innodb::read_be32(b + p - 4) != block_crc(b, p))
      return bad("the chunk block at byte " + std::to_string(offset_) + " is damaged");
    if (hash_) hash_->update(std::span<const uint8_t>(b, p));
    const uint32_t count = innodb::read_be32(b + 4);
    const uint32_t last = innodb::read_be32(b + 8);
    if (count > kDeltaChunkPages || last > 1)
      return bad("the chunk block at byte " + std::to_string(offset_) + " is malformed");
    last_chunk_ = last == 1;
    file_bytes_ = innodb::read_be64(b + 12);
    entries_.clear();
    next_entry_ = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const innodb::PageNo index = innodb::read_be32(b + kEntriesOffset + 8 * i);
      if (last_index_ && index <= *last_index_) return bad("its page list is out of order at page " + std::to_string(index));
      last_index_ = index;
      entries_.emplace_back(index, innodb::read_be32(b + kEntriesOffset + 8 * i + 4));
    }
    if (last_chunk_ && (file_bytes_ % p || (last_index_ && (uint64_t(*last_index_) + 1) * p > file_bytes_)))
      return bad("its recorded file size " + std::to_string(file_bytes_) + " does not hold its pages");
    const size_t pages_bytes = size_t(count) * p;
    if (count) {
      n = file_.read_at(offset_ + p, std::span<uint8_t>(b + p, pages_bytes));
      if (!n.is_ok()) return n.status();
      if (*n < pages_bytes) return bad("it ends inside the pages of a chunk (cut short?)");
      if (hash_) hash_->update(std::span<const uint8_t>(b + p, pages_bytes));
    }
    offset_ += p + pages_bytes;
  }
  const auto [index, crc] = entries_[next_entry_];
  std::span<const uint8_t> page(buffer_->data() + size_t(next_entry_ + 1) * p, p);
  ++next_entry_;
  const innodb::PageNo page_no = header_.first_page + index;
  if (innodb::crc32c(0, page.data(), p) != crc)
    return bad("page " + std::to_string(page_no) + " is damaged (CRC-32C mismatch)");
  // The doublewrite area of the system tablespace holds copies of other pages: not judged here,
  // as in the copy.
  if (!(header_.space_id == 0 && innodb::in_doublewrite_area(0, page_no, format_.page_size))) {
    const auto v = innodb::check_page(page, format_, page_no, header_.space_id);
    if (v.status == innodb::PageStatus::kCorrupt)
      return bad("page " + std::to_string(page_no) + " is corrupt (" + innodb::page_detail_name(v.detail) + ")");
  }
  return std::optional<DeltaPage>(DeltaPage{index, page});
}

}  // namespace mysqlclone
