#include "innodb/page_check.h"

#include "innodb/crc32c.h"

namespace innodb {
namespace {

// InnoDB's pre-5.7 "innodb" checksum: a fold over the bytes. Only the low 32 bits are kept;
// XOR, left shift and addition never carry information downwards, so computing in 32 bits
// gives the same result as the servers' 64-bit ulint arithmetic.
uint32_t fold_pair(uint32_t n1, uint32_t n2) {
  constexpr uint32_t kMask = 1463735687u, kMask2 = 1653893711u;
  return (((((n1 ^ n2 ^ kMask2) << 8) + n1) ^ kMask) + n2);
}

uint32_t fold_bytes(const uint8_t* p, size_t n) {
  uint32_t fold = 0;
  while (n--) fold = fold_pair(fold, *p++);
  return fold;
}

// zlib's Adler-32 (used by ROW_FORMAT=COMPRESSED pages written with the "innodb" algorithm).
// zlib is not among the project's libraries; Adler-32 is five lines.
uint32_t adler32(uint32_t adler, const uint8_t* p, size_t n) {
  constexpr uint32_t kMod = 65521;
  uint32_t a = adler & 0xFFFF, b = adler >> 16;
  while (n) {
    size_t chunk = n < 5552 ? n : 5552;  // largest run without 32-bit overflow
    n -= chunk;
    while (chunk--) {
      a += *p++;
      b += a;
    }
    a %= kMod;
    b %= kMod;
  }
  return b << 16 | a;
}

uint32_t crc(const uint8_t* p, size_t n, size_t page_offset, bool legacy_big_endian) {
  return legacy_big_endian ? crc32c_legacy_big_endian(p, n, unsigned(page_offset & 7)) : crc32c(0, p, n);
}

// All zero, except that bytes 26..33 (flush LSN / key version) may be set: both servers accept
// such a page as "empty".
bool is_empty_legacy(std::span<const uint8_t> page) {
  return is_all_zero(page.first(kFilPageFileFlushLsn)) && is_all_zero(page.subspan(kFilPageSpaceId));
}

PageVerdict valid(PageDetail d, Lsn lsn) { return {PageStatus::kValid, d, lsn}; }
PageVerdict corrupt(PageDetail d, Lsn lsn) { return {PageStatus::kCorrupt, d, lsn}; }

bool lsn_trailer_matches(std::span<const uint8_t> page, size_t trailer_end) {
  return read_be32(page.data() + kFilPageLsn + 4) == read_be32(page.data() + trailer_end - 4);
}

PageVerdict check_full_crc32(std::span<const uint8_t> page, const FilHeader& h) {
  size_t size = page.size();
  bool compressed = false;
  if (h.type & kFullCrc32CompressedMarker) {
    size_t stored = size_t(h.type & ~kFullCrc32CompressedMarker) << 8;
    if (stored >= page.size() || stored < kFilPageData + 4) return corrupt(PageDetail::kBadCompressedLength, h.lsn);
    size = stored;
    compressed = true;
  }
  const uint32_t stored_crc = read_be32(page.data() + size - 4);
  if (stored_crc == 0 && !compressed && is_all_zero(page)) return {PageStatus::kEmpty, PageDetail::kNone, 0};
  if (stored_crc != full_crc32_checksum(page, size)) return corrupt(PageDetail::kChecksumMismatch, h.lsn);
  // Plain pages also carry the LSN at the end; encrypted (key version at 0) and compressed
  // ones do not.
  if (!compressed && h.checksum_or_key_version == 0 && !lsn_trailer_matches(page, size - 4))
    return corrupt(PageDetail::kLsnMismatch, h.lsn);
  return valid(PageDetail::kFullCrc32, h.lsn);
}

PageVerdict check_row_compressed(std::span<const uint8_t> page, const FilHeader& h) {
  const uint32_t stored = h.checksum_or_key_version;
  if (stored == 0 && h.lsn == 0 && is_all_zero(page)) return {PageStatus::kEmpty, PageDetail::kNone, 0};
  if (stored == zip_page_crc32(page, false)) return valid(PageDetail::kCrc32, h.lsn);
  if (stored == kNoChecksumMagic) return valid(PageDetail::kNoChecksumMagic, h.lsn);
  if (stored == zip_page_adler32(page)) return valid(PageDetail::kInnodbLegacy, h.lsn);
  if (stored == zip_page_crc32(page, true)) return valid(PageDetail::kCrc32LegacyBigEndian, h.lsn);
  return corrupt(PageDetail::kChecksumMismatch, h.lsn);
}

PageVerdict check_legacy(std::span<const uint8_t> page, const FilHeader& h, const TablespaceFormat& format) {
  const size_t n = page.size();
  if (!lsn_trailer_matches(page, n)) return corrupt(PageDetail::kLsnMismatch, h.lsn);
  const uint32_t field1 = h.checksum_or_key_version;
  const uint32_t field2 = read_be32(page.data() + n - kFilPageEndLsnOldChecksum);
  if (field1 == 0 && field2 == 0 && is_empty_legacy(page)) return {PageStatus::kEmpty, PageDetail::kNone, 0};

  // Any algorithm the server accepts (innodb_checksum_algorithm only narrows this on a live
  // server, with a warning). The two families differ in how they mix the legacy algorithms.
  const uint32_t c = page_crc32(page, false);
  if (field1 == field2 && field1 == c) return valid(PageDetail::kCrc32, h.lsn);
  const uint32_t lsn_high = read_be32(page.data() + kFilPageLsn);
  if (format.flavour == Flavour::kMysql) {
    if (field1 == kNoChecksumMagic && field2 == kNoChecksumMagic) return valid(PageDetail::kNoChecksumMagic, h.lsn);
    // innodb: the old field holds the old-formula checksum (or, from very old InnoDB, the
    // LSN's high half); the new field the new-formula checksum, or 0 (InnoDB < 4.0.14).
    if ((field2 == lsn_high || field2 == page_innodb_old_checksum(page)) &&
        (field1 == 0 || field1 == page_innodb_new_checksum(page)))
      return valid(PageDetail::kInnodbLegacy, h.lsn);
    if (field1 == field2 && field1 == page_crc32(page, true)) return valid(PageDetail::kCrc32LegacyBigEndian, h.lsn);
    return corrupt(PageDetail::kChecksumMismatch, h.lsn);
  }
  // MariaDB judges each field on its own: the old field may be the LSN's high half, the magic
  // or the old-formula checksum; the new field 0, the magic or the new-formula checksum.
  const bool old_ok = field2 == lsn_high || field2 == kNoChecksumMagic || field2 == page_innodb_old_checksum(page);
  const bool new_ok = field1 == 0 || field1 == kNoChecksumMagic || field1 == page_innodb_new_checksum(page);
  if (old_ok && new_ok)
    return valid(field1 == kNoChecksumMagic && field2 == kNoChecksumMagic ? PageDetail::kNoChecksumMagic
                                                                           : PageDetail::kInnodbLegacy,
                 h.lsn);
  return corrupt(PageDetail::kChecksumMismatch, h.lsn);
}

}  // namespace

uint32_t page_crc32(std::span<const uint8_t> page, bool legacy_big_endian) {
  const uint8_t* p = page.data();
  const size_t n = page.size();
  return crc(p + kFilPageOffset, kFilPageFileFlushLsn - kFilPageOffset, kFilPageOffset, legacy_big_endian) ^
         crc(p + kFilPageData, n - kFilPageData - kFilPageEndLsnOldChecksum, kFilPageData, legacy_big_endian);
}

uint32_t page_innodb_new_checksum(std::span<const uint8_t> page) {
  const uint8_t* p = page.data();
  return fold_bytes(p + kFilPageOffset, kFilPageFileFlushLsn - kFilPageOffset) +
         fold_bytes(p + kFilPageData, page.size() - kFilPageData - kFilPageEndLsnOldChecksum);
}

uint32_t page_innodb_old_checksum(std::span<const uint8_t> page) {
  return fold_bytes(page.data(), kFilPageFileFlushLsn);
}

// ROW_FORMAT=COMPRESSED pages skip the checksum, the LSN and bytes 26..33.
uint32_t zip_page_crc32(std::span<const uint8_t> page, bool legacy_big_endian) {
  const uint8_t* p = page.data();
  return crc(p + kFilPageOffset, kFilPageLsn - kFilPageOffset, kFilPageOffset, legacy_big_endian) ^
         crc(p + kFilPageType, 2, kFilPageType, legacy_big_endian) ^
         crc(p + kFilPageSpaceId, page.size() - kFilPageSpaceId, kFilPageSpaceId, legacy_big_endian);
}

uint32_t zip_page_adler32(std::span<const uint8_t> page) {
  const uint8_t* p = page.data();
  // MySQL seeds zlib's adler32() with 0, not the usual 1.
  uint32_t a = adler32(0, p + kFilPageOffset, kFilPageLsn - kFilPageOffset);
  a = adler32(a, p + kFilPageType, 2);
  return adler32(a, p + kFilPageSpaceId, page.size() - kFilPageSpaceId);
}

uint32_t full_crc32_checksum(std::span<const uint8_t> page, size_t stored_size) {
  return crc32c(0, page.data(), stored_size - 4);
}

PageVerdict check_page(std::span<const uint8_t> page, const TablespaceFormat& format, PageNo expected_page_no,
                       std::optional<SpaceId> expected_space_id) {
  const FilHeader h = read_fil_header(page);
  PageVerdict v;
  if (format.full_crc32) {
    v = check_full_crc32(page, h);
  } else if (format.row_compressed) {
    v = check_row_compressed(page, h);
  } else if (format.flavour == Flavour::kMysql &&
             (h.type == kPageTypeMysqlEncrypted || h.type == kPageTypeMysqlCompressedEncrypted ||
              h.type == kPageTypeMysqlEncryptedRtree)) {
    v = {PageStatus::kUnverifiable, PageDetail::kEncrypted, h.lsn};
  } else if (format.flavour == Flavour::kMysql && h.type == kPageTypeMysqlCompressed) {
    v = {PageStatus::kUnverifiable, PageDetail::kTransparentCompression, h.lsn};
  } else if (format.flavour == Flavour::kMariadb && format.page_compressed &&
             (h.type == kPageTypeMariadbPageCompressed || h.type == kPageTypeMariadbPageCompressedEncrypted)) {
    v = {PageStatus::kUnverifiable, PageDetail::kLegacyPageCompression, h.lsn};
  } else {
    v = check_legacy(page, h, format);
  }
  if (v.status == PageStatus::kEmpty || v.status == PageStatus::kCorrupt) return v;
  // The header is in plain text in every format: a page that validates but sits at the wrong
  // place, or belongs to another tablespace, is still a wrong copy.
  if (h.page_no != expected_page_no) return corrupt(PageDetail::kPageNumberMismatch, h.lsn);
  // A full_crc32 page_compressed page keeps only bytes 0..25 of the header: its compressed
  // payload starts at byte 26 (seen on MariaDB 10.11), so there is no space id to compare.
  const bool header_truncated = format.full_crc32 && (h.type & kFullCrc32CompressedMarker);
  if (expected_space_id && !header_truncated && h.space_id != *expected_space_id)
    return corrupt(PageDetail::kSpaceIdMismatch, h.lsn);
  return v;
}

const char* page_detail_name(PageDetail d) {
  switch (d) {
    case PageDetail::kNone: return "none";
    case PageDetail::kCrc32: return "crc32";
    case PageDetail::kCrc32LegacyBigEndian: return "crc32 (legacy big-endian)";
    case PageDetail::kInnodbLegacy: return "innodb";
    case PageDetail::kNoChecksumMagic: return "none (0xDEADBEEF)";
    case PageDetail::kFullCrc32: return "full_crc32";
    case PageDetail::kEncrypted: return "encrypted";
    case PageDetail::kTransparentCompression: return "transparent page compression";
    case PageDetail::kLegacyPageCompression: return "page_compressed (legacy format)";
    case PageDetail::kLsnMismatch: return "LSN in header and trailer differ";
    case PageDetail::kChecksumMismatch: return "checksum mismatch";
    case PageDetail::kPageNumberMismatch: return "page number does not match its position";
    case PageDetail::kSpaceIdMismatch: return "space id does not match the tablespace";
    case PageDetail::kBadCompressedLength: return "compressed length out of range";
  }
  return "?";
}

}  // namespace innodb
