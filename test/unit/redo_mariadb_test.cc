// MariaDB 10.8+ ib_logfile0: header, checkpoint blocks, ring arithmetic, the mini-transaction
// parser and the restore-side writer. Synthetic mini-transactions cover every parser outcome;
// the real logs in test/fixtures (MARIADB_REDO.txt) prove the format against mariadbd 10.11.19.
#include "innodb/redo_mariadb.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "innodb/byte_order.h"
#include "innodb/crc32c.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::load;
using mysqlclone::test::text;

namespace md = innodb::mariadb_redo;
using Bytes = std::vector<uint8_t>;
using namespace std::string_view_literals;

// ---- builders (our own encoder of the mtr0types.h format, independent of the parser) ----

// mtr0log.h variable-length code: 1..5 bytes.
Bytes varint(uint32_t v) {
  if (v < 0x80) return {uint8_t(v)};
  if (v < 0x4080) {
    v -= 0x80;
    return {uint8_t(0x80 | v >> 8), uint8_t(v)};
  }
  if (v < 0x204080) {
    v -= 0x4080;
    return {uint8_t(0xC0 | v >> 16), uint8_t(v >> 8), uint8_t(v)};
  }
  if (v < 0x10204080) {
    v -= 0x204080;
    return {uint8_t(0xE0 | v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  }
  v -= 0x10204080;
  return {0xF0, uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// One record: `type` (same_page bit and type in the high nibble), then the length of the rest
// in the low nibble (1..15) or as a code after a 0 nibble (rest = code + 15, code included).
Bytes record(uint8_t type, const Bytes& body) {
  if (body.size() >= 1 && body.size() <= 15) return cat({{uint8_t(type | body.size())}, body});
  for (size_t width = 1; width <= 3; ++width) {
    const Bytes code = varint(uint32_t(width + body.size() - 15));
    if (code.size() == width) return cat({{type}, code, body});
  }
  ADD_FAILURE() << "record body too long for a 3-byte length";
  return {};
}

Bytes page_id(uint32_t space, uint32_t page) { return cat({varint(space), varint(page)}); }

// Records, terminator, nonce (encrypted logs), CRC-32C of records + nonce.
Bytes mtr(const Bytes& records, uint8_t terminator, const Bytes& nonce = {}) {
  Bytes out = cat({records, {terminator}, nonce, Bytes(4)});
  uint32_t crc = innodb::crc32c(0, records.data(), records.size());
  crc = innodb::crc32c(crc, nonce.data(), nonce.size());
  innodb::write_be32(out.data() + out.size() - 4, crc);
  return out;
}

const Bytes kNonce = {1, 2, 3, 4, 5, 6, 7, 8};

// A ring far larger than any test: every LSN below is on the first pass (sequence bit 1).
constexpr md::Ring kBigRing{md::kStartOffset, uint64_t{1} << 30};
constexpr innodb::Lsn kLsn = 50000;

md::MiniTransaction parse(const Bytes& b, innodb::Lsn lsn = kLsn, const md::Ring& ring = kBigRing,
                          md::Encryption enc = md::Encryption::kNone) {
  return md::parse_mini_transaction(b, lsn, ring, enc);
}

// A WRITE to page 5:3 whose body (what follows the type byte and any length code) is
// `body_size` bytes long.
Bytes write_record(size_t body_size) {
  Bytes body = cat({page_id(5, 3), varint(0x60)});
  body.resize(body_size, 0xAB);
  return record(0x30, body);
}

// ---- ring ----

TEST(MariadbRedoRing, CapacityOffsetAndSequenceBit) {
  EXPECT_EQ(md::ring_capacity(128u << 20), (128u << 20) - 12288);
  EXPECT_EQ(md::ring_capacity(12288), 0u);
  EXPECT_EQ(md::ring_capacity(4096), 0u);
  const md::Ring ring{20000, 1000};
  EXPECT_EQ(md::file_offset(ring, 20000), 12288u);
  EXPECT_EQ(md::file_offset(ring, 20999), 12288u + 999);
  EXPECT_EQ(md::file_offset(ring, 21000), 12288u);
  EXPECT_EQ(md::file_offset(ring, 23456), 12288u + 456);
  EXPECT_EQ(md::sequence_bit(ring, 20000), 1);
  EXPECT_EQ(md::sequence_bit(ring, 20999), 1);
  EXPECT_EQ(md::sequence_bit(ring, 21000), 0);
  EXPECT_EQ(md::sequence_bit(ring, 21999), 0);
  EXPECT_EQ(md::sequence_bit(ring, 22000), 1);
  EXPECT_EQ(md::sequence_bit(ring, 23000), 0);
}

// ---- header ----

Bytes reseal(Bytes h) {  // recompute the header CRC after a test edited a field
  innodb::write_be32(h.data() + 508, innodb::crc32c(0, h.data(), 508));
  return h;
}

md::Header plain_header() {
  md::Header h;
  h.first_lsn = 12288;
  h.creator = "MariaDB 10.11.19";
  return h;
}

md::Header enc11_header() {
  md::Header h = plain_header();
  h.format = md::kFormatEnc11;
  h.encryption_area[3] = 1;  // key id 1
  h.encryption_area[7] = 1;  // key version 1
  for (size_t i = 8; i < 28; ++i) h.encryption_area[i] = uint8_t(i * 7);  // message, nonce
  return h;
}

void expect_same(const md::Header& a, const md::Header& b) {
  EXPECT_EQ(a.format, b.format);
  EXPECT_EQ(a.first_lsn, b.first_lsn);
  EXPECT_EQ(a.creator, b.creator);
  EXPECT_EQ(a.encryption_area, b.encryption_area);
}

TEST(MariadbRedoHeader, RoundTrips) {
  for (const md::Header& h : {plain_header(), enc11_header()}) {
    const auto bytes = md::serialize_header(h);
    const md::ParsedHeader p = md::parse_header(bytes);
    ASSERT_EQ(p.status, md::HeaderStatus::kValid);
    expect_same(p.header, h);
  }
}

TEST(MariadbRedoHeader, SerializedFieldsSitWhereTheServerReadsThem) {
  const auto b = md::serialize_header(plain_header());
  EXPECT_EQ(innodb::read_be32(b.data()), 0x50687973u);
  EXPECT_EQ(innodb::read_be32(b.data() + 4), 0u);
  EXPECT_EQ(innodb::read_be64(b.data() + 8), 12288u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data() + 16)), "MariaDB 10.11.19");
  EXPECT_EQ(innodb::read_be32(b.data() + 508), innodb::crc32c(0, b.data(), 508));
}

TEST(MariadbRedoHeader, CreatorIsCutTo32Bytes) {
  md::Header h = plain_header();
  h.creator = std::string(40, 'x');
  EXPECT_EQ(md::parse_header(md::serialize_header(h)).header.creator, std::string(32, 'x'));
}

TEST(MariadbRedoHeader, EncryptionFromFormatAndKeyId) {
  EXPECT_EQ(md::encryption_of(plain_header()), md::Encryption::kNone);
  EXPECT_EQ(md::encryption_of(enc11_header()), md::Encryption::kEnc11);
  md::Header legacy = enc11_header();
  legacy.format = md::kFormat10_8;
  EXPECT_EQ(md::encryption_of(legacy), md::Encryption::kEnc10_8);
  EXPECT_EQ(md::parse_header(md::serialize_header(legacy)).status, md::HeaderStatus::kValid);
}

TEST(MariadbRedoHeader, RefusedAsTheServerRefusesThem) {
  const auto good = md::serialize_header(plain_header());
  const Bytes base(good.begin(), good.end());
  auto status = [](const Bytes& b) { return md::parse_header(b).status; };

  EXPECT_EQ(status(Bytes(base.begin(), base.end() - 1)), md::HeaderStatus::kTooShort);
  Bytes flipped = base;
  flipped[100] ^= 1;
  EXPECT_EQ(status(flipped), md::HeaderStatus::kChecksumMismatch);
  for (uint32_t format : {0x50485953u /* 10.5 */, 0xD0687973u /* FORMAT_ENC_10_8, memory only */, 0u}) {
    Bytes b = base;
    innodb::write_be32(b.data(), format);
    EXPECT_EQ(status(reseal(b)), md::HeaderStatus::kUnsupportedFormat) << std::hex << format;
  }
  Bytes reserved = base;
  reserved[6] = 1;
  EXPECT_EQ(status(reseal(reserved)), md::HeaderStatus::kReservedNotZero);
  Bytes low = base;
  innodb::write_be64(low.data() + 8, 12287);
  EXPECT_EQ(status(reseal(low)), md::HeaderStatus::kFirstLsnTooSmall);

  md::Header no_key = enc11_header();
  no_key.encryption_area[3] = 0;
  EXPECT_EQ(md::parse_header(md::serialize_header(no_key)).status, md::HeaderStatus::kBadEncryptionInfo);
  md::Header other_key = enc11_header();
  other_key.format = md::kFormat10_8;
  other_key.encryption_area[3] = 2;
  EXPECT_EQ(md::parse_header(md::serialize_header(other_key)).status, md::HeaderStatus::kBadEncryptionInfo);
}

// ---- checkpoint blocks ----

Bytes header_area_with(const Bytes& block1, const Bytes& block2) {
  Bytes area(md::kStartOffset, 0);
  std::copy(block1.begin(), block1.end(), area.begin() + md::kCheckpointBlock1);
  std::copy(block2.begin(), block2.end(), area.begin() + md::kCheckpointBlock2);
  return area;
}

Bytes block(innodb::Lsn checkpoint, innodb::Lsn end_lsn) {
  const auto b = md::serialize_checkpoint_block({checkpoint, end_lsn});
  return Bytes(b.begin(), b.end());
}

TEST(MariadbRedoCheckpoint, RoundTripsAndLayout) {
  const Bytes b = block(44404, 44744);
  EXPECT_EQ(innodb::read_be64(b.data()), 44404u);
  EXPECT_EQ(innodb::read_be64(b.data() + 8), 44744u);
  EXPECT_EQ(innodb::read_be32(b.data() + 60), innodb::crc32c(0, b.data(), 60));
  EXPECT_EQ(md::parse_checkpoint_block(b, 12288), (md::Checkpoint{44404, 44744}));
}

TEST(MariadbRedoCheckpoint, InvalidBlocksAreIgnored) {
  for (size_t i : {7u, 15u, 61u}) {  // a field that stays plausible, and the CRC itself
    Bytes crc = block(44404, 44744);
    crc[i] ^= 1;
    EXPECT_FALSE(md::parse_checkpoint_block(crc, 12288)) << i;
  }
  Bytes nonzero = block(44404, 44744);
  nonzero[30] = 1;
  innodb::write_be32(nonzero.data() + 60, innodb::crc32c(0, nonzero.data(), 60));
  EXPECT_FALSE(md::parse_checkpoint_block(nonzero, 12288));
  EXPECT_FALSE(md::parse_checkpoint_block(block(44404, 44403), 12288));  // end before checkpoint
  EXPECT_FALSE(md::parse_checkpoint_block(block(44404, 44744), 44405));  // before first_lsn
  const Bytes good = block(44404, 44744);
  EXPECT_FALSE(md::parse_checkpoint_block({good.data(), 63}, 12288));
}

TEST(MariadbRedoCheckpoint, ChoosesTheLargerCheckpointAndBlock2OnATie) {
  EXPECT_EQ(md::choose_checkpoint(header_area_with(block(44388, 44388), block(44404, 44744)), 12288),
            (md::Checkpoint{44404, 44744}));
  EXPECT_EQ(md::choose_checkpoint(header_area_with(block(50000, 50100), block(44404, 44744)), 12288),
            (md::Checkpoint{50000, 50100}));
  EXPECT_EQ(md::choose_checkpoint(header_area_with(block(50000, 50100), block(50000, 50200)), 12288),
            (md::Checkpoint{50000, 50200}));
  Bytes broken = block(60000, 60000);
  broken[61] ^= 1;
  EXPECT_EQ(md::choose_checkpoint(header_area_with(broken, block(44404, 44744)), 12288),
            (md::Checkpoint{44404, 44744}));
  EXPECT_FALSE(md::choose_checkpoint(header_area_with(Bytes(64, 0), Bytes(64, 0)), 12288));
  const Bytes whole = header_area_with(block(44388, 44388), block(44404, 44744));
  EXPECT_FALSE(md::choose_checkpoint({whole.data(), md::kCheckpointBlock2 + 63}, 12288));
}

// ---- mini-transaction framing ----

TEST(MariadbRedoMtr, TheMtr0typesWriteExampleIsComplete) {
  // "0x36 0x40 0x57 0x60 ...": WRITE, 6 bytes: space 0x40, page 0x57, offset 0x60, 3 data bytes.
  const Bytes b = mtr({0x36, 0x40, 0x57, 0x60, 0x12, 0x34, 0x56}, 1);
  const md::MiniTransaction m = parse(b);
  EXPECT_EQ(m.status, md::MtrStatus::kComplete);
  EXPECT_EQ(m.defect, md::MtrDefect::kNone);
  EXPECT_EQ(m.size, 12u);
  EXPECT_EQ(m.terminator_offset, 7u);
  EXPECT_TRUE(m.file_records.empty());
}

TEST(MariadbRedoMtr, EveryLengthEncodingWidth) {
  // Body sizes (after the type byte and any length code) and the code width they need: none
  // (1..15 in the low nibble), then 1, 2 and 3 bytes at their smallest and largest.
  const std::vector<std::pair<size_t, size_t>> cases = {
      {4, 0},   {9, 0},    {15, 0},   {16, 1},     {141, 1},     {142, 2},
      {8000, 2}, {16524, 2}, {16525, 3}, {200000, 3}, {1000000, 3},
  };
  for (const auto& [body, width] : cases) {
    SCOPED_TRACE(body);
    const Bytes rec = write_record(body);
    ASSERT_EQ(rec.size(), 1 + width + body);
    const Bytes b = mtr(rec, 1);
    const md::MiniTransaction m = parse(b);
    ASSERT_EQ(m.status, md::MtrStatus::kComplete);
    EXPECT_EQ(m.terminator_offset, rec.size());
    EXPECT_EQ(m.size, b.size());
  }
}

TEST(MariadbRedoMtr, HandWrittenLengthCodes) {
  // 0x30 0x00: rest = 0 + 15 bytes, the code included -> 14 more bytes.
  Bytes one = {0x30, 0x00};
  one.resize(16, 0x11);
  EXPECT_EQ(parse(mtr(one, 1)).terminator_offset, 16u);
  // 0x30 0x80 0x00: code 0x80 -> 128, rest 143 with the 2 code bytes -> 141 more bytes.
  Bytes two = {0x30, 0x80, 0x00};
  two.resize(1 + 143, 0x22);
  EXPECT_EQ(parse(mtr(two, 1)).terminator_offset, 144u);
  // 0x30 0xC0 0x00 0x00: code 0x4080 -> 16512, rest 16527 with the 3 code bytes.
  Bytes three = {0x30, 0xC0, 0x00, 0x00};
  three.resize(1 + 16527, 0x33);
  EXPECT_EQ(parse(mtr(three, 1)).terminator_offset, 16528u);
}

Bytes mixed_records() {  // a page record, a same-page record, a 1-byte and a 2-byte length code
  return cat({write_record(6), record(0xB0, {0x10, 0x01, 0x02}), write_record(40), write_record(300)});
}

TEST(MariadbRedoMtr, EveryTruncationNeedsMore) {
  for (md::Encryption enc : {md::Encryption::kNone, md::Encryption::kEnc10_8}) {
    const Bytes b = mtr(mixed_records(), 1, enc == md::Encryption::kNone ? Bytes{} : kNonce);
    ASSERT_EQ(parse(b, kLsn, kBigRing, enc).status, md::MtrStatus::kComplete);
    // Views into the whole buffer: the parser must not look past the end of its view.
    for (size_t n = 0; n < b.size(); ++n)
      EXPECT_EQ(md::parse_mini_transaction({b.data(), n}, kLsn, kBigRing, enc).status, md::MtrStatus::kNeedMore)
          << "prefix " << n;
  }
}

TEST(MariadbRedoMtr, TheNextMtrMayFollowInTheView) {
  const Bytes first = mtr(mixed_records(), 1), second = mtr(write_record(9), 1);
  const Bytes both = cat({first, second});
  const md::MiniTransaction m = parse(both);
  ASSERT_EQ(m.status, md::MtrStatus::kComplete);
  EXPECT_EQ(m.size, first.size());
  const md::MiniTransaction n = parse(Bytes(both.begin() + m.size, both.end()), kLsn + m.size);
  EXPECT_EQ(n.status, md::MtrStatus::kComplete);
  EXPECT_EQ(n.size, second.size());
}

void expect_not_written(const md::MiniTransaction& m, md::MtrDefect defect) {
  EXPECT_EQ(m.status, md::MtrStatus::kNotWrittenYet);
  EXPECT_EQ(m.defect, defect);
}

TEST(MariadbRedoMtr, ATerminatorWhereTheFirstRecordShouldStartIsTheEnd) {
  expect_not_written(parse({0x00, 0x00, 0x00}), md::MtrDefect::kEmpty);
  expect_not_written(parse({0x01, 0x12, 0x34}), md::MtrDefect::kEmpty);  // even the expected bit
  const Bytes zero = {0x00};
  EXPECT_EQ(md::parse_mini_transaction({zero.data(), 0}, kLsn, kBigRing, md::Encryption::kNone).status,
            md::MtrStatus::kNeedMore);
}

TEST(MariadbRedoMtr, TerminatorOfTheOtherPassIsNotWritten) {
  const md::Ring ring{12288, 100000};  // pass 0: LSN < 112288; pass 1 after
  const Bytes recs = mixed_records();
  expect_not_written(parse(mtr(recs, 0), 20000, ring), md::MtrDefect::kTerminatorMismatch);
  expect_not_written(parse(mtr(recs, 1), 120000, ring), md::MtrDefect::kTerminatorMismatch);
  EXPECT_EQ(parse(mtr(recs, 0), 120000, ring).status, md::MtrStatus::kComplete);
  // The check comes before the CRC: a stale mtr of the old pass is rejected even when truncated.
  const Bytes stale = mtr(recs, 0);
  expect_not_written(parse(Bytes(stale.begin(), stale.begin() + recs.size() + 1), 20000, ring),
                     md::MtrDefect::kTerminatorMismatch);
}

TEST(MariadbRedoMtr, ChecksumCoversRecordsAndNonceButNotTheTerminator) {
  for (md::Encryption enc : {md::Encryption::kNone, md::Encryption::kEnc11}) {
    const Bytes nonce = enc == md::Encryption::kNone ? Bytes{} : kNonce;
    const Bytes rec = write_record(40);
    const Bytes b = mtr(rec, 1, nonce);
    // Every byte that is neither the type byte, the length code nor the terminator.
    for (size_t i = 2; i < b.size(); ++i) {
      if (i == rec.size()) continue;
      Bytes bad = b;
      bad[i] ^= 0x40;
      expect_not_written(parse(bad, kLsn, kBigRing, enc), md::MtrDefect::kChecksumMismatch);
    }
  }
}

TEST(MariadbRedoMtr, NoSingleByteChangeYieldsACompleteMtr) {
  const Bytes b = mtr(mixed_records(), 1);
  for (size_t i = 0; i < b.size(); ++i)
    for (uint8_t x : {0x01, 0x10, 0x80, 0xFF}) {
      Bytes bad = b;
      bad[i] ^= x;
      EXPECT_NE(parse(bad).status, md::MtrStatus::kComplete) << "byte " << i << " ^ " << int(x);
    }
}

TEST(MariadbRedoMtr, EncryptedMtrsCarryANonce) {
  const Bytes b = mtr(mixed_records(), 1, kNonce);
  EXPECT_EQ(parse(b, kLsn, kBigRing, md::Encryption::kEnc10_8).size, b.size());
  EXPECT_EQ(parse(b, kLsn, kBigRing, md::Encryption::kEnc11).size, b.size());
  EXPECT_NE(parse(b).status, md::MtrStatus::kComplete);
  EXPECT_NE(parse(mtr(mixed_records(), 1), kLsn, kBigRing, md::Encryption::kEnc11).status, md::MtrStatus::kComplete);
}

TEST(MariadbRedoMtr, LengthsTheServerRejects) {
  // 4- and 5-byte length codes are at least 0x204080: rejected before their bytes arrive.
  expect_not_written(parse({0x30, 0xE0}), md::MtrDefect::kBadLength);
  expect_not_written(parse({0x30, 0xF0, 0, 0}), md::MtrDefect::kBadLength);
  expect_not_written(parse({0x30, 0xFF}), md::MtrDefect::kBadLength);
  // 3-byte codes of 1 MiB and more.
  const Bytes mib = varint(1u << 20);
  ASSERT_EQ(mib.size(), 3u);
  expect_not_written(parse(cat({{0x30}, mib})), md::MtrDefect::kBadLength);
  // A length code cut short needs more, whatever the bytes beyond the view would say.
  const Bytes cut = {0x30, 0xDF, 0xFF, 0xFF};
  EXPECT_EQ(md::parse_mini_transaction({cut.data(), 3}, kLsn, kBigRing, md::Encryption::kNone).status,
            md::MtrStatus::kNeedMore);
  const Bytes no_code = {0x30, 0xE0};
  EXPECT_EQ(md::parse_mini_transaction({no_code.data(), 1}, kLsn, kBigRing, md::Encryption::kNone).status,
            md::MtrStatus::kNeedMore);
}

TEST(MariadbRedoMtr, RecordsReachingOneMebibyteAreNotAnMtr) {
  // One record of the largest accepted code: 2^20 - 1 + 15 bytes after its type byte.
  Bytes huge = cat({{0x30}, varint((1u << 20) - 1)});
  huge.resize(1 + (1u << 20) - 1 + 15, 0x55);
  huge.push_back(1);
  expect_not_written(parse(huge), md::MtrDefect::kTooLong);
  // The bound is on the bytes after the type bytes, summed: just below it is fine, reaching it
  // is not.
  const Bytes one = write_record(999);
  const size_t after_type = one.size() - 1;
  Bytes recs;
  size_t sum = 0;
  while (sum + after_type < md::kMtrSizeMax) {
    recs.insert(recs.end(), one.begin(), one.end());
    sum += after_type;
  }
  EXPECT_EQ(parse(mtr(recs, 1)).status, md::MtrStatus::kComplete);
  recs.insert(recs.end(), one.begin(), one.end());
  expect_not_written(parse(mtr(recs, 1)), md::MtrDefect::kTooLong);
}

TEST(MariadbRedoMtr, CrossingTheWrapPointFlipsTheExpectedBit) {
  const md::Ring ring{12288, 4096};
  const innodb::Lsn wrap = 12288 + 4096;  // first LSN of the second pass
  const Bytes recs = write_record(38);
  ASSERT_EQ(recs.size(), 40u);
  // Starts on pass 0, terminator on pass 1.
  EXPECT_EQ(parse(mtr(recs, 0), wrap - 20, ring).status, md::MtrStatus::kComplete);
  expect_not_written(parse(mtr(recs, 1), wrap - 20, ring), md::MtrDefect::kTerminatorMismatch);
  // Terminator on the last byte of pass 0 / the first byte of pass 1.
  EXPECT_EQ(parse(mtr(recs, 1), wrap - 41, ring).status, md::MtrStatus::kComplete);
  EXPECT_EQ(parse(mtr(recs, 0), wrap - 40, ring).status, md::MtrStatus::kComplete);
  expect_not_written(parse(mtr(recs, 1), wrap - 40, ring), md::MtrDefect::kTerminatorMismatch);
}

TEST(MariadbRedoMtr, DamagedBytesStayInsideTheView) {
  // Seeded damage to real-looking mini-transactions, each in a buffer of exactly its size, so
  // that a sanitizer build catches any read past the view. Whatever the verdict, a reported
  // size fits the view.
  const Bytes base = mtr(cat({record(0xB0, cat({page_id(5, 0), text("./d/t1.ibd")})), write_record(6), write_record(300)}), 1, kNonce);
  std::mt19937 rng(1234);
  for (int round = 0; round < 20000; ++round) {
    Bytes b = base;
    for (int k = 0, n = int(rng() % 4); k <= n; ++k) b[rng() % b.size()] = uint8_t(rng());
    const Bytes view(b.begin(), b.begin() + rng() % (b.size() + 1));  // allocated to its size
    for (md::Encryption enc : {md::Encryption::kNone, md::Encryption::kEnc10_8, md::Encryption::kEnc11}) {
      const md::MiniTransaction m = parse(view, kLsn, kBigRing, enc);
      if (m.status == md::MtrStatus::kComplete || m.status == md::MtrStatus::kCorrupt) {
        EXPECT_LE(m.size, view.size());
        EXPECT_LT(m.terminator_offset, m.size);
      }
    }
  }
}

// ---- FILE_ records ----

Bytes file_rec(uint8_t op, uint32_t space, const Bytes& names, uint32_t page = 0) {
  return record(op, cat({page_id(space, page), names}));
}

Bytes checkpoint_rec(innodb::Lsn lsn) {
  Bytes b(8);
  innodb::write_be64(b.data(), lsn);
  return file_rec(0xF0, 0, b);
}

TEST(MariadbRedoFileRecords, TheDocsFileCheckpointBytes) {
  // fa 0000 000000000000ad74 01 add4e8f9: FILE_CHECKPOINT(44404) at 44744, seen on 10.11.19.
  const Bytes b = {0xFA, 0, 0, 0, 0, 0, 0, 0, 0, 0xAD, 0x74, 0x01, 0xAD, 0xD4, 0xE8, 0xF9};
  const md::MiniTransaction m = parse(b, 44744, {12288, (128u << 20) - 12288});
  ASSERT_EQ(m.status, md::MtrStatus::kComplete);
  ASSERT_EQ(m.file_records.size(), 1u);
  EXPECT_EQ(m.file_records[0].op, md::FileOp::kCheckpoint);
  EXPECT_EQ(m.file_records[0].checkpoint_lsn, 44404u);
  EXPECT_TRUE(md::holds_file_checkpoint(m, 44404));
  EXPECT_FALSE(md::holds_file_checkpoint(m, 44405));
}

TEST(MariadbRedoFileRecords, NameOperationsDecode) {
  const Bytes recs = cat({file_rec(0x80, 5, text("./d/t1.ibd")), file_rec(0x90, 6, text("./d/t3.ibd")),
                          file_rec(0xA0, 7, text("./d/t2.ibd\0./e/t9.ibd"sv)),
                          file_rec(0xB0, 1, text("./mysql/innodb_table_stats.ibd"))});
  const md::MiniTransaction m = parse(mtr(recs, 1));
  ASSERT_EQ(m.status, md::MtrStatus::kComplete);
  ASSERT_EQ(m.file_records.size(), 4u);
  EXPECT_EQ(m.file_records[0].op, md::FileOp::kCreate);
  EXPECT_EQ(m.file_records[0].space_id, 5u);
  EXPECT_EQ(m.file_records[0].name, "./d/t1.ibd");
  EXPECT_EQ(m.file_records[1].op, md::FileOp::kDelete);
  EXPECT_EQ(m.file_records[1].name, "./d/t3.ibd");
  EXPECT_EQ(m.file_records[2].op, md::FileOp::kRename);
  EXPECT_EQ(m.file_records[2].space_id, 7u);
  EXPECT_EQ(m.file_records[2].name, "./d/t2.ibd");
  EXPECT_EQ(m.file_records[2].new_name, "./e/t9.ibd");
  EXPECT_EQ(m.file_records[3].op, md::FileOp::kModify);
  EXPECT_EQ(m.file_records[3].name, "./mysql/innodb_table_stats.ibd");
  EXPECT_FALSE(m.file_records[3].encrypted);
  EXPECT_FALSE(md::holds_file_checkpoint(m, 0));
}

TEST(MariadbRedoFileRecords, SpaceIdsOfEveryCodeWidth) {
  for (uint32_t space : {5u, 127u, 128u, 16511u, 16512u, 2113663u, 2113664u, 270549119u, 270549120u, 0xFFFFFFFEu}) {
    const md::MiniTransaction m = parse(mtr(file_rec(0xB0, space, text("./a.ibd")), 1));
    ASSERT_EQ(m.status, md::MtrStatus::kComplete) << space;
    ASSERT_EQ(m.file_records.size(), 1u);
    EXPECT_EQ(m.file_records[0].space_id, space);
  }
}

TEST(MariadbRedoFileRecords, SamePageAfterAPageRecordIsNotAFileRecord) {
  // 0xB? after a page record: WRITE to the same page, not FILE_MODIFY.
  const Bytes recs = cat({write_record(6), record(0xB0, {0x7F, 0x23, 0x34}), file_rec(0x80, 5, text("./x.ibd"))});
  const md::MiniTransaction m = parse(mtr(recs, 1));
  EXPECT_EQ(m.status, md::MtrStatus::kComplete);
  EXPECT_TRUE(m.file_records.empty());
}

TEST(MariadbRedoFileRecords, CheckpointWithModifyRecordsBeforeIt) {
  const Bytes recs = cat({file_rec(0xB0, 5, text("./d/t1.ibd")), checkpoint_rec(123456)});
  const md::MiniTransaction m = parse(mtr(recs, 1));
  ASSERT_EQ(m.file_records.size(), 2u);
  EXPECT_TRUE(md::holds_file_checkpoint(m, 123456));
}

TEST(MariadbRedoFileRecords, PaddingIsLeftOut) {
  for (const Bytes& pad : {Bytes{0xF1, 0x00}, Bytes{0xF2, 0x00, 0x00}, checkpoint_rec(0),
                           file_rec(0xF0, 0, Bytes(5, 0)), file_rec(0xF0, 0, Bytes(300, 0))}) {
    const md::MiniTransaction m = parse(mtr(pad, 1));
    EXPECT_EQ(m.status, md::MtrStatus::kComplete);
    EXPECT_TRUE(m.file_records.empty());
  }
}

TEST(MariadbRedoFileRecords, MalformedRecordsMakeTheMtrCorrupt) {
  const std::map<std::string, Bytes> cases = {
      {"no such file operation", file_rec(0xC0, 5, text("./a.ibd"))},
      {"space id code of 6 bytes", record(0xB0, cat({{0xF8, 0, 0, 0, 0, 0}, {0}, text("./a.ibd")}))},
      {"5-byte space id code not 0xF0", record(0xB0, cat({{0xF1, 0, 0, 0, 0}, {0}, text("./a.ibd")}))},
      {"5-byte space id beyond 32 bits", record(0xB0, cat({{0xF0, 0xFF, 0xFF, 0xFF, 0xFF}, {0}, text("./a.ibd")}))},
      {"space id 0xFFFFFFFF, the servers' decode error", file_rec(0xB0, 0xFFFFFFFF, text("./a.ibd"))},
      {"only a space id", record(0xB0, {0x05})},
      {"page number cut short", record(0xB0, {0x05, 0x80})},
      {"page number code of 6 bytes", record(0xB0, cat({{0x05, 0xF8, 0, 0, 0, 0, 0}, text("./a.ibd")}))},
      {"5-byte page number code not 0xF0", record(0xB0, cat({{0x05, 0xF3, 0, 0, 0, 0}, text("./a.ibd")}))},
      {"page number not 0", file_rec(0xB0, 5, text("./a.ibd"), 1)},
      {"no name", record(0xB0, {0x05, 0x00})},
      {"no name, page id 0:0", record(0xB0, page_id(0, 0))},
      {"length 1 holding a NUL, not a checkpoint", {0xB1, 0x00}},
      {"space 0 with a name", file_rec(0x80, 0, text("./a.ibd"))},
      {"rename without NUL", file_rec(0xA0, 5, text("./a.ibd"))},
      {"create with NUL", file_rec(0x80, 5, text("./a.ibd\0./b.ibd"sv))},
      {"name not .ibd", file_rec(0x90, 5, text("./a.frm"))},
      {"new name not .ibd", file_rec(0xA0, 5, text("./a.ibd\0./b.frm"sv))},
      {"new name with NUL", file_rec(0xA0, 5, text("./a.ibd\0./b.ibd\0./c.ibd"sv))},
      {"checkpoint of a tablespace", file_rec(0xF0, 3, Bytes(8, 1))},
      {"checkpoint of 7 non-zero bytes", file_rec(0xF0, 0, Bytes(7, 1))},
      {"checkpoint not last", cat({checkpoint_rec(5000), file_rec(0xB0, 5, text("./a.ibd"))})},
      {"checkpoint of length 1, not NUL", {0xF1, 0x05}},
      {"no payload, page id not 0:0", record(0xF0, page_id(1, 0))},
      {"a good record, then a bad one", cat({file_rec(0xB0, 5, text("./a.ibd")), file_rec(0xC0, 5, text("./b.ibd"))})},
  };
  for (const auto& [name, recs] : cases) {
    const md::MiniTransaction m = parse(mtr(recs, 1));
    EXPECT_EQ(m.status, md::MtrStatus::kCorrupt) << name;
    EXPECT_EQ(m.defect, md::MtrDefect::kBadFileRecord) << name;
    EXPECT_EQ(m.size, recs.size() + 5) << name;
    EXPECT_TRUE(m.file_records.empty()) << name;
  }
}

TEST(MariadbRedoFileRecords, Enc11HidesEverythingButTheOperation) {
  // The bodies are ciphertext: only type and length are in clear.
  const Bytes recs = cat({record(0x80, {0x9C, 0x13, 0x77, 0x01, 0xEE}), record(0xF0, Bytes(10, 0xC3))});
  const md::MiniTransaction m = parse(mtr(recs, 1, kNonce), kLsn, kBigRing, md::Encryption::kEnc11);
  ASSERT_EQ(m.status, md::MtrStatus::kComplete);
  ASSERT_EQ(m.file_records.size(), 2u);
  EXPECT_EQ(m.file_records[0].op, md::FileOp::kCreate);
  EXPECT_TRUE(m.file_records[0].encrypted);
  EXPECT_EQ(m.file_records[1].op, md::FileOp::kCheckpoint);
  EXPECT_TRUE(m.file_records[1].encrypted);
  EXPECT_FALSE(md::holds_file_checkpoint(m, 0));
  // An operation type that does not exist is visible even so.
  EXPECT_EQ(parse(mtr(record(0xD0, Bytes(6, 1)), 1, kNonce), kLsn, kBigRing, md::Encryption::kEnc11).status,
            md::MtrStatus::kCorrupt);
}

TEST(MariadbRedoFileRecords, Enc10_8KeepsFileRecordsInClear) {
  const md::MiniTransaction m =
      parse(mtr(checkpoint_rec(777777), 1, kNonce), kLsn, kBigRing, md::Encryption::kEnc10_8);
  ASSERT_EQ(m.status, md::MtrStatus::kComplete);
  EXPECT_TRUE(md::holds_file_checkpoint(m, 777777));
}

// ---- writing a restore's ib_logfile0 ----

TEST(MariadbRedoWriter, FirstPassTerminatorChangesOnlyThatByte) {
  const md::Ring ring{12288, 100000};
  const Bytes pass1 = mtr(mixed_records(), 0, kNonce);
  const md::MiniTransaction m = parse(pass1, 150000, ring, md::Encryption::kEnc11);
  ASSERT_EQ(m.status, md::MtrStatus::kComplete);
  Bytes copy = pass1;
  md::set_first_pass_terminator(copy, m);
  EXPECT_EQ(copy[m.terminator_offset], 1);
  copy[m.terminator_offset] = 0;
  EXPECT_EQ(copy, pass1);
  copy[m.terminator_offset] = 1;
  EXPECT_EQ(parse(copy, 20000, ring, md::Encryption::kEnc11).status, md::MtrStatus::kComplete);
}

TEST(MariadbRedoWriter, BackupHeaderArea) {
  const md::Header source = enc11_header();
  const Bytes area = md::backup_header_area(source, {44404, 44744}, "10.11.19");
  ASSERT_EQ(area.size(), md::kStartOffset);
  const md::ParsedHeader p = md::parse_header(area);
  ASSERT_EQ(p.status, md::HeaderStatus::kValid);
  EXPECT_EQ(p.header.format, md::kFormatEnc11);
  EXPECT_EQ(p.header.first_lsn, 44404u);
  EXPECT_EQ(p.header.creator, "Backup 10.11.19");
  EXPECT_EQ(p.header.encryption_area, source.encryption_area);
  EXPECT_EQ(md::choose_checkpoint(area, p.header.first_lsn), (md::Checkpoint{44404, 44744}));
  EXPECT_EQ(md::parse_checkpoint_block({area.data() + md::kCheckpointBlock1, 64}, 44404), (md::Checkpoint{44404, 44744}));
  // Everything else is zero, the block at 0x2000 included.
  Bytes rest = area;
  std::fill(rest.begin(), rest.begin() + 512, 0);
  std::fill(rest.begin() + md::kCheckpointBlock1, rest.begin() + md::kCheckpointBlock1 + 64, 0);
  EXPECT_EQ(rest, Bytes(md::kStartOffset, 0));
}

TEST(MariadbRedoWriter, FileSizePolicy) {
  constexpr uint64_t kMiB = 1 << 20;
  EXPECT_EQ(md::backup_file_size(0, 4096), kMiB);
  EXPECT_EQ(md::backup_file_size(kMiB - 12288 - 4096, 4096), kMiB);
  EXPECT_EQ(md::backup_file_size(kMiB - 12288 - 4096 + 1, 4096), 2 * kMiB);
  EXPECT_EQ(md::backup_file_size(kMiB - 12288 - 4096 + 1, 0), 2 * kMiB);  // slack is at least 4 KiB
  EXPECT_EQ(md::backup_file_size(39060000, 2 * kMiB), 40 * kMiB);
}

// ---- real logs written by mariadbd 10.11.19 (test/fixtures/MARIADB_REDO.txt) ----

struct Walk {
  std::vector<std::pair<innodb::Lsn, md::MiniTransaction>> mtrs;  // all kComplete
  md::MiniTransaction last;                                       // the first one that was not
  innodb::Lsn end = 0;                                            // its LSN
};

// Parses mini-transactions from `lsn` while they are complete. `view`: the log bytes from `lsn`.
Walk walk(const Bytes& view, innodb::Lsn lsn, const md::Ring& ring, md::Encryption enc) {
  Walk w;
  size_t pos = 0;
  for (;;) {
    md::MiniTransaction m = md::parse_mini_transaction({view.data() + pos, view.size() - pos}, lsn + pos, ring, enc);
    if (m.status != md::MtrStatus::kComplete) {
      w.last = std::move(m);
      w.end = lsn + pos;
      return w;
    }
    const size_t size = m.size;
    w.mtrs.emplace_back(lsn + pos, std::move(m));
    pos += size;
  }
}

const md::FileRecord* find_op(const Walk& w, md::FileOp op, innodb::Lsn* at = nullptr) {
  for (const auto& [lsn, m] : w.mtrs)
    for (const md::FileRecord& r : m.file_records)
      if (r.op == op) {
        if (at) *at = lsn;
        return &r;
      }
  return nullptr;
}

TEST(MariadbRedoFixture, PlainLogFromTheCheckpoint) {
  const Bytes f = load("mariadb-redo-10.11-plain.bin");
  ASSERT_GT(f.size(), md::kStartOffset);
  const md::ParsedHeader p = md::parse_header(f);
  ASSERT_EQ(p.status, md::HeaderStatus::kValid);
  EXPECT_EQ(p.header.format, md::kFormat10_8);
  EXPECT_EQ(p.header.first_lsn, 12288u);
  EXPECT_EQ(p.header.creator, "MariaDB 10.11.19");
  EXPECT_EQ(md::encryption_of(p.header), md::Encryption::kNone);
  EXPECT_EQ(md::parse_checkpoint_block({f.data() + 0x1000, 64}, 12288), (md::Checkpoint{44388, 44388}));
  const auto c = md::choose_checkpoint(f, p.header.first_lsn);
  ASSERT_EQ(c, (md::Checkpoint{44404, 44744}));

  const md::Ring ring{p.header.first_lsn, md::ring_capacity(128u << 20)};
  EXPECT_EQ(md::file_offset(ring, c->checkpoint), 44404u);
  const Bytes log(f.begin() + md::kStartOffset, f.end());  // the ring from the checkpoint on
  const Walk w = walk(log, c->checkpoint, ring, md::Encryption::kNone);
  EXPECT_EQ(w.mtrs.size(), 136u);
  EXPECT_EQ(w.end, 54838u);  // Innodb_lsn_flushed when the file was copied
  expect_not_written(w.last, md::MtrDefect::kEmpty);

  innodb::Lsn at = 0;
  const md::FileRecord* ckpt = find_op(w, md::FileOp::kCheckpoint, &at);
  ASSERT_TRUE(ckpt);
  EXPECT_EQ(at, c->end_lsn);
  EXPECT_EQ(ckpt->checkpoint_lsn, c->checkpoint);
  bool found_checkpoint = false;
  for (const auto& [lsn, m] : w.mtrs)
    if (md::holds_file_checkpoint(m, c->checkpoint)) found_checkpoint = lsn == c->end_lsn && m.size == 16;
  EXPECT_TRUE(found_checkpoint);

  const md::FileRecord* create = find_op(w, md::FileOp::kCreate, &at);
  ASSERT_TRUE(create);
  EXPECT_EQ(at, 45345u);
  EXPECT_EQ(create->space_id, 5u);
  EXPECT_EQ(create->name, "./d/t1.ibd");
  const md::FileRecord* modify = find_op(w, md::FileOp::kModify, &at);
  ASSERT_TRUE(modify);
  EXPECT_EQ(at, 45327u);  // FILE_MODIFY precedes the first change of the new tablespace
  EXPECT_EQ(modify->name, "./d/t1.ibd");
  const md::FileRecord* rename = find_op(w, md::FileOp::kRename);
  ASSERT_TRUE(rename);
  EXPECT_EQ(rename->space_id, 6u);
  EXPECT_EQ(rename->name, "./d/t2.ibd");
  EXPECT_EQ(rename->new_name, "./d/t3.ibd");
  const md::FileRecord* drop = find_op(w, md::FileOp::kDelete);
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->name, "./d/t3.ibd");

  // Every real mini-transaction, cut anywhere, needs more.
  size_t pos = 0;
  for (const auto& [lsn, m] : w.mtrs) {
    for (size_t n = 0; n < m.size; ++n)
      ASSERT_EQ(md::parse_mini_transaction({log.data() + pos, n}, lsn, ring, md::Encryption::kNone).status,
                md::MtrStatus::kNeedMore)
          << "mtr at " << lsn << " cut at " << n;
    pos += m.size;
  }
}

TEST(MariadbRedoFixture, PlainLogReLaidAsABackupParsesAgain) {
  // §5.4: header with first_lsn = C, checkpoint block, the mini-transactions from C at 12288.
  const Bytes f = load("mariadb-redo-10.11-plain.bin");
  const md::Header source = md::parse_header(f).header;
  const md::Checkpoint c = *md::choose_checkpoint(f, source.first_lsn);
  const md::Ring src_ring{source.first_lsn, md::ring_capacity(128u << 20)};
  const Bytes log(f.begin() + md::kStartOffset, f.end());
  const Walk w = walk(log, c.checkpoint, src_ring, md::Encryption::kNone);
  const size_t data = w.end - c.checkpoint;

  Bytes image = md::backup_header_area(source, c, "10.11.19");
  for (const auto& [lsn, m] : w.mtrs) {
    Bytes copy(log.begin() + (lsn - c.checkpoint), log.begin() + (lsn - c.checkpoint) + m.size);
    md::set_first_pass_terminator(copy, m);
    image.insert(image.end(), copy.begin(), copy.end());
  }
  image.resize(md::backup_file_size(data, 4096), 0);
  EXPECT_EQ(image.size(), 1u << 20);

  const md::ParsedHeader p = md::parse_header(image);
  ASSERT_EQ(p.status, md::HeaderStatus::kValid);
  EXPECT_EQ(p.header.creator, "Backup 10.11.19");
  ASSERT_EQ(md::choose_checkpoint(image, p.header.first_lsn), c);
  const md::Ring ring{p.header.first_lsn, md::ring_capacity(image.size())};
  const Walk again = walk(Bytes(image.begin() + md::kStartOffset, image.end()), c.checkpoint, ring, md::Encryption::kNone);
  EXPECT_EQ(again.mtrs.size(), w.mtrs.size());
  EXPECT_EQ(again.end, w.end);
  expect_not_written(again.last, md::MtrDefect::kEmpty);
}

TEST(MariadbRedoFixture, EncryptedLog) {
  const Bytes f = load("mariadb-redo-10.11-encrypted.bin");
  const md::ParsedHeader p = md::parse_header(f);
  ASSERT_EQ(p.status, md::HeaderStatus::kValid);
  EXPECT_EQ(p.header.format, md::kFormatEnc11);  // 10.11.19 writes 0xF09F979D, not 0xD0687973
  EXPECT_EQ(md::encryption_of(p.header), md::Encryption::kEnc11);
  EXPECT_EQ(innodb::read_be32(p.header.encryption_area.data()), 1u);      // key id
  EXPECT_EQ(innodb::read_be32(p.header.encryption_area.data() + 4), 1u);  // key version
  const auto c = md::choose_checkpoint(f, p.header.first_lsn);
  ASSERT_EQ(c, (md::Checkpoint{47196, 47576}));

  const md::Ring ring{p.header.first_lsn, md::ring_capacity(128u << 20)};
  const Bytes log(f.begin() + md::kStartOffset, f.end());
  const Walk w = walk(log, c->checkpoint, ring, md::Encryption::kEnc11);
  EXPECT_EQ(w.mtrs.size(), 60u);
  EXPECT_EQ(w.end, 52260u);
  expect_not_written(w.last, md::MtrDefect::kEmpty);
  // Without the nonce the very first one fails.
  EXPECT_NE(md::parse_mini_transaction(log, c->checkpoint, ring, md::Encryption::kNone).status,
            md::MtrStatus::kComplete);

  innodb::Lsn at = 0;
  const md::FileRecord* ckpt = find_op(w, md::FileOp::kCheckpoint, &at);
  ASSERT_TRUE(ckpt);
  EXPECT_EQ(at, c->end_lsn);
  EXPECT_TRUE(ckpt->encrypted);
  for (const auto& [lsn, m] : w.mtrs) {
    if (lsn == c->end_lsn) {
      EXPECT_EQ(m.size, 16u + 8u);  // FILE_CHECKPOINT + nonce
    }
  }
  const md::FileRecord* create = find_op(w, md::FileOp::kCreate, &at);
  ASSERT_TRUE(create);
  EXPECT_EQ(at, 48289u);
  EXPECT_TRUE(create->encrypted);
}

TEST(MariadbRedoFixture, LogAcrossTheWrapPoint) {
  const Bytes f = load("mariadb-redo-10.11-wrap.bin");
  const md::ParsedHeader p = md::parse_header(f);
  ASSERT_EQ(p.status, md::HeaderStatus::kValid);
  const md::Ring ring{p.header.first_lsn, md::ring_capacity(4u << 20)};
  const innodb::Lsn wrap = p.header.first_lsn + ring.capacity;
  ASSERT_EQ(wrap, 4194304u);
  constexpr innodb::Lsn kFrom = 4177928;  // a mini-transaction boundary before the wrap point
  const Bytes log(f.begin() + md::kStartOffset, f.end());
  const Walk w = walk(log, kFrom, ring, md::Encryption::kNone);
  EXPECT_EQ(w.last.status, md::MtrStatus::kNeedMore);  // the fixture ends inside one
  std::map<uint8_t, size_t> terminators;
  bool crossing = false;
  for (const auto& [lsn, m] : w.mtrs) {
    const innodb::Lsn t = lsn + m.terminator_offset;
    const uint8_t bit = log[t - kFrom];
    ++terminators[bit];
    EXPECT_EQ(bit, t < wrap ? 1 : 0) << lsn;
    if (lsn < wrap && t >= wrap) {
      crossing = true;
      EXPECT_EQ(lsn, 4194006u);
      EXPECT_EQ(lsn + m.size, 4194443u);
    }
  }
  EXPECT_TRUE(crossing);
  EXPECT_GT(terminators[0], 10u);
  EXPECT_GT(terminators[1], 10u);

  // Re-laid on the first pass of a backup file, the second-pass ones parse again.
  const md::Ring backup{kFrom, uint64_t{1} << 30};
  for (const auto& [lsn, m] : w.mtrs) {
    Bytes copy(log.begin() + (lsn - kFrom), log.begin() + (lsn - kFrom) + m.size);
    md::set_first_pass_terminator(copy, m);
    EXPECT_EQ(md::parse_mini_transaction(copy, lsn, backup, md::Encryption::kNone).status, md::MtrStatus::kComplete);
  }
}

}  // namespace
