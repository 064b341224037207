// MySQL 8.0.30+ redo blocks: synthetic blocks for every rule (including the hdr_no wrap that
// real logs only reach after 512 GiB), then real bytes from a MySQL 9.7.4 instance killed under
// load (test/fixtures/mysql-redo-*.bin, facts in MYSQL_REDO.txt). The real bytes are what prove
// the layout; the synthetic ones cover the branches a short-lived server never takes.
#include "innodb/redo_mysql.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <string>
#include <vector>

#include "innodb/byte_order.h"
#include "innodb/crc32c.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::load;

using namespace innodb::mysql_redo;
using innodb::Lsn;
using Block = std::array<uint8_t, kBlockSize>;

constexpr uint32_t kWrapBlocks = 1u << 30;

// A data block as the server writes it for `block_start`, records filled with a pattern.
Block data_block(Lsn block_start, uint16_t data_len, uint16_t first_rec_group = 12) {
  Block b{};
  for (size_t i = kBlockHeaderSize; i < kBlockChecksumOffset; ++i) b[i] = uint8_t(i * 7 + 1);
  if (data_len < kBlockSize) std::fill(b.begin() + data_len, b.begin() + kBlockChecksumOffset, 0);
  innodb::write_be32(b.data(), hdr_no_for(block_start));
  innodb::write_be16(b.data() + 4, data_len);
  innodb::write_be16(b.data() + 6, first_rec_group);
  innodb::write_be32(b.data() + 8, epoch_no_for(block_start));
  store_block_checksum(b);
  return b;
}

// Overwrites header fields and re-stamps the checksum, as a server writing other values would.
Block with_header(Block b, uint32_t hdr_no_field, uint32_t epoch_no) {
  innodb::write_be32(b.data(), hdr_no_field);
  innodb::write_be32(b.data() + 8, epoch_no);
  store_block_checksum(b);
  return b;
}

Block with_data_len(Block b, uint16_t data_len_field) {
  innodb::write_be16(b.data() + 4, data_len_field);
  store_block_checksum(b);
  return b;
}

Block checkpoint(Lsn lsn) {
  Block b{};
  serialize_checkpoint_block(lsn, b);
  return b;
}

uint32_t crc_of(const Block& b) { return innodb::crc32c(0, b.data(), kBlockChecksumOffset); }

// ---- File header -------------------------------------------------------------------------

TEST(MysqlRedoFileHeader, SerializesTheDocumentedLayout) {
  Block b;
  b.fill(0xAA);
  ASSERT_TRUE(serialize_file_header({6, 0x01020304, 0x1122334455667788, "MySQL 9.7.4", kFlagFileFull}, b));
  EXPECT_EQ(innodb::read_be32(b.data()), 6u);
  EXPECT_EQ(innodb::read_be32(b.data() + 4), 0x01020304u);
  EXPECT_EQ(innodb::read_be64(b.data() + 8), 0x1122334455667788u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data() + 16)), "MySQL 9.7.4");
  EXPECT_EQ(innodb::read_be32(b.data() + 48), kFlagFileFull);
  EXPECT_TRUE(std::all_of(b.begin() + 52, b.begin() + kBlockChecksumOffset, [](uint8_t x) { return x == 0; }));
  EXPECT_EQ(innodb::read_be32(b.data() + kBlockChecksumOffset), crc_of(b));
}

TEST(MysqlRedoFileHeader, RoundTripsIncludingALongestCreator) {
  for (std::string creator : {std::string("MySQL 9.7.4"), std::string(kMaxCreatorLength, 'c')}) {
    const FileHeader in{kFormat8030, 0xCAFE, 161572864, creator, kFlagNoLogging | kFlagCrashUnsafe};
    Block b{};
    ASSERT_TRUE(serialize_file_header(in, b));
    const auto out = parse_file_header(b);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->format, in.format);
    EXPECT_EQ(out->log_uuid, in.log_uuid);
    EXPECT_EQ(out->start_lsn, in.start_lsn);
    EXPECT_EQ(out->creator, in.creator);
    EXPECT_EQ(out->flags, in.flags);
  }
}

TEST(MysqlRedoFileHeader, RejectsABadChecksum) {
  Block b{};
  ASSERT_TRUE(serialize_file_header({kFormat8030, 1, 8192, "MySQL 9.7.4", 0}, b));
  b[9] ^= 0x01;
  EXPECT_FALSE(parse_file_header(b));
}

TEST(MysqlRedoFileHeader, CreatorStopsAt31BytesWithoutTerminator) {
  // The field is 32 bytes but only 31 belong to the name; a writer that filled all 32 must not
  // make us read the flags as text.
  Block b{};
  std::fill(b.begin() + 16, b.begin() + 48, uint8_t('x'));
  store_block_checksum(b);
  const auto h = parse_file_header(b);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->creator, std::string(kMaxCreatorLength, 'x'));
}

TEST(MysqlRedoFileHeader, RefusesCreatorsThatCannotBeStored) {
  for (std::string creator : {std::string(), std::string(kMaxCreatorLength + 1, 'c'), std::string("My\0SQL", 6)}) {
    Block b;
    b.fill(0x55);
    EXPECT_FALSE(serialize_file_header({kFormat8030, 1, 8192, creator, 0}, b)) << creator.size();
    EXPECT_TRUE(std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0x55; }));
  }
}

// ---- Checkpoint blocks ---------------------------------------------------------------------

TEST(MysqlRedoCheckpoint, SerializesLsnAtOffset8AndRoundTrips) {
  Block b;
  b.fill(0xAA);
  serialize_checkpoint_block(161606548, b);
  EXPECT_EQ(innodb::read_be64(b.data() + 8), 161606548u);
  EXPECT_TRUE(std::all_of(b.begin(), b.begin() + 8, [](uint8_t x) { return x == 0; }));
  EXPECT_TRUE(std::all_of(b.begin() + 16, b.begin() + kBlockChecksumOffset, [](uint8_t x) { return x == 0; }));
  EXPECT_EQ(parse_checkpoint_block(b), Lsn{161606548});
  EXPECT_EQ(parse_checkpoint_block(checkpoint(0)), Lsn{0});  // an unused slot is still valid
}

TEST(MysqlRedoCheckpoint, RejectsABadChecksum) {
  Block b = checkpoint(161606548);
  b[200] = 1;
  EXPECT_FALSE(parse_checkpoint_block(b));
}

// ---- Data block header, numbering and checksum ---------------------------------------------

TEST(MysqlRedoDataBlock, ReadsHeaderMaskingFlushAndEncryptedBits) {
  Block b{};
  innodb::write_be32(b.data(), 0x80000000u | 0x4d0f6);
  innodb::write_be16(b.data() + 4, uint16_t(kDataLenEncrypted | 461));
  innodb::write_be16(b.data() + 6, 147);
  innodb::write_be32(b.data() + 8, 3);
  const DataBlockHeader h = read_data_block_header(b);
  EXPECT_EQ(h.hdr_no, 0x4d0f6u);
  EXPECT_EQ(h.data_len, 461);
  EXPECT_TRUE(h.encrypted);
  EXPECT_EQ(h.first_rec_group, 147);
  EXPECT_EQ(h.epoch_no, 3u);
  innodb::write_be16(b.data() + 4, 512);
  EXPECT_FALSE(read_data_block_header(b).encrypted);
}

TEST(MysqlRedoDataBlock, NumbersBlocksByLsnAcrossTheWrap) {
  EXPECT_EQ(hdr_no_for(0), 1u);
  EXPECT_EQ(epoch_no_for(0), 1u);
  EXPECT_EQ(hdr_no_for(161606144), 0x4d0f6u);  // 161606144 / 512 + 1, as seen on 9.7.4
  const Lsn last_of_epoch1 = Lsn(kWrapBlocks - 1) * kBlockSize;
  EXPECT_EQ(hdr_no_for(last_of_epoch1), kWrapBlocks);  // 2^30 is a valid hdr_no
  EXPECT_EQ(epoch_no_for(last_of_epoch1), 1u);
  EXPECT_EQ(hdr_no_for(last_of_epoch1 + kBlockSize), 1u);
  EXPECT_EQ(epoch_no_for(last_of_epoch1 + kBlockSize), 2u);
  EXPECT_EQ(hdr_no_for(Lsn(5) * kWrapBlocks * kBlockSize + 7 * kBlockSize), 8u);
  EXPECT_EQ(epoch_no_for(Lsn(5) * kWrapBlocks * kBlockSize + 7 * kBlockSize), 6u);
}

TEST(MysqlRedoDataBlock, ChecksumIsCrc32cOfFirst508Bytes) {
  Block b = data_block(8192, 512);
  EXPECT_EQ(innodb::read_be32(b.data() + kBlockChecksumOffset), crc_of(b));
  EXPECT_TRUE(block_checksum_ok(b));
  for (size_t i : {size_t(0), size_t(300), kBlockChecksumOffset - 1, kBlockSize - 1}) {
    Block flipped = b;
    flipped[i] ^= 0x40;
    EXPECT_FALSE(block_checksum_ok(flipped)) << i;
  }
  innodb::write_be32(b.data() + kBlockChecksumOffset, 0xDEADBEEF);  // innodb_log_checksums=OFF
  EXPECT_FALSE(block_checksum_ok(b));
}

// ---- Classifier ----------------------------------------------------------------------------

void expect_verdict(ConstBlock b, Lsn block_start, BlockState state, Lsn end_lsn) {
  const BlockVerdict v = classify_block(b, block_start);
  EXPECT_EQ(int(v.state), int(state));
  EXPECT_EQ(v.end_lsn, end_lsn);
}

TEST(MysqlRedoClassify, FullAndPartial) {
  const Lsn s = 167306752;
  expect_verdict(data_block(s, 512), s, BlockState::kFull, s + 512);
  expect_verdict(data_block(s, 461, 99), s, BlockState::kPartial, s + 461);
  expect_verdict(data_block(s, 12, 0), s, BlockState::kPartial, s + 12);    // header only
  expect_verdict(data_block(s, 507, 0), s, BlockState::kPartial, s + 507);  // last record byte
}

TEST(MysqlRedoClassify, IgnoresFlushBitAndEncryptedBit) {
  const Lsn s = 167306752;
  const Block b = data_block(s, 512);
  expect_verdict(with_header(b, 0x80000000u | hdr_no_for(s), epoch_no_for(s)), s, BlockState::kFull, s + 512);
  expect_verdict(with_data_len(b, uint16_t(kDataLenEncrypted | 512)), s, BlockState::kFull, s + 512);
  expect_verdict(with_data_len(b, uint16_t(kDataLenEncrypted | 300)), s, BlockState::kPartial, s + 300);
}

TEST(MysqlRedoClassify, BadChecksumIsNotWrittenYet) {
  const Lsn s = 167306752;
  Block torn = data_block(s, 512);
  torn[100] ^= 1;
  expect_verdict(torn, s, BlockState::kNotWrittenYet, s);
  expect_verdict(Block{}, s, BlockState::kNotWrittenYet, s);  // zero-filled write-ahead tail
}

TEST(MysqlRedoClassify, OlderContentIsNotWrittenYet) {
  const Lsn s = 167306752;
  const Lsn lap = 32 * (262144 - 2048);  // one turn of a 32-file log
  expect_verdict(data_block(s - lap, 512), s, BlockState::kNotWrittenYet, s);
  expect_verdict(data_block(s - kBlockSize, 300), s, BlockState::kNotWrittenYet, s);
  // Same hdr_no one epoch (512 GiB) earlier: only the epoch tells.
  const Lsn far = Lsn(3) * kWrapBlocks * kBlockSize + s;
  expect_verdict(data_block(far - Lsn(kWrapBlocks) * kBlockSize, 512), far, BlockState::kNotWrittenYet, far);
}

TEST(MysqlRedoClassify, NewerContentIsOverwritten) {
  const Lsn s = 167306752;
  const Lsn lap = 32 * (262144 - 2048);
  expect_verdict(data_block(s + lap, 512), s, BlockState::kOverwritten, s);
  expect_verdict(data_block(s + kBlockSize, 100), s, BlockState::kOverwritten, s);
  expect_verdict(data_block(s + Lsn(kWrapBlocks) * kBlockSize, 512), s, BlockState::kOverwritten, s);
}

TEST(MysqlRedoClassify, HdrNoWrapIsJudgedWithTheEpoch) {
  const Lsn last_of_epoch1 = Lsn(kWrapBlocks - 1) * kBlockSize;
  const Lsn first_of_epoch2 = last_of_epoch1 + kBlockSize;
  // The current blocks on both sides of the wrap.
  expect_verdict(data_block(last_of_epoch1, 512), last_of_epoch1, BlockState::kFull, first_of_epoch2);
  expect_verdict(data_block(first_of_epoch2, 512), first_of_epoch2, BlockState::kFull, first_of_epoch2 + 512);
  // hdr_no 2^30 (epoch 1) where hdr_no 1 (epoch 2) is due: numerically larger, but older.
  expect_verdict(data_block(last_of_epoch1, 512), first_of_epoch2, BlockState::kNotWrittenYet, first_of_epoch2);
  // hdr_no 1 (epoch 2) where hdr_no 2^30 (epoch 1) is due: numerically smaller, but newer.
  expect_verdict(data_block(first_of_epoch2, 512), last_of_epoch1, BlockState::kOverwritten, last_of_epoch1);
}

TEST(MysqlRedoClassify, ImpossibleHeadersAreMalformed) {
  const Lsn s = 167306752;
  const Block b = data_block(s, 512);
  for (uint16_t len : {0, 5, 11, 508, 511, 513, 600})
    expect_verdict(with_data_len(b, len), s, BlockState::kMalformed, s);
  expect_verdict(with_header(b, 0, epoch_no_for(s)), s, BlockState::kMalformed, s);
  expect_verdict(with_header(b, kWrapBlocks + 1, epoch_no_for(s)), s, BlockState::kMalformed, s);
  expect_verdict(with_header(b, hdr_no_for(s), 0), s, BlockState::kMalformed, s);
}

// ---- Files and LSNs ------------------------------------------------------------------------

TEST(MysqlRedoFiles, RangeAndOffsets) {
  const FileRange r = file_range(161572864, 262144);
  EXPECT_EQ(r.start_lsn, 161572864u);
  EXPECT_EQ(r.end_lsn, 161572864u + 262144 - 2048);
  EXPECT_TRUE(r.contains(r.start_lsn));
  EXPECT_TRUE(r.contains(r.end_lsn - 1));
  EXPECT_FALSE(r.contains(r.end_lsn));
  EXPECT_FALSE(r.contains(r.start_lsn - 1));
  EXPECT_EQ(r.offset_of(161606144), 35328u);  // the checkpoint block of the fixture
  EXPECT_EQ(r.offset_of(r.start_lsn), kHeaderAreaSize);
  EXPECT_EQ(r.lsn_at(35328), 161606144u);
  EXPECT_EQ(r.lsn_at(r.offset_of(161606548)), 161606548u);
  const FileRange tiny = file_range(8192, 1024);  // no data area at all
  EXPECT_EQ(tiny.end_lsn, tiny.start_lsn);
  EXPECT_FALSE(tiny.contains(8192));
}

TEST(MysqlRedoFiles, FindsTheFileCoveringAnLsn) {
  const std::vector<FileRange> files = {file_range(161052672, 262144), file_range(161312768, 262144),
                                        file_range(161572864, 262144)};
  EXPECT_EQ(find_file_covering(files, 161052672), size_t{0});
  EXPECT_EQ(find_file_covering(files, 161312767), size_t{0});
  EXPECT_EQ(find_file_covering(files, 161312768), size_t{1});  // next file starts where one ends
  EXPECT_EQ(find_file_covering(files, 161606548), size_t{2});
  EXPECT_FALSE(find_file_covering(files, 161052671));
  EXPECT_FALSE(find_file_covering(files, 161832960));
}

// The result views cp1 and cp2: they must outlive it.
RedoFileHeaders file_with(Lsn start, const Block& cp1, const Block& cp2) {
  return RedoFileHeaders{FileHeader{kFormat8030, 7, start, "MySQL 9.7.4", 0}, 262144, cp1, cp2};
}

TEST(MysqlRedoCheckpointChoice, LargestValidInRangeAcrossFiles) {
  const Lsn f0 = 161052672, f1 = 161312768, f2 = 161572864;
  const Block zero = checkpoint(0);
  Block bad = checkpoint(161700000);  // would be the largest, but its checksum is broken
  bad[8] ^= 0xFF;
  const Block a = checkpoint(161123725), b = checkpoint(161119331), c = checkpoint(161606548);
  const std::vector<RedoFileHeaders> files = {file_with(f0, a, b), file_with(f1, zero, zero), file_with(f2, bad, c)};
  const auto cp = find_checkpoint(files);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->lsn, 161606548u);
  EXPECT_EQ(cp->file_index, 2u);
}

TEST(MysqlRedoCheckpointChoice, FileWhoseNewestCheckpointIsOutsideItIsSkippedWhole) {
  const Lsn f0 = 161052672, f1 = 161312768;
  // File 1's larger slot points beyond the file; its smaller slot is in range and larger than
  // file 0's, but the server judges each file by its larger slot only.
  const Block cp0 = checkpoint(161123725), unused = checkpoint(0);
  const Block inside = checkpoint(161400000), beyond = checkpoint(161600000);
  const std::vector<RedoFileHeaders> files = {file_with(f0, cp0, unused), file_with(f1, inside, beyond)};
  const auto cp = find_checkpoint(files);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->lsn, 161123725u);
  EXPECT_EQ(cp->file_index, 0u);
}

TEST(MysqlRedoCheckpointChoice, CheckpointBelowTheFileIsIgnored) {
  // A recycled file keeps the header of its new lap but may carry nothing newer; a checkpoint
  // from before its start_lsn is not in it.
  const Block older = checkpoint(161123725), unused = checkpoint(0);
  const std::vector<RedoFileHeaders> files = {file_with(161572864, older, unused)};
  EXPECT_FALSE(find_checkpoint(files));
}

TEST(MysqlRedoCheckpointChoice, TieGoesToTheFirstFileAndNothingValidIsNothing) {
  const Lsn f0 = 161052672;
  const Block cp = checkpoint(161123725), unused = checkpoint(0);
  const std::vector<RedoFileHeaders> twins = {file_with(f0, cp, unused), file_with(f0, unused, cp)};
  EXPECT_EQ(find_checkpoint(twins)->file_index, 0u);
  const std::vector<RedoFileHeaders> never_used = {file_with(f0, unused, unused)};
  EXPECT_FALSE(find_checkpoint(never_used));
  EXPECT_FALSE(find_checkpoint({}));
}

// ---- Writing #ib_redo0 ---------------------------------------------------------------------

TEST(MysqlRedoWrite, MtrBoundaryAvoidsHeaderAndTrailer) {
  for (Lsn off : {0, 1, 11, 508, 511}) EXPECT_FALSE(is_mtr_boundary(161606144 + off)) << off;
  for (Lsn off : {12, 137, 404, 507}) EXPECT_TRUE(is_mtr_boundary(161606144 + off)) << off;
}

TEST(MysqlRedoWrite, CreatorsThatSwitchRecoveryMode) {
  EXPECT_TRUE(creator_switches_recovery_mode("MEB 8.0.30"));
  EXPECT_TRUE(creator_switches_recovery_mode("MEB"));
  EXPECT_TRUE(creator_switches_recovery_mode("MySQL Clone"));
  EXPECT_TRUE(creator_switches_recovery_mode("MySQL Clone 9.7.4"));
  EXPECT_FALSE(creator_switches_recovery_mode("MySQL 9.7.4"));
  EXPECT_FALSE(creator_switches_recovery_mode("MySQL Clon"));
  EXPECT_FALSE(creator_switches_recovery_mode("mysqlclone 0.1"));
  EXPECT_FALSE(creator_switches_recovery_mode("meb"));
}

ConstBlock block_at(const HeaderArea& area, size_t offset) { return ConstBlock(area.data() + offset, kBlockSize); }

TEST(MysqlRedoWrite, HeaderAreaForACheckpoint) {
  const Lsn c = 161606548;
  const auto area = build_header_area(c, 0x7b3bbf3d, "MySQL 9.7.4");
  ASSERT_TRUE(area);
  const auto h = parse_file_header(block_at(*area, 0));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->format, 6u);
  EXPECT_EQ(h->log_uuid, 0x7b3bbf3du);
  EXPECT_EQ(h->start_lsn, 161606144u);
  EXPECT_EQ(h->creator, "MySQL 9.7.4");
  EXPECT_EQ(h->flags, 0u);
  EXPECT_EQ(parse_checkpoint_block(block_at(*area, kCheckpoint1Offset)), c);
  EXPECT_EQ(parse_checkpoint_block(block_at(*area, kCheckpoint2Offset)), c);
  const ConstBlock encryption = block_at(*area, kEncryptionBlockOffset);
  EXPECT_TRUE(std::all_of(encryption.begin(), encryption.end(), [](uint8_t x) { return x == 0; }));
}

TEST(MysqlRedoWrite, HeaderAreaCarriesTheGivenEncryptionBlock) {
  Block enc;
  for (size_t i = 0; i < enc.size(); ++i) enc[i] = uint8_t(i);
  const auto area = build_header_area(161606548, 1, "MySQL 9.7.4", ConstBlock(enc));
  ASSERT_TRUE(area);
  EXPECT_TRUE(std::equal(enc.begin(), enc.end(), area->begin() + kEncryptionBlockOffset));
}

TEST(MysqlRedoWrite, HeaderAreaRefusals) {
  EXPECT_FALSE(build_header_area(161606548, 0, "MySQL 9.7.4"));               // uuid 0
  EXPECT_FALSE(build_header_area(161606144, 1, "MySQL 9.7.4"));               // block start
  EXPECT_FALSE(build_header_area(161606144 + 510, 1, "MySQL 9.7.4"));         // in the trailer
  EXPECT_FALSE(build_header_area(8192 - 512 + 100, 1, "MySQL 9.7.4"));        // before LOG_START_LSN
  EXPECT_TRUE(build_header_area(8192 + 12, 1, "MySQL 9.7.4"));                // first possible
  EXPECT_FALSE(build_header_area(161606548, 1, "MEB 8.0.30"));
  EXPECT_FALSE(build_header_area(161606548, 1, "MySQL Clone"));
  EXPECT_FALSE(build_header_area(161606548, 1, ""));
  EXPECT_FALSE(build_header_area(161606548, 1, std::string(kMaxCreatorLength + 1, 'c')));
}

// A later file of the same log: the first file's header with its own start LSN, no checkpoint
// (0 in both slots, valid CRCs), the same encryption block.
TEST(MysqlRedoWrite, NextHeaderAreaContinuesTheFirstFilesLog) {
  Block enc;
  for (size_t i = 0; i < enc.size(); ++i) enc[i] = uint8_t(i * 7);
  const auto first = build_header_area(161606548, 0x7b3bbf3d, "MySQL 9.7.4", ConstBlock(enc));
  ASSERT_TRUE(first);
  const Lsn start = 161606144 + (1 << 20) - kHeaderAreaSize;
  const auto next = build_next_header_area(*first, start);
  ASSERT_TRUE(next);
  const auto h = parse_file_header(block_at(*next, 0));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->format, 6u);
  EXPECT_EQ(h->log_uuid, 0x7b3bbf3du);
  EXPECT_EQ(h->start_lsn, start);
  EXPECT_EQ(h->creator, "MySQL 9.7.4");
  EXPECT_EQ(h->flags, 0u);
  EXPECT_EQ(parse_checkpoint_block(block_at(*next, kCheckpoint1Offset)), Lsn{0});
  EXPECT_EQ(parse_checkpoint_block(block_at(*next, kCheckpoint2Offset)), Lsn{0});
  EXPECT_TRUE(std::equal(enc.begin(), enc.end(), next->begin() + kEncryptionBlockOffset));

  EXPECT_FALSE(build_next_header_area(*first, start + 100));     // not a block start
  EXPECT_FALSE(build_next_header_area(*first, 161606144));       // not past the first file's start
  HeaderArea damaged = *first;
  damaged[20] ^= 1;
  EXPECT_FALSE(build_next_header_area(damaged, start));           // header CRC
}

TEST(MysqlRedoWrite, TrimsAFullBlockAtTheEnd) {
  const Lsn s = 68230144, e = s + 318;  // §5.2: E = 68230462, its block already full
  Block b = data_block(s, 512, 24);
  ASSERT_TRUE(trim_last_block(b, e));
  const DataBlockHeader h = read_data_block_header(b);
  EXPECT_EQ(h.data_len, 318);
  EXPECT_EQ(h.first_rec_group, 24);
  EXPECT_EQ(h.hdr_no, hdr_no_for(s));
  EXPECT_EQ(h.epoch_no, epoch_no_for(s));
  const Block original = data_block(s, 512, 24);
  EXPECT_TRUE(std::equal(b.begin() + 12, b.begin() + 318, original.begin() + 12));  // records kept
  EXPECT_TRUE(std::all_of(b.begin() + 318, b.begin() + kBlockChecksumOffset, [](uint8_t x) { return x == 0; }));
  expect_verdict(b, s, BlockState::kPartial, e);
}

TEST(MysqlRedoWrite, TrimClampsFirstRecGroupAndKeepsEncryptedBit) {
  const Lsn s = 68230144, e = s + 100;
  Block b = with_data_len(data_block(s, 512, 300), uint16_t(kDataLenEncrypted | 512));
  ASSERT_TRUE(trim_last_block(b, e));
  const DataBlockHeader h = read_data_block_header(b);
  EXPECT_EQ(h.data_len, 100);
  EXPECT_TRUE(h.encrypted);
  EXPECT_EQ(h.first_rec_group, 100);
  Block none = data_block(s, 512, 0);  // no mini-transaction starts here: stays 0
  ASSERT_TRUE(trim_last_block(none, e));
  EXPECT_EQ(read_data_block_header(none).first_rec_group, 0);
  EXPECT_TRUE(block_checksum_ok(b));
}

TEST(MysqlRedoWrite, TrimAcceptsAPartialBlockThatReachesTheEnd) {
  const Lsn s = 68230144;
  Block same = data_block(s, 318, 24);
  const Block before = same;
  ASSERT_TRUE(trim_last_block(same, s + 318));
  EXPECT_EQ(same, before);  // already ending there: nothing changes
  Block longer = data_block(s, 400, 24);
  ASSERT_TRUE(trim_last_block(longer, s + 318));
  EXPECT_EQ(read_data_block_header(longer).data_len, 318);
}

TEST(MysqlRedoWrite, TrimRefusals) {
  const Lsn s = 68230144;
  const auto refused = [](Block b, Lsn e) {
    const Block before = b;
    EXPECT_FALSE(trim_last_block(b, e));
    EXPECT_EQ(b, before);
  };
  refused(data_block(s, 512), s + 510);              // end in the trailer
  refused(data_block(s, 512), s);                    // end at a block start
  refused(data_block(s, 300), s + 318);              // the block holds less log than asked for
  refused(data_block(s - kBlockSize, 512), s + 318);  // not the block holding the end
  Block torn = data_block(s, 512);
  torn[40] ^= 1;
  refused(torn, s + 318);
  refused(with_data_len(data_block(s, 512), 600), s + 318);  // malformed
}

TEST(MysqlRedoWrite, RecoveryFileSize) {
  constexpr uint64_t MiB = 1 << 20;
  EXPECT_EQ(recovery_file_size(0), 8 * MiB);
  EXPECT_EQ(recovery_file_size(7 * MiB - 2048), 8 * MiB);  // header + log + slack = 8 MiB exactly
  EXPECT_EQ(recovery_file_size(7 * MiB - 2048 + 512), 9 * MiB);
  EXPECT_EQ(recovery_file_size(8150000), 9 * MiB);  // the §5.2 run: 8.15 MB of blocks, 9 MiB file
  const uint64_t largest = (uint64_t(16) << 30) - MiB - 2048;
  EXPECT_EQ(recovery_file_size(largest), uint64_t(16) << 30);
  EXPECT_FALSE(recovery_file_size(largest + 512));  // needs a second file
  EXPECT_FALSE(recovery_file_size(~uint64_t(0)));
}

// ---- Real bytes from MySQL 9.7.4 -----------------------------------------------------------

ConstBlock block_in(const std::vector<uint8_t>& bytes, size_t offset) {
  return ConstBlock(bytes.data() + offset, kBlockSize);
}

// Facts from MYSQL_REDO.txt.
constexpr uint32_t kRealUuid = 0x7b3bbf3d;
constexpr uint64_t kRealFileSize = 262144;
constexpr Lsn kRealCheckpoint = 161606548;
constexpr Lsn kRealEnd = 167307213;
constexpr Lsn kStart549 = 161052672, kStart550 = 161312768, kStart551 = 161572864, kStart573 = 167294976;

struct RealFiles {
  std::vector<uint8_t> f549 = load("mysql-redo-549-head.bin");
  std::vector<uint8_t> f550 = load("mysql-redo-550-head.bin");
  std::vector<uint8_t> f551 = load("mysql-redo-551-checkpoint.bin");  // header area + block at 35328
  std::vector<uint8_t> f573 = load("mysql-redo-573-start.bin");       // first 18432 bytes

  std::vector<RedoFileHeaders> headers() const {
    std::vector<RedoFileHeaders> out;
    for (const auto* f : {&f549, &f550, &f551, &f573})
      out.push_back({parse_file_header(block_in(*f, 0)).value(), kRealFileSize, block_in(*f, kCheckpoint1Offset),
                     block_in(*f, kCheckpoint2Offset)});
    return out;
  }
};

TEST(MysqlRedoReal, FixturesArePresent) {
  const RealFiles r;
  EXPECT_EQ(r.f549.size(), 2048u);
  EXPECT_EQ(r.f550.size(), 2048u);
  EXPECT_EQ(r.f551.size(), 2048u + 512);
  EXPECT_EQ(r.f573.size(), 18432u);
}

TEST(MysqlRedoReal, FileHeaders) {
  const RealFiles r;
  const Lsn starts[] = {kStart549, kStart550, kStart551, kStart573};
  const std::vector<uint8_t>* files[] = {&r.f549, &r.f550, &r.f551, &r.f573};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const auto h = parse_file_header(block_in(*files[i], 0));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->format, kFormat8030);
    EXPECT_EQ(h->log_uuid, kRealUuid);
    EXPECT_EQ(h->start_lsn, starts[i]);
    EXPECT_EQ(h->creator, "MySQL 9.7.4");
    EXPECT_EQ(h->flags, i < 3 ? kFlagFileFull : 0u);  // only the newest file is still open
    // Serializing what we parsed gives back the server's bytes exactly.
    Block again{};
    ASSERT_TRUE(serialize_file_header(*h, again));
    EXPECT_TRUE(std::equal(again.begin(), again.end(), files[i]->begin()));
    // Block 2 is all zeros without redo encryption.
    EXPECT_TRUE(std::all_of(files[i]->begin() + kEncryptionBlockOffset, files[i]->begin() + kCheckpoint2Offset,
                            [](uint8_t x) { return x == 0; }));
  }
  // Consecutive files are contiguous in LSN.
  EXPECT_EQ(file_range(kStart549, kRealFileSize).end_lsn, kStart550);
  EXPECT_EQ(file_range(kStart550, kRealFileSize).end_lsn, kStart551);
}

TEST(MysqlRedoReal, CheckpointBlocksAsTheServerWroteThem) {
  const RealFiles r;
  EXPECT_EQ(parse_checkpoint_block(block_in(r.f549, kCheckpoint1Offset)), Lsn{161123725});
  EXPECT_EQ(parse_checkpoint_block(block_in(r.f549, kCheckpoint2Offset)), Lsn{161119331});
  EXPECT_EQ(parse_checkpoint_block(block_in(r.f550, kCheckpoint1Offset)), Lsn{0});
  EXPECT_EQ(parse_checkpoint_block(block_in(r.f551, kCheckpoint1Offset)), Lsn{0});
  EXPECT_EQ(parse_checkpoint_block(block_in(r.f551, kCheckpoint2Offset)), kRealCheckpoint);
  EXPECT_EQ(parse_checkpoint_block(block_in(r.f573, kCheckpoint2Offset)), Lsn{0});
  // Our serializer reproduces the server's checkpoint block byte for byte.
  const Block ours = checkpoint(kRealCheckpoint);
  EXPECT_TRUE(std::equal(ours.begin(), ours.end(), r.f551.begin() + kCheckpoint2Offset));
}

TEST(MysqlRedoReal, PicksTheCheckpointTheServerRecoveredFrom) {
  const RealFiles r;
  const auto files = r.headers();
  const auto cp = find_checkpoint(files);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->lsn, kRealCheckpoint);  // "The latest found checkpoint is at lsn = 161606548"
  EXPECT_EQ(cp->file_index, 2u);        // "... in redo log file ./#innodb_redo/#ib_redo551"
  EXPECT_TRUE(is_mtr_boundary(kRealCheckpoint));
}

TEST(MysqlRedoReal, CorruptCheckpointFallsBackToTheOlderFile) {
  RealFiles r;
  r.f551[kCheckpoint2Offset + 12] ^= 0x01;
  const auto files = r.headers();
  const auto cp = find_checkpoint(files);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->lsn, 161123725u);
  EXPECT_EQ(cp->file_index, 0u);
}

TEST(MysqlRedoReal, CheckpointBlockAndWhereParsingStarts) {
  const RealFiles r;
  const FileRange range = file_range(kStart551, kRealFileSize);
  ASSERT_EQ(range.offset_of(block_start_of(kRealCheckpoint)), 35328u);
  const ConstBlock b = block_in(r.f551, kHeaderAreaSize);  // stored right after the header area
  expect_verdict(b, block_start_of(kRealCheckpoint), BlockState::kFull, block_start_of(kRealCheckpoint) + 512);
  // "Starting to parse redo log at lsn = 161606291, whereas checkpoint_lsn = 161606548 and
  // start_lsn = 161606144": the block's first_rec_group.
  EXPECT_EQ(block_start_of(kRealCheckpoint) + read_data_block_header(b).first_rec_group, 161606291u);
}

TEST(MysqlRedoReal, TailOfTheNewestFile) {
  const RealFiles r;
  const FileRange range = file_range(kStart573, kRealFileSize);
  const size_t partial_at = range.offset_of(block_start_of(kRealEnd));
  ASSERT_EQ(partial_at, 13824u);
  for (size_t off = kHeaderAreaSize; off < r.f573.size(); off += kBlockSize) {
    SCOPED_TRACE(off);
    const Lsn s = range.lsn_at(off);
    const BlockVerdict v = classify_block(block_in(r.f573, off), s);
    if (off < partial_at) {
      EXPECT_EQ(int(v.state), int(BlockState::kFull));
    } else if (off == partial_at) {
      // "Doing recovery: scanned up to log sequence number 167307213"
      EXPECT_EQ(int(v.state), int(BlockState::kPartial));
      EXPECT_EQ(v.end_lsn, kRealEnd);
    } else if (off < 16384) {
      // The rest of the 4 KiB write-ahead unit after the end is zero-filled.
      EXPECT_EQ(int(v.state), int(BlockState::kNotWrittenYet));
      EXPECT_FALSE(block_checksum_ok(block_in(r.f573, off)));
    } else {
      // Then content of the file's previous lap: checksum fine, older number.
      EXPECT_EQ(int(v.state), int(BlockState::kNotWrittenYet));
      EXPECT_TRUE(block_checksum_ok(block_in(r.f573, off)));
      EXPECT_LT(read_data_block_header(block_in(r.f573, off)).hdr_no, hdr_no_for(s));
    }
  }
}

TEST(MysqlRedoReal, RecycledPlaceReadsAsOverwritten) {
  // A reader still expecting the LSN this place held one lap (32 files) earlier finds newer
  // content: exactly what it sees when it falls behind the server.
  const RealFiles r;
  const FileRange range = file_range(kStart573, kRealFileSize);
  const Lsn one_lap = 32 * (kRealFileSize - kHeaderAreaSize);
  const size_t off = 4096;
  EXPECT_EQ(int(classify_block(block_in(r.f573, off), range.lsn_at(off) - one_lap).state),
            int(BlockState::kOverwritten));
}

TEST(MysqlRedoReal, TrimReproducesTheServersOwnLastBlock) {
  // The server's partial block ends at 167307213 with [461, 508) already zero: trimming the
  // full-length version of it at the same LSN must give exactly the server's bytes, and
  // trimming the real block at its own end must change nothing.
  const RealFiles r;
  const size_t at = 13824;
  Block real;
  std::copy_n(r.f573.begin() + at, kBlockSize, real.begin());
  Block same = real;
  ASSERT_TRUE(trim_last_block(same, kRealEnd));
  EXPECT_EQ(same, real);
  Block earlier = real;
  const Lsn e = block_start_of(kRealEnd) + 99;  // first_rec_group of that block: a boundary
  ASSERT_TRUE(trim_last_block(earlier, e));
  expect_verdict(earlier, block_start_of(kRealEnd), BlockState::kPartial, e);
  // A real full block trimmed anywhere in its record area.
  Block full;
  std::copy_n(r.f573.begin() + at - kBlockSize, kBlockSize, full.begin());
  const Lsn full_start = block_start_of(kRealEnd) - kBlockSize;
  ASSERT_TRUE(trim_last_block(full, full_start + 200));
  expect_verdict(full, full_start, BlockState::kPartial, full_start + 200);
}

TEST(MysqlRedoReal, HeaderAreaForTheRealCheckpoint) {
  // What §5.2 writes for this checkpoint: the checkpoint blocks equal the server's own, and
  // the file header differs from #ib_redo551's only in start_lsn and flags.
  const RealFiles r;
  const auto area = build_header_area(kRealCheckpoint, kRealUuid, "MySQL 9.7.4");
  ASSERT_TRUE(area);
  EXPECT_TRUE(std::equal(area->begin() + kCheckpoint2Offset, area->end(), r.f551.begin() + kCheckpoint2Offset));
  const auto ours = parse_file_header(block_at(*area, 0));
  const auto theirs = parse_file_header(block_in(r.f551, 0));
  ASSERT_TRUE(ours && theirs);
  EXPECT_EQ(ours->creator, theirs->creator);
  EXPECT_EQ(ours->log_uuid, theirs->log_uuid);
  EXPECT_EQ(ours->start_lsn, block_start_of(kRealCheckpoint));
  const uint64_t log_bytes = block_start_of(kRealEnd) + kBlockSize - block_start_of(kRealCheckpoint);
  EXPECT_EQ(recovery_file_size(log_bytes), uint64_t(8) << 20);
}

}  // namespace
