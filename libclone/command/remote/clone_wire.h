// The bytes of the MySQL Clone protocol, recipient side: building the commands we send and
// parsing the responses and InnoDB descriptors the donor sends. Pure functions over bytes.
//
// Everything a donor sends is untrusted: every parser checks every declared length against the
// bytes present, bounds names and counts, rejects unknown codes, states and flags, and never
// reads past the span it is given. A parse failure is kProtocol ("the donor broke the protocol")
// unless the bytes are valid but describe something we refuse to apply (kUnsupported).
//
// Byte order: the plugin layer (versions, lengths, error numbers) is little-endian; everything
// inside an InnoDB descriptor is big-endian. See ../shared/docs/clone-protocol.md §2 and §3.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "libclone/base/status.h"

namespace mysqlclone::clone {

// ---- plugin layer -------------------------------------------------------------------------------

// The command byte that switches an authenticated connection into clone mode (COM_CLONE).
constexpr uint8_t kComClone = 0x20;

enum class Command : uint8_t { kInit = 1, kAttach = 2, kReinit = 3, kExecute = 4, kAck = 5, kExit = 6 };

enum class ResponseType : uint8_t {
  kLocators = 1,
  kDataDescriptor = 2,
  kData = 3,
  kPlugin = 4,
  kConfig = 5,
  kCollation = 6,
  kPluginV2 = 7,
  kConfigV3 = 8,
  kConfigV4 = 9,
  kComplete = 99,
  kError = 100,
};

constexpr uint32_t kProtocolV1 = 0x0100;
constexpr uint32_t kProtocolV2 = 0x0101;
constexpr uint32_t kProtocolV3 = 0x0102;
constexpr uint32_t kProtocolV4 = 0x0103;
constexpr uint32_t kProtocolHighest = kProtocolV4;  // what we request

constexpr uint8_t kInnodbEngineType = 12;  // legacy_db_type of InnoDB: the only engine we accept

// Bounds on what a donor may send (far above any real donor, low enough to stop a hostile one).
constexpr size_t kMaxNameLength = 4096;       // file, plugin, collation, config key
constexpr size_t kMaxConfigValueLength = 65536;
constexpr size_t kMaxLocatorLength = 1 << 20;  // restart locators carry a chunk bitmap
constexpr size_t kMaxLocators = 8;
constexpr size_t kMaxErrorMessageLength = 4096;

// The largest data block a donor sends: 2^12 pages (InnoDB's SNAPSHOT_MAX_BLOCK_SIZE_POW2, reached
// only with direct I/O and a clone_buffer_size above 2^11 pages; the default is 2^6 pages, 1 MiB
// at 16 KiB). So 64 MiB at 16 KiB pages and 256 MiB at 64 KiB; clone_buffer_size tops out at
// 256 MiB. We admit that plus kBlockSlack, and refuse more before reading it: a hostile donor
// must not make us hold gigabytes per connection.
constexpr uint64_t kBlockSlack = uint64_t(4) << 20;
constexpr uint64_t max_block_bytes(uint32_t page_size) { return (uint64_t(1) << 12) * page_size + kBlockSlack; }
// One response packet: a block of the largest page size and its response byte (every other
// response is far smaller). The client library refuses a longer packet before allocating it.
constexpr uint64_t kMaxPacketBytes = max_block_bytes(65536) + 1;

// A storage engine's locator as the donor sent it; opaque to us except through the InnoDB codec.
struct Locator {
  uint8_t engine_type = kInnodbEngineType;
  std::vector<uint8_t> bytes;
};

// COM_INIT / COM_ATTACH / COM_REINIT body: u32 LE protocol · u32 LE DDL timeout (bit 31 = do not
// take the backup lock) · serialized locators (u8 engine · u32 LE length · bytes).
std::vector<uint8_t> build_init_body(uint32_t protocol, uint32_t ddl_timeout_seconds, bool skip_backup_lock,
                                     const std::vector<Locator>& locators);

// COM_ACK body: i32 LE error · one serialized locator · u32 LE descriptor length · descriptor.
std::vector<uint8_t> build_ack_body(int32_t error, const Locator& locator, std::span<const uint8_t> descriptor);

// One response packet split into its code and body (the bytes after the code).
struct Response {
  ResponseType type;
  std::span<const uint8_t> body;
};
Result<Response> split_response(std::span<const uint8_t> packet);  // empty or unknown code: error

struct LocatorsResponse {
  uint32_t protocol = 0;  // negotiated; must be V1..V4
  std::vector<Locator> locators;
};
Result<LocatorsResponse> parse_locators(std::span<const uint8_t> body);

// COM_RES_PLUGIN and COM_RES_COLLATION: u32 LE length · name.
Result<std::string> parse_name(std::span<const uint8_t> body);

struct PluginV2 {
  std::string name;
  std::string shared_object;  // empty for a built-in plugin
};
Result<PluginV2> parse_plugin_v2(std::span<const uint8_t> body);

struct KeyValue {
  std::string key;
  std::string value;
};
Result<KeyValue> parse_key_value(std::span<const uint8_t> body);  // CONFIG, CONFIG_V3, CONFIG_V4

struct DonorError {
  int32_t code = 0;
  std::string message;
};
Result<DonorError> parse_error(std::span<const uint8_t> body);

// COM_RES_DATA_DESC: u8 engine · u8 locator index · the InnoDB descriptor.
struct DataDescriptorEnvelope {
  uint8_t engine_type = 0;
  uint8_t locator_index = 0;
  std::span<const uint8_t> descriptor;
};
Result<DataDescriptorEnvelope> parse_data_descriptor_envelope(std::span<const uint8_t> body);

// ---- InnoDB descriptors (big-endian) ------------------------------------------------------------

constexpr uint32_t kDescriptorVersion = 100;
constexpr size_t kDescriptorHeaderLength = 12;  // version · total length · type
constexpr size_t kLocatorDescriptorLength = 34;
constexpr size_t kTaskDescriptorLength = 24;
constexpr size_t kStateDescriptorLength = 46;
constexpr size_t kFileDescriptorFixedLength = 62;  // + name (+ 64 for key and IV)
constexpr size_t kDataDescriptorLength = 52;

enum class DescriptorType : uint32_t { kLocator = 1, kTask = 2, kState = 3, kFile = 4, kData = 5 };

enum class SnapshotState : uint32_t { kNone = 0, kInit = 1, kFileCopy = 2, kPageCopy = 3, kRedoCopy = 4, kDone = 5 };
const char* snapshot_state_name(SnapshotState s);  // "INIT", "FILE COPY", ...

struct TaskDescriptor {
  uint32_t task_index = 0;
  uint32_t chunk = 0;
  uint32_t block = 0;
};

constexpr uint16_t kStateFlagStart = 0x1;
constexpr uint16_t kStateFlagAck = 0x2;

struct StateDescriptor {
  SnapshotState state = SnapshotState::kNone;
  uint32_t task_index = 0;
  uint32_t chunks = 0;
  uint32_t files = 0;  // PAGE COPY: number of pages
  uint64_t estimated_bytes = 0;
  uint64_t estimated_disk_bytes = 0;
  uint16_t flags = 0;  // only kStateFlagStart | kStateFlagAck; anything else is rejected
  bool is_start() const { return flags & kStateFlagStart; }
  bool is_ack() const { return flags & kStateFlagAck; }
};

constexpr uint16_t kFileFlagZlib = 0x01;       // page compression
constexpr uint16_t kFileFlagLz4 = 0x02;        // page compression
constexpr uint16_t kFileFlagEncrypted = 0x04;  // AES tablespace
constexpr uint16_t kFileFlagRenamed = 0x08;    // concurrent DDL
constexpr uint16_t kFileFlagDeleted = 0x10;    // concurrent DDL
constexpr uint16_t kFileFlagHasKey = 0x20;     // 32-byte key + 32-byte IV follow the name
constexpr uint16_t kFileFlagsKnown = 0x3F;

constexpr uint32_t kNotATablespace = 0xFFFFFFFF;
constexpr uint32_t kRedoLogSpaceId = 0xFFFFFFF0;  // the space id of redo file metadata (dict_sys_t)  // FSP flags of ib_buffer_pool, redo, ...

struct FileDescriptor {
  SnapshotState state = SnapshotState::kNone;
  uint64_t file_size = 0;
  uint64_t allocated_size = 0;
  uint32_t fsp_flags = kNotATablespace;
  uint32_t fs_block_size = 0;
  uint16_t flags = 0;  // unknown bits (outside kFileFlagsKnown) are rejected by the parser
  uint32_t space_id = 0;
  uint32_t file_index = 0;
  uint32_t first_chunk = 0;
  uint32_t last_chunk = 0;
  std::string name;  // without the NUL; empty for redo files
};

struct DataDescriptor {
  SnapshotState state = SnapshotState::kNone;
  uint32_t task_index = 0;
  uint32_t chunk = 0;
  uint32_t block = 0;
  uint32_t file_index = 0;
  uint32_t data_length = 0;  // the COM_RES_DATA that follows must have exactly this many bytes
  uint64_t file_offset = 0;
  uint64_t file_size = 0;
};

using Descriptor = std::variant<TaskDescriptor, StateDescriptor, FileDescriptor, DataDescriptor>;

// Parses one InnoDB descriptor: version 100, declared length equal to the span's, a known type of
// the right length, a valid state, known flags only, a NUL-terminated name within bounds.
// A locator descriptor (type 1) in the data stream is a protocol error.
Result<Descriptor> parse_descriptor(std::span<const uint8_t> bytes);

// The ACK the recipient sends for an end-of-state descriptor: the same bytes with kStateFlagAck
// set in the flags (its last two bytes). Input must be a valid state descriptor.
std::vector<uint8_t> with_ack_flag(std::span<const uint8_t> state_descriptor);

}  // namespace mysqlclone::clone
