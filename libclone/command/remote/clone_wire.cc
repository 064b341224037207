#include "libclone/command/remote/clone_wire.h"

#include <fmt/format.h>

#include <algorithm>

#include "libclone/base/text.h"

namespace mysqlclone::clone {
namespace {

Status protocol_error(const std::string& where, const std::string& what) {
  return Status::error(ExitCode::kProtocol, where + ": " + what);
}

// A bounds-checked cursor over donor bytes. Every read checks what is left first, so a declared
// length can never make us read past the span or allocate more than the donor actually sent.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }

  bool u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = bytes_[pos_++];
    return true;
  }
  bool u32_le(uint32_t& v) {
    if (remaining() < 4) return false;
    v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | bytes_[pos_ + i];
    pos_ += 4;
    return true;
  }
  bool take(size_t n, std::span<const uint8_t>& out) {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> rest() {
    auto out = bytes_.subspan(pos_);
    pos_ = bytes_.size();
    return out;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t be64(const uint8_t* p) { return (uint64_t{be32(p)} << 32) | be32(p + 4); }

void put_u8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void put_u32_le(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_locator(std::vector<uint8_t>& out, const Locator& loc) {
  put_u8(out, loc.engine_type);
  put_u32_le(out, static_cast<uint32_t>(loc.bytes.size()));
  out.insert(out.end(), loc.bytes.begin(), loc.bytes.end());
}

// A plugin-layer string: u32 LE length, then the bytes. NUL bytes are refused because every such
// string (plugin, collation, config key or value) is text the stock server also treats as text.
Result<std::string> read_string(Reader& r, const std::string& where, const char* what, size_t min_length,
                                size_t max_length) {
  uint32_t len = 0;
  if (!r.u32_le(len)) {
    return protocol_error(where, fmt::format("{} length truncated at byte {}", what, r.position()));
  }
  if (len > max_length) return protocol_error(where, fmt::format("{} length {} exceeds {}", what, len, max_length));
  if (len < min_length) return protocol_error(where, fmt::format("{} is empty", what));
  std::span<const uint8_t> bytes;
  if (!r.take(len, bytes)) {
    return protocol_error(where, fmt::format("{} length {} but only {} bytes left", what, len, r.remaining()));
  }
  if (std::find(bytes.begin(), bytes.end(), 0) != bytes.end()) {
    return protocol_error(where, fmt::format("{} contains a NUL byte", what));
  }
  return std::string(bytes.begin(), bytes.end());
}

Status expect_end(const Reader& r, const std::string& where) {
  if (r.remaining() != 0) return protocol_error(where, fmt::format("{} trailing bytes", r.remaining()));
  return Status::ok();
}

// The common header every InnoDB descriptor starts with; also the check that a donor locator is one.
struct DescriptorHeader {
  uint32_t version = 0;
  uint32_t length = 0;
  uint32_t type = 0;
};

Result<DescriptorHeader> parse_header(std::span<const uint8_t> bytes, const std::string& where) {
  if (bytes.size() < kDescriptorHeaderLength) {
    return protocol_error(where, fmt::format("{} bytes, shorter than the {}-byte header", bytes.size(),
                                             kDescriptorHeaderLength));
  }
  DescriptorHeader h{be32(bytes.data()), be32(bytes.data() + 4), be32(bytes.data() + 8)};
  if (h.version != kDescriptorVersion) {
    return protocol_error(where, fmt::format("version {}, expected {}", h.version, kDescriptorVersion));
  }
  if (h.length != bytes.size()) {
    return protocol_error(where, fmt::format("declared length {} but {} bytes present", h.length, bytes.size()));
  }
  return h;
}

Result<SnapshotState> parse_state(uint32_t raw, const std::string& where) {
  if (raw == static_cast<uint32_t>(SnapshotState::kNone)) return protocol_error(where, "state 0 (none)");
  if (raw > static_cast<uint32_t>(SnapshotState::kDone)) {
    return protocol_error(where, fmt::format("unknown state {}", raw));
  }
  return static_cast<SnapshotState>(raw);
}

Status expect_length(std::span<const uint8_t> bytes, size_t expected, const std::string& where) {
  if (bytes.size() != expected) {
    return protocol_error(where, fmt::format("length {}, expected {}", bytes.size(), expected));
  }
  return Status::ok();
}

Result<Descriptor> parse_task(std::span<const uint8_t> b) {
  const std::string where = "task descriptor";
  if (auto s = expect_length(b, kTaskDescriptorLength, where); !s.is_ok()) return s;
  return Descriptor{TaskDescriptor{be32(&b[12]), be32(&b[16]), be32(&b[20])}};
}

Result<Descriptor> parse_state_descriptor(std::span<const uint8_t> b) {
  const std::string where = "state descriptor";
  if (auto s = expect_length(b, kStateDescriptorLength, where); !s.is_ok()) return s;
  auto state = parse_state(be32(&b[12]), where);
  if (!state.is_ok()) return state.status();
  StateDescriptor d;
  d.state = *state;
  d.task_index = be32(&b[16]);
  d.chunks = be32(&b[20]);
  d.files = be32(&b[24]);
  d.estimated_bytes = be64(&b[28]);
  d.estimated_disk_bytes = be64(&b[36]);
  d.flags = be16(&b[44]);
  const uint16_t unknown = d.flags & ~(kStateFlagStart | kStateFlagAck);
  if (unknown != 0) return protocol_error(where, fmt::format("unknown flags 0x{:04x}", unknown));
  return Descriptor{d};
}

Result<Descriptor> parse_file(std::span<const uint8_t> b) {
  const std::string where = "file descriptor";
  if (b.size() < kFileDescriptorFixedLength) {
    return protocol_error(where, fmt::format("length {}, shorter than {}", b.size(), kFileDescriptorFixedLength));
  }
  auto state = parse_state(be32(&b[12]), where);
  if (!state.is_ok()) return state.status();
  FileDescriptor d;
  d.state = *state;
  d.file_size = be64(&b[16]);
  d.allocated_size = be64(&b[24]);
  d.fsp_flags = be32(&b[32]);
  d.fs_block_size = be32(&b[36]);
  d.flags = be16(&b[40]);
  d.space_id = be32(&b[42]);
  d.file_index = be32(&b[46]);
  d.first_chunk = be32(&b[50]);
  d.last_chunk = be32(&b[54]);
  const uint32_t name_length = be32(&b[58]);  // includes the NUL; 0 = no name (redo files)

  const uint16_t unknown = d.flags & ~kFileFlagsKnown;
  if (unknown != 0) return protocol_error(where, fmt::format("unknown flags 0x{:04x}", unknown));
  if (name_length > kMaxNameLength) {
    return protocol_error(where, fmt::format("name length {} exceeds {}", name_length, kMaxNameLength));
  }
  // Key and IV: Encryption::KEY_LEN (32) bytes each, present exactly when the flag says so.
  const size_t key_length = (d.flags & kFileFlagHasKey) ? 64 : 0;
  const size_t expected = kFileDescriptorFixedLength + name_length + key_length;
  if (b.size() != expected) {
    return protocol_error(where, fmt::format("length {} but name length {}{} needs {}", b.size(), name_length,
                                             key_length ? " + key and IV" : "", expected));
  }
  if (name_length > 0) {
    auto name = b.subspan(kFileDescriptorFixedLength, name_length);
    if (name.back() != 0) return protocol_error(where, "name is not NUL-terminated");
    auto first_nul = std::find(name.begin(), name.end(), 0);
    if (first_nul != name.end() - 1) {
      return protocol_error(where, fmt::format("name has a NUL byte at offset {}", first_nul - name.begin()));
    }
    d.name.assign(name.begin(), name.end() - 1);
  }
  return Descriptor{std::move(d)};
}

Result<Descriptor> parse_data(std::span<const uint8_t> b) {
  const std::string where = "data descriptor";
  if (auto s = expect_length(b, kDataDescriptorLength, where); !s.is_ok()) return s;
  auto state = parse_state(be32(&b[12]), where);
  if (!state.is_ok()) return state.status();
  DataDescriptor d;
  d.state = *state;
  d.task_index = be32(&b[16]);
  d.chunk = be32(&b[20]);
  d.block = be32(&b[24]);
  d.file_index = be32(&b[28]);
  d.data_length = be32(&b[32]);
  d.file_offset = be64(&b[36]);
  d.file_size = be64(&b[44]);
  return Descriptor{d};
}

bool is_known_response(uint8_t code) {
  const auto first = static_cast<uint8_t>(ResponseType::kLocators);
  const auto last = static_cast<uint8_t>(ResponseType::kConfigV4);
  return (code >= first && code <= last) || code == static_cast<uint8_t>(ResponseType::kComplete) ||
         code == static_cast<uint8_t>(ResponseType::kError);
}

}  // namespace

std::vector<uint8_t> build_init_body(uint32_t protocol, uint32_t ddl_timeout_seconds, bool skip_backup_lock,
                                     const std::vector<Locator>& locators) {
  constexpr uint32_t kNoBackupLock = 1u << 31;
  std::vector<uint8_t> out;
  put_u32_le(out, protocol);
  // Bit 31 is the lock flag, so a timeout must never spill into it: the bool alone decides.
  put_u32_le(out, (ddl_timeout_seconds & ~kNoBackupLock) | (skip_backup_lock ? kNoBackupLock : 0));
  for (const auto& loc : locators) put_locator(out, loc);
  return out;
}

std::vector<uint8_t> build_ack_body(int32_t error, const Locator& locator, std::span<const uint8_t> descriptor) {
  std::vector<uint8_t> out;
  put_u32_le(out, static_cast<uint32_t>(error));
  put_locator(out, locator);
  put_u32_le(out, static_cast<uint32_t>(descriptor.size()));
  out.insert(out.end(), descriptor.begin(), descriptor.end());
  return out;
}

Result<Response> split_response(std::span<const uint8_t> packet) {
  if (packet.empty()) return protocol_error("response", "empty packet");
  if (!is_known_response(packet[0])) {
    return protocol_error("response", fmt::format("unknown response code {}", packet[0]));
  }
  return Response{static_cast<ResponseType>(packet[0]), packet.subspan(1)};
}

Result<LocatorsResponse> parse_locators(std::span<const uint8_t> body) {
  const std::string where = "COM_RES_LOCS";
  Reader r(body);
  LocatorsResponse out;
  if (!r.u32_le(out.protocol)) {
    return protocol_error(where, fmt::format("{} bytes, no protocol version", body.size()));
  }
  if (out.protocol < kProtocolV1 || out.protocol > kProtocolV4) {
    return protocol_error(where, fmt::format("negotiated protocol 0x{:04x} is not V1..V4", out.protocol));
  }
  while (r.remaining() > 0) {
    const std::string at = fmt::format("{}: locator {}", where, out.locators.size());
    if (out.locators.size() == kMaxLocators) {
      return protocol_error(where, fmt::format("more than {} locators", kMaxLocators));
    }
    Locator loc;
    uint32_t len = 0;
    if (!r.u8(loc.engine_type) || !r.u32_le(len)) return protocol_error(at, "header truncated");
    if (len > kMaxLocatorLength) {
      return protocol_error(at, fmt::format("length {} exceeds {}", len, kMaxLocatorLength));
    }
    std::span<const uint8_t> bytes;
    if (!r.take(len, bytes)) {
      return protocol_error(at, fmt::format("length {} but only {} bytes left", len, r.remaining()));
    }
    if (loc.engine_type != kInnodbEngineType) {
      return Status::error(ExitCode::kUnsupported,
                           fmt::format("{}: storage engine type {} (only InnoDB, {}, is supported)", at, loc.engine_type,
                                       kInnodbEngineType));
    }
    // The donor's InnoDB locator must itself be a well-formed locator descriptor; a restart
    // locator may carry chunk progress after the 34 fixed bytes.
    auto header = parse_header(bytes, at);
    if (!header.is_ok()) return header.status();
    if (header->type != static_cast<uint32_t>(DescriptorType::kLocator)) {
      return protocol_error(at, fmt::format("descriptor type {}, expected locator (1)", header->type));
    }
    if (bytes.size() < kLocatorDescriptorLength) {
      return protocol_error(at, fmt::format("length {}, shorter than {}", bytes.size(), kLocatorDescriptorLength));
    }
    loc.bytes.assign(bytes.begin(), bytes.end());
    out.locators.push_back(std::move(loc));
  }
  if (out.locators.empty()) return protocol_error(where, "no locator");
  return out;
}

Result<std::string> parse_name(std::span<const uint8_t> body) {
  Reader r(body);
  auto name = read_string(r, "name response", "name", 1, kMaxNameLength);
  if (!name.is_ok()) return name;
  if (auto s = expect_end(r, "name response"); !s.is_ok()) return s;
  return name;
}

Result<PluginV2> parse_plugin_v2(std::span<const uint8_t> body) {
  const std::string where = "COM_RES_PLUGIN_V2";
  Reader r(body);
  auto name = read_string(r, where, "plugin name", 1, kMaxNameLength);
  if (!name.is_ok()) return name.status();
  auto so = read_string(r, where, "shared object name", 0, kMaxNameLength);
  if (!so.is_ok()) return so.status();
  if (auto s = expect_end(r, where); !s.is_ok()) return s;
  return PluginV2{std::move(name).value(), std::move(so).value()};
}

Result<KeyValue> parse_key_value(std::span<const uint8_t> body) {
  const std::string where = "config response";
  Reader r(body);
  auto key = read_string(r, where, "key", 1, kMaxNameLength);
  if (!key.is_ok()) return key.status();
  auto value = read_string(r, where, "value", 0, kMaxConfigValueLength);
  if (!value.is_ok()) return value.status();
  if (auto s = expect_end(r, where); !s.is_ok()) return s;
  return KeyValue{std::move(key).value(), std::move(value).value()};
}

Result<DonorError> parse_error(std::span<const uint8_t> body) {
  const std::string where = "COM_RES_ERROR";
  Reader r(body);
  uint32_t code = 0;
  if (!r.u32_le(code)) return protocol_error(where, fmt::format("{} bytes, no error number", body.size()));
  if (r.remaining() > kMaxErrorMessageLength) {
    return protocol_error(where, fmt::format("message length {} exceeds {}", r.remaining(), kMaxErrorMessageLength));
  }
  auto text = r.rest();
  std::string message(text.begin(), text.end());
  // The message ends up in our one-line error report (and the JSON failure document): keep it
  // one line, terminal-safe and valid UTF-8 whatever the donor's character set.
  for (char& c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return DonorError{static_cast<int32_t>(code), printable(message, kMaxErrorMessageLength)};
}

Result<DataDescriptorEnvelope> parse_data_descriptor_envelope(std::span<const uint8_t> body) {
  const std::string where = "COM_RES_DATA_DESC";
  Reader r(body);
  DataDescriptorEnvelope out;
  if (!r.u8(out.engine_type) || !r.u8(out.locator_index)) {
    return protocol_error(where, fmt::format("{} bytes, no engine and locator index", body.size()));
  }
  // We only ever accept InnoDB locators (parse_locators), so a descriptor for another engine
  // refers to a locator the donor never gave us.
  if (out.engine_type != kInnodbEngineType) {
    return protocol_error(where, fmt::format("storage engine type {}, expected InnoDB ({})", out.engine_type,
                                             kInnodbEngineType));
  }
  if (out.locator_index >= kMaxLocators) {
    return protocol_error(where, fmt::format("locator index {} exceeds {}", out.locator_index, kMaxLocators - 1));
  }
  out.descriptor = r.rest();
  if (out.descriptor.empty()) return protocol_error(where, "no descriptor");
  return out;
}

const char* snapshot_state_name(SnapshotState s) {
  switch (s) {
    case SnapshotState::kNone: return "NONE";
    case SnapshotState::kInit: return "INIT";
    case SnapshotState::kFileCopy: return "FILE COPY";
    case SnapshotState::kPageCopy: return "PAGE COPY";
    case SnapshotState::kRedoCopy: return "REDO COPY";
    case SnapshotState::kDone: return "DONE";
  }
  return "UNKNOWN";
}

Result<Descriptor> parse_descriptor(std::span<const uint8_t> bytes) {
  auto header = parse_header(bytes, "descriptor");
  if (!header.is_ok()) return header.status();
  switch (header->type) {
    case static_cast<uint32_t>(DescriptorType::kLocator):
      return protocol_error("descriptor", "locator descriptor (type 1) in the data stream");
    case static_cast<uint32_t>(DescriptorType::kTask): return parse_task(bytes);
    case static_cast<uint32_t>(DescriptorType::kState): return parse_state_descriptor(bytes);
    case static_cast<uint32_t>(DescriptorType::kFile): return parse_file(bytes);
    case static_cast<uint32_t>(DescriptorType::kData): return parse_data(bytes);
  }
  return protocol_error("descriptor", fmt::format("unknown type {}", header->type));
}

std::vector<uint8_t> with_ack_flag(std::span<const uint8_t> state_descriptor) {
  std::vector<uint8_t> out(state_descriptor.begin(), state_descriptor.end());
  // The flags are a BE u16 in the last two bytes; the ACK bit (0x0002) lives in the last one.
  if (!out.empty()) out.back() |= static_cast<uint8_t>(kStateFlagAck);
  return out;
}

}  // namespace mysqlclone::clone
