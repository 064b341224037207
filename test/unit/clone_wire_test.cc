#include "libclone/command/remote/clone_wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/unit/clone_bytes.h"

namespace {
using namespace mysqlclone;
using namespace mysqlclone::clone;
using test::Bytes;

using test::Writer;

// Sets the BE u32 at offset (descriptor length, name length, ...).
void set_be32(Bytes& b, size_t offset, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[offset + i] = static_cast<uint8_t>(v >> (8 * (3 - i)));
}

Writer header(uint32_t type, uint32_t length, uint32_t version = 100) {
  Writer w;
  w.be32(version).be32(length).be32(type);
  return w;
}

Bytes task_desc() { return header(2, 24).be32(3).be32(7).be32(9).b; }

Bytes state_desc(uint32_t state = 2, uint16_t flags = 1) {
  return header(3, 46)
      .be32(state)
      .be32(0)
      .be32(10)
      .be32(9)
      .be64(0x0000000123456789ULL)
      .be64(0x0000000223456780ULL)
      .be16(flags)
      .b;
}

Bytes file_desc(const Bytes& name_with_nul, uint16_t flags = 0, bool key = false, uint32_t state = 2) {
  Writer w = header(4, static_cast<uint32_t>(62 + name_with_nul.size() + (key ? 64 : 0)));
  w.be32(state)
      .be64(0x0000000100000000ULL)   // file size: 4 GiB, needs the high word
      .be64(0x00000000FFFFF000ULL)   // allocated size
      .be32(0x4021)                  // FSP flags
      .be32(4096)                    // fs block size
      .be16(flags)
      .be32(0xFFFFFFFE)              // space id (mysql.ibd)
      .be32(5)                       // file index
      .be32(11)                      // first chunk
      .be32(12)                      // last chunk
      .be32(static_cast<uint32_t>(name_with_nul.size()))
      .raw(name_with_nul);
  if (key) w.raw(Bytes(64, 0xEE));
  return w.b;
}

Bytes name_bytes(const std::string& s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}

Bytes data_desc(uint32_t state = 3) {
  return header(5, 52)
      .be32(state)
      .be32(1)
      .be32(2)
      .be32(3)
      .be32(4)
      .be32(16384)
      .be64(0x0000000500004000ULL)
      .be64(0x0000000600000000ULL)
      .b;
}

Bytes locator_desc(size_t extra = 0) {
  Writer w = header(1, static_cast<uint32_t>(34 + extra));
  w.be64(0x1122334455667788ULL).be64(42).be32(0).u8(1).u8(0).raw(Bytes(extra, 0));
  return w.b;
}

template <typename T>
void expect_error(const Result<T>& r, ExitCode code, const std::string& needle) {
  ASSERT_FALSE(r.is_ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "one line: " << r.status().message();
}

template <typename T>
void expect_protocol_error(const Result<T>& r, const std::string& needle) {
  expect_error(r, ExitCode::kProtocol, needle);
}

// Every strict prefix of a valid body must be refused, never read past.
template <typename F>
void expect_every_prefix_fails(const Bytes& valid, F parse) {
  for (size_t n = 0; n < valid.size(); ++n) {
    Bytes prefix(valid.begin(), valid.begin() + n);  // its own allocation, so ASan sees overreads
    EXPECT_FALSE(parse(prefix).is_ok()) << "prefix of " << n << " bytes accepted";
  }
}

// ---- commands -----------------------------------------------------------------------------------

TEST(CloneWireTest, InitBodyBytes) {
  EXPECT_EQ(build_init_body(kProtocolV4, 300, false, {}), (Bytes{0x03, 0x01, 0, 0, 0x2C, 0x01, 0, 0}));
  EXPECT_EQ(build_init_body(kProtocolV3, 300, true, {}), (Bytes{0x02, 0x01, 0, 0, 0x2C, 0x01, 0, 0x80}));
  // A timeout that reaches into bit 31 must not turn into "skip the backup lock".
  EXPECT_EQ(build_init_body(kProtocolV1, 0x80000001u, false, {}), (Bytes{0x00, 0x01, 0, 0, 0x01, 0, 0, 0}));
  std::vector<Locator> locs = {{12, {0xAA, 0xBB}}, {7, {}}};
  EXPECT_EQ(build_init_body(kProtocolV3, 1, false, locs),
            (Bytes{0x02, 0x01, 0, 0, 1, 0, 0, 0, 12, 2, 0, 0, 0, 0xAA, 0xBB, 7, 0, 0, 0, 0}));
}

TEST(CloneWireTest, AckBodyBytes) {
  Locator loc{12, {1, 2, 3}};
  Bytes desc = {9, 8};
  EXPECT_EQ(build_ack_body(0, loc, desc), (Bytes{0, 0, 0, 0, 12, 3, 0, 0, 0, 1, 2, 3, 2, 0, 0, 0, 9, 8}));
  EXPECT_EQ(build_ack_body(-1, loc, {}), (Bytes{0xFF, 0xFF, 0xFF, 0xFF, 12, 3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0}));
  EXPECT_EQ(build_ack_body(3862, {12, {}}, {}), (Bytes{0x16, 0x0F, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(CloneWireTest, WithAckFlagSetsOnlyTheAckBit) {
  Bytes end_of_state = state_desc(2, 0);
  Bytes acked = with_ack_flag(end_of_state);
  ASSERT_EQ(acked.size(), end_of_state.size());
  EXPECT_TRUE(std::equal(acked.begin(), acked.end() - 1, end_of_state.begin()));
  EXPECT_EQ(acked.back(), 0x02);
  auto parsed = parse_descriptor(acked);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_TRUE(std::get<StateDescriptor>(*parsed).is_ack());
  EXPECT_FALSE(std::get<StateDescriptor>(*parsed).is_start());
  EXPECT_EQ(with_ack_flag(state_desc(2, 1)).back(), 0x03);
  EXPECT_EQ(with_ack_flag(state_desc(2, 2)), state_desc(2, 2));  // keep-alives are already acked
}

// ---- responses ----------------------------------------------------------------------------------

TEST(CloneWireTest, SplitResponse) {
  expect_protocol_error(split_response({}), "empty");
  for (int code : {1, 2, 3, 4, 5, 6, 7, 8, 9, 99, 100}) {
    Bytes p = {static_cast<uint8_t>(code), 0xAB};
    auto r = split_response(p);
    ASSERT_TRUE(r.is_ok()) << code;
    EXPECT_EQ(static_cast<int>(r->type), code);
    ASSERT_EQ(r->body.size(), 1u);
    EXPECT_EQ(r->body[0], 0xAB);
  }
  for (int code : {0, 10, 98, 101, 0xFE, 0xFF}) {
    Bytes p = {static_cast<uint8_t>(code)};
    expect_protocol_error(split_response(p), "unknown response code " + std::to_string(code));
  }
  Bytes complete = {99};
  EXPECT_TRUE(split_response(complete)->body.empty());
}

Bytes locs_body(uint32_t protocol, const std::vector<Bytes>& locators, uint8_t engine = 12) {
  Writer w;
  w.le32(protocol);
  for (const auto& l : locators) w.u8(engine).le32(static_cast<uint32_t>(l.size())).raw(l);
  return w.b;
}

TEST(CloneWireTest, LocatorsValid) {
  Bytes body = locs_body(kProtocolV4, {locator_desc(), locator_desc(12)});
  auto r = parse_locators(body);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->protocol, kProtocolV4);
  ASSERT_EQ(r->locators.size(), 2u);
  EXPECT_EQ(r->locators[0].engine_type, kInnodbEngineType);
  EXPECT_EQ(r->locators[0].bytes, locator_desc());
  EXPECT_EQ(r->locators[1].bytes, locator_desc(12));
  expect_every_prefix_fails(locs_body(kProtocolV1, {locator_desc(12)}),
                            [](const Bytes& b) { return parse_locators(b); });
}

TEST(CloneWireTest, LocatorsMalformed) {
  expect_protocol_error(parse_locators(locs_body(0x00FF, {locator_desc()})), "protocol 0x00ff");
  expect_protocol_error(parse_locators(locs_body(0x0104, {locator_desc()})), "protocol 0x0104");
  expect_protocol_error(parse_locators(locs_body(kProtocolV3, {})), "no locator");
  expect_protocol_error(parse_locators(locs_body(kProtocolV3, {Bytes{}})), "locator 0");
  expect_error(parse_locators(locs_body(kProtocolV3, {locator_desc()}, 5)), ExitCode::kUnsupported, "engine type 5");
  expect_protocol_error(parse_locators(locs_body(kProtocolV3, std::vector<Bytes>(9, locator_desc()))), "more than 8");
  Bytes wrong_type = locator_desc();
  set_be32(wrong_type, 8, 2);
  expect_protocol_error(parse_locators(locs_body(kProtocolV3, {wrong_type})), "expected locator");
  Bytes short_loc = header(1, 20).raw(Bytes(8, 0)).b;
  expect_protocol_error(parse_locators(locs_body(kProtocolV3, {short_loc})), "shorter than 34");
  Bytes bad_version = locator_desc();
  set_be32(bad_version, 0, 101);
  expect_protocol_error(parse_locators(locs_body(kProtocolV3, {bad_version})), "version 101");

  // A huge declared length is refused before anything is allocated or read.
  Bytes huge = Writer().le32(kProtocolV3).u8(12).le32(0xFFFFFFFF).raw(locator_desc()).b;
  expect_protocol_error(parse_locators(huge), "length 4294967295 exceeds 1048576");
  Bytes overlong = Writer().le32(kProtocolV3).u8(12).le32(1000).raw(locator_desc()).b;
  expect_protocol_error(parse_locators(overlong), "length 1000 but only 34 bytes left");
}

TEST(CloneWireTest, Names) {
  Bytes body = Writer().le_string("utf8mb4_0900_ai_ci").b;
  auto r = parse_name(body);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, "utf8mb4_0900_ai_ci");
  expect_every_prefix_fails(body, [](const Bytes& b) { return parse_name(b); });
  expect_protocol_error(parse_name(Writer().le_string("").b), "empty");
  expect_protocol_error(parse_name(Writer().le_string("ab").u8(0).b), "1 trailing bytes");
  expect_protocol_error(parse_name(Writer().le_string(std::string("a\0b", 3)).b), "NUL");
  expect_protocol_error(parse_name(Writer().le32(5000).raw(Bytes(5000, 'a')).b), "name length 5000 exceeds 4096");
  expect_protocol_error(parse_name(Writer().le32(0xFFFFFFFF).b), "exceeds");
  expect_protocol_error(parse_name(Writer().le32(10).str("abc").b), "length 10 but only 3 bytes left");
}

TEST(CloneWireTest, PluginV2) {
  Bytes body = Writer().le_string("clone").le_string("mysql_clone.so").b;
  auto r = parse_plugin_v2(body);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->name, "clone");
  EXPECT_EQ(r->shared_object, "mysql_clone.so");
  expect_every_prefix_fails(body, [](const Bytes& b) { return parse_plugin_v2(b); });

  auto builtin = parse_plugin_v2(Writer().le_string("InnoDB").le_string("").b);
  ASSERT_TRUE(builtin.is_ok());
  EXPECT_EQ(builtin->shared_object, "");
  expect_protocol_error(parse_plugin_v2(Writer().le_string("").le_string("x.so").b), "plugin name is empty");
  expect_protocol_error(parse_plugin_v2(Writer().le_string("a").le_string("").u8(1).b), "trailing");
}

TEST(CloneWireTest, KeyValue) {
  Bytes body = Writer().le_string("json_configs").le_string(R"({"version":"9.7.4-2","maturity":"LTS"})").b;
  auto r = parse_key_value(body);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->key, "json_configs");
  EXPECT_EQ(r->value, R"({"version":"9.7.4-2","maturity":"LTS"})");
  expect_every_prefix_fails(body, [](const Bytes& b) { return parse_key_value(b); });

  EXPECT_TRUE(parse_key_value(Writer().le_string("k").le_string(std::string(65536, 'v')).b).is_ok());
  expect_protocol_error(parse_key_value(Writer().le_string("k").le_string(std::string(65537, 'v')).b),
                        "value length 65537 exceeds 65536");
  expect_protocol_error(parse_key_value(Writer().le_string("k").le32(0x7FFFFFFF).b), "value length");
  expect_protocol_error(parse_key_value(Writer().le_string("k").le_string("v").le_string("x").b), "trailing");
}

TEST(CloneWireTest, DonorError) {
  auto r = parse_error(Writer().le32(static_cast<uint32_t>(-1)).str("Access denied").b);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->code, -1);
  EXPECT_EQ(r->message, "Access denied");
  auto e = parse_error(Writer().le32(3862).b);
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->code, 3862);
  EXPECT_EQ(e->message, "");
  auto multi = parse_error(Writer().le32(1).str("two\nlines\x1b[0m").b);
  ASSERT_TRUE(multi.is_ok());
  EXPECT_EQ(multi->message, "two lines [0m");
  for (size_t n = 0; n < 4; ++n) expect_protocol_error(parse_error(Bytes(n, 0)), "no error number");
  EXPECT_TRUE(parse_error(Writer().le32(1).str(std::string(4096, 'm')).b).is_ok());
  expect_protocol_error(parse_error(Writer().le32(1).str(std::string(4097, 'm')).b), "message length 4097 exceeds");
}

TEST(CloneWireTest, DataDescriptorEnvelope) {
  Bytes body = Writer().u8(12).u8(0).raw(data_desc()).b;
  auto r = parse_data_descriptor_envelope(body);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->engine_type, 12);
  EXPECT_EQ(r->locator_index, 0);
  EXPECT_EQ(Bytes(r->descriptor.begin(), r->descriptor.end()), data_desc());
  expect_protocol_error(parse_data_descriptor_envelope(Bytes{}), "no engine");
  expect_protocol_error(parse_data_descriptor_envelope(Bytes{12}), "no engine");
  expect_protocol_error(parse_data_descriptor_envelope(Bytes{12, 0}), "no descriptor");
  expect_protocol_error(parse_data_descriptor_envelope(Writer().u8(3).u8(0).raw(data_desc()).b), "engine type 3");
  expect_protocol_error(parse_data_descriptor_envelope(Writer().u8(12).u8(8).raw(data_desc()).b), "locator index 8");
  EXPECT_TRUE(parse_data_descriptor_envelope(Writer().u8(12).u8(7).raw(data_desc()).b).is_ok());
}

// ---- descriptors --------------------------------------------------------------------------------

TEST(CloneWireTest, TaskDescriptor) {
  auto r = parse_descriptor(task_desc());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& t = std::get<TaskDescriptor>(*r);
  EXPECT_EQ(t.task_index, 3u);
  EXPECT_EQ(t.chunk, 7u);
  EXPECT_EQ(t.block, 9u);
}

TEST(CloneWireTest, StateDescriptor) {
  auto r = parse_descriptor(state_desc(4, 1));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& s = std::get<StateDescriptor>(*r);
  EXPECT_EQ(s.state, SnapshotState::kRedoCopy);
  EXPECT_EQ(s.task_index, 0u);
  EXPECT_EQ(s.chunks, 10u);
  EXPECT_EQ(s.files, 9u);
  EXPECT_EQ(s.estimated_bytes, 0x0000000123456789ULL);
  EXPECT_EQ(s.estimated_disk_bytes, 0x0000000223456780ULL);
  EXPECT_TRUE(s.is_start());
  EXPECT_FALSE(s.is_ack());
  for (uint32_t st = 1; st <= 5; ++st) EXPECT_TRUE(parse_descriptor(state_desc(st, 3)).is_ok()) << st;

  expect_protocol_error(parse_descriptor(state_desc(0)), "state descriptor: state 0 (none)");
  expect_protocol_error(parse_descriptor(state_desc(6)), "state descriptor: unknown state 6");
  expect_protocol_error(parse_descriptor(state_desc(0xFFFFFFFF)), "unknown state 4294967295");
  expect_protocol_error(parse_descriptor(state_desc(2, 4)), "state descriptor: unknown flags 0x0004");
  expect_protocol_error(parse_descriptor(state_desc(2, 0x8001)), "unknown flags 0x8000");
}

TEST(CloneWireTest, FileDescriptor) {
  auto r = parse_descriptor(file_desc(name_bytes("./db1/t@002d1.ibd"), kFileFlagZlib));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& f = std::get<FileDescriptor>(*r);
  EXPECT_EQ(f.state, SnapshotState::kFileCopy);
  EXPECT_EQ(f.file_size, 0x0000000100000000ULL);
  EXPECT_EQ(f.allocated_size, 0x00000000FFFFF000ULL);
  EXPECT_EQ(f.fsp_flags, 0x4021u);
  EXPECT_EQ(f.fs_block_size, 4096u);
  EXPECT_EQ(f.flags, kFileFlagZlib);
  EXPECT_EQ(f.space_id, 0xFFFFFFFEu);
  EXPECT_EQ(f.file_index, 5u);
  EXPECT_EQ(f.first_chunk, 11u);
  EXPECT_EQ(f.last_chunk, 12u);
  EXPECT_EQ(f.name, "./db1/t@002d1.ibd");

  // Redo file metadata carries no name at all (name length 0).
  auto redo = parse_descriptor(file_desc({}, 0, false, 4));
  ASSERT_TRUE(redo.is_ok()) << redo.status().message();
  EXPECT_EQ(std::get<FileDescriptor>(*redo).name, "");
  EXPECT_EQ(std::get<FileDescriptor>(*redo).state, SnapshotState::kRedoCopy);

  auto keyed = parse_descriptor(file_desc(name_bytes("t.ibd"), kFileFlagEncrypted | kFileFlagHasKey, true));
  ASSERT_TRUE(keyed.is_ok()) << keyed.status().message();
  EXPECT_EQ(std::get<FileDescriptor>(*keyed).name, "t.ibd");
  EXPECT_EQ(std::get<FileDescriptor>(*keyed).flags, kFileFlagEncrypted | kFileFlagHasKey);

  for (uint16_t flag : {kFileFlagZlib, kFileFlagLz4, kFileFlagEncrypted, kFileFlagRenamed, kFileFlagDeleted}) {
    EXPECT_TRUE(parse_descriptor(file_desc(name_bytes("x"), flag)).is_ok()) << flag;
  }
  auto longest = parse_descriptor(file_desc(name_bytes(std::string(4095, 'n'))));
  ASSERT_TRUE(longest.is_ok()) << longest.status().message();
  EXPECT_EQ(std::get<FileDescriptor>(*longest).name.size(), 4095u);
}

TEST(CloneWireTest, FileDescriptorMalformed) {
  expect_protocol_error(parse_descriptor(file_desc(name_bytes("x"), 0x40)), "file descriptor: unknown flags 0x0040");
  expect_protocol_error(parse_descriptor(file_desc(name_bytes("x"), 0x8000)), "unknown flags 0x8000");
  expect_protocol_error(parse_descriptor(file_desc(name_bytes("x"), 0, false, 0)), "file descriptor: state 0");
  expect_protocol_error(parse_descriptor(file_desc(name_bytes("x"), 0, false, 6)), "unknown state 6");
  expect_protocol_error(parse_descriptor(file_desc(Bytes{'a', 'b'})), "name is not NUL-terminated");
  expect_protocol_error(parse_descriptor(file_desc(Bytes{'a', 0, 'b', 0})), "name has a NUL byte at offset 1");
  expect_protocol_error(parse_descriptor(file_desc(Bytes{0, 0})), "NUL byte at offset 0");
  expect_protocol_error(parse_descriptor(file_desc(name_bytes(std::string(4096, 'n')))),
                        "file descriptor: name length 4097 exceeds 4096");

  // The HasKey flag and the length must agree: the key is exactly 64 bytes after the name.
  expect_protocol_error(parse_descriptor(file_desc(name_bytes("x"), kFileFlagHasKey, false)), "key and IV");
  expect_protocol_error(parse_descriptor(file_desc(name_bytes("x"), 0, true)), "name length 2 needs 64");

  // Name length larger than the bytes present (declared total kept consistent with the span).
  Bytes lying = file_desc(name_bytes("abc"));
  set_be32(lying, 58, 5000);
  expect_protocol_error(parse_descriptor(lying), "name length 5000 exceeds 4096");
  set_be32(lying, 58, 0xFFFFFFFF);
  expect_protocol_error(parse_descriptor(lying), "name length 4294967295 exceeds 4096");
  set_be32(lying, 58, 100);
  expect_protocol_error(parse_descriptor(lying), "length 66 but name length 100 needs 162");
  set_be32(lying, 58, 3);  // shorter than the bytes: the last 1 would be garbage
  expect_protocol_error(parse_descriptor(lying), "needs 65");
}

TEST(CloneWireTest, DataDescriptor) {
  auto r = parse_descriptor(data_desc());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& d = std::get<DataDescriptor>(*r);
  EXPECT_EQ(d.state, SnapshotState::kPageCopy);
  EXPECT_EQ(d.task_index, 1u);
  EXPECT_EQ(d.chunk, 2u);
  EXPECT_EQ(d.block, 3u);
  EXPECT_EQ(d.file_index, 4u);
  EXPECT_EQ(d.data_length, 16384u);
  EXPECT_EQ(d.file_offset, 0x0000000500004000ULL);
  EXPECT_EQ(d.file_size, 0x0000000600000000ULL);
  expect_protocol_error(parse_descriptor(data_desc(0)), "data descriptor: state 0");
  expect_protocol_error(parse_descriptor(data_desc(7)), "data descriptor: unknown state 7");
}

std::vector<Bytes> valid_descriptors() {
  return {task_desc(),
          state_desc(),
          data_desc(),
          file_desc(name_bytes("./ibdata1")),
          file_desc({}, 0, false, 4),
          file_desc(name_bytes("t.ibd"), kFileFlagHasKey | kFileFlagEncrypted, true)};
}

TEST(CloneWireTest, DescriptorHeaderChecks) {
  for (const Bytes& valid : valid_descriptors()) {
    ASSERT_TRUE(parse_descriptor(valid).is_ok());
    // Truncated: the declared length no longer matches.
    expect_every_prefix_fails(valid, [](const Bytes& b) { return parse_descriptor(b); });
    // Truncated but with the declared length rewritten to match: the type's own length fails.
    for (size_t n = kDescriptorHeaderLength; n < valid.size(); ++n) {
      Bytes cut(valid.begin(), valid.begin() + n);
      set_be32(cut, 4, static_cast<uint32_t>(n));
      EXPECT_FALSE(parse_descriptor(cut).is_ok()) << n;
    }
    // Trailing garbage, declared or not.
    Bytes longer = valid;
    longer.push_back(0);
    expect_protocol_error(parse_descriptor(longer), "declared length");
    set_be32(longer, 4, static_cast<uint32_t>(longer.size()));
    EXPECT_FALSE(parse_descriptor(longer).is_ok());

    for (uint32_t version : {0u, 99u, 101u, 0x64000000u}) {
      Bytes v = valid;
      set_be32(v, 0, version);
      expect_protocol_error(parse_descriptor(v), "descriptor: version " + std::to_string(version) + ", expected 100");
    }
    Bytes lying = valid;
    set_be32(lying, 4, 0xFFFFFFFF);
    expect_protocol_error(parse_descriptor(lying), "declared length 4294967295 but");
  }
  for (uint32_t type : {0u, 6u, 99u, 0xFFFFFFFFu}) {
    Bytes t = task_desc();
    set_be32(t, 8, type);
    expect_protocol_error(parse_descriptor(t), "descriptor: unknown type " + std::to_string(type));
  }
  expect_protocol_error(parse_descriptor(locator_desc()), "locator descriptor (type 1) in the data stream");
  // A descriptor of one type with another type's length.
  Bytes task_as_state = task_desc();
  set_be32(task_as_state, 8, 3);
  expect_protocol_error(parse_descriptor(task_as_state), "state descriptor: length 24, expected 46");
  // Pre-GA layouts (38-byte state, 44 + name file) are refused, not misread.
  Bytes old_state = header(3, 38).be32(2).be32(0).be32(1).be32(1).be64(0).be16(1).b;
  expect_protocol_error(parse_descriptor(old_state), "length 38, expected 46");
}

TEST(CloneWireTest, StateNames) {
  EXPECT_STREQ(snapshot_state_name(SnapshotState::kInit), "INIT");
  EXPECT_STREQ(snapshot_state_name(SnapshotState::kFileCopy), "FILE COPY");
  EXPECT_STREQ(snapshot_state_name(SnapshotState::kPageCopy), "PAGE COPY");
  EXPECT_STREQ(snapshot_state_name(SnapshotState::kRedoCopy), "REDO COPY");
  EXPECT_STREQ(snapshot_state_name(SnapshotState::kDone), "DONE");
  EXPECT_STREQ(snapshot_state_name(SnapshotState::kNone), "NONE");
}

}  // namespace
