// The mysqlclone stream (man/mysqlclone-stream.5): everything a copy writes through a Storage —
// files created, appended, extended and closed, small files put, names made, renamed and
// removed, syncs — as a sequence of records on one byte stream (a pipe, a file, a socket), which
// `extract` replays into a directory. Version 2:
//
//   preamble  64 bytes: "MCSTREAM", version, cipher, a random 16-byte stream id, the key check
//             (AES-256-GCM streams), crc32c
//   record*   a 32-byte frame (type, codec, stored and plain lengths, body crc32c, sequence
//             number, frame crc32c seeded with the stream id) and its body
//   end       a record committing to the number of records, the data bytes and the SHA-256 of
//             the preamble and every frame before it (each frame holds its body's crc32c);
//             nothing may follow it
//
// Data chunks name their file (by the id its create record gave it) and offset, so writers of
// many files interleave freely. Each body is compressed (zstd, lz4; stored when that does not
// help) and then, in an encrypted stream, sealed with AES-256-GCM under a key derived from the
// user's key and the stream id, with the sequence number as nonce and the frame as associated
// data: a record dropped, repeated, reordered, altered or taken from another stream fails at
// once, and a stream cut anywhere lacks its (authenticated) end record.
//
// Encoder and Reader work over bytes (a Reader may open records on threads of its own). The Reader treats its input as hostile: every
// length and count is bounded (below), every path is relative and stays inside the target,
// every record is checked before it is returned, and the first fault ends the stream with
// kVerifyFailed naming the byte offset.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/io/cipher.h"
#include "libclone/io/compress.h"
#include "libclone/io/sha256.h"

namespace mysqlclone::stream {

// 2: the end record's SHA-256 covers the preamble and the frames, not the bodies (version 1 hashed
// every byte: a third of the CPU of a stream's two sides, for no check the frames' crc32c of the
// bodies and, encrypted, their tags do not already make).
constexpr uint16_t kVersion = 2;
constexpr size_t kPreambleBytes = 64;
constexpr size_t kFrameBytes = 32;
// Bounds of what a reader accepts (and a writer produces).
constexpr size_t kMaxChunk = size_t(1) << 20;     // data bytes in one data record
constexpr size_t kMaxPut = size_t(32) << 20;      // contents of one put (a manifest of ~100k files)
constexpr size_t kMaxPath = 4096;                 // bytes of one path
constexpr size_t kMaxPlain = kMaxPut + kMaxPath + 8;  // a record's body, decrypted and decompressed
constexpr size_t kMaxStored = kMaxPlain + kTagBytes;  // a record's body as stored
constexpr size_t kMaxOpenFiles = 4096;            // files created and not yet closed
constexpr uint64_t kMaxFileSize = uint64_t(1) << 48;

// The values are written in the stream: never renumber.
enum class RecordType : uint8_t {
  kCreate = 1,     // file id, path: a new file
  kData = 2,       // file id, offset, bytes
  kExtend = 3,     // file id, size: grow with zeros
  kClose = 4,      // file id, size: the file is complete at that size
  kPut = 5,        // path, contents: a small file written whole
  kMakeDir = 6,    // path
  kRemove = 7,     // path
  kRemoveDir = 8,  // path
  kRename = 9,     // from, to
  kSync = 10,      // everything before is durable
  kEnd = 11,       // record count, data bytes, SHA-256 of the preamble and the frames before it
};
const char* record_type_name(RecordType t);

struct Record {
  RecordType type = RecordType::kSync;
  uint32_t file = 0;    // create, data, extend, close
  uint64_t offset = 0;  // data: where the bytes go; extend, close: the size
  std::string path;     // create, put, make_dir, remove, remove_dir, rename (from)
  std::string to;       // rename
  std::vector<uint8_t> bytes;  // data, put
};

struct Settings {
  Compression compression;
  std::optional<SecretKey> key;  // the user's key: the stream is encrypted
};

// A record's plain body as the format lays it out (mysqlclone-stream(5)). data_body() lays out a
// data record straight from the bytes (a writer's one copy of them).
std::vector<uint8_t> record_body(const Record& record);
std::vector<uint8_t> data_body(uint32_t file, uint64_t offset, std::span<const uint8_t> bytes);

// A record ready to go into the stream as record number `seq`: its frame (checksums, and the
// number the reader checks and the tag covers) and its body as stored (compressed, encrypted).
struct Packed {
  RecordType type = RecordType::kSync;
  uint32_t plain_size = 0;
  std::array<uint8_t, kFrameBytes> frame{};
  std::vector<uint8_t> body;
};

// Writes a stream. pack_body() and frame_body() are const and thread-safe: a record is
// compressed, encrypted and checksummed on any thread, once its number is known. seal() and
// end() must be called one at a time, in the order of the records' numbers (1, 2, 3 ...).
class Encoder {
 public:
  explicit Encoder(Settings settings);  // draws a random stream id
  // The first bytes of the stream.
  const std::vector<uint8_t>& preamble() const { return preamble_; }
  // A body laid out by record_body() or data_body(), compressed where that shrinks it, framed
  // as record number `seq`.
  Packed pack_body(RecordType type, std::vector<uint8_t> body, uint64_t seq) const;
  // A body already compressed with `codec` from `plain_size` bytes (or stored), framed as record
  // number `seq`: encrypted in an encrypted stream, and checksummed.
  Packed frame_body(RecordType type, Codec codec, uint32_t plain_size, std::vector<uint8_t> body, uint64_t seq) const;
  // Counts the next record into the end record's totals and digest; the caller then writes its
  // frame and its body, in that order, after every record before it.
  void seal(const Packed& packed);
  // The end record, once every record is sealed, numbered next (sealed like any other after
  // this); nothing may follow it.
  Packed end();
  const std::array<uint8_t, 16>& stream_id() const { return id_; }

 private:
  Settings settings_;
  std::optional<SecretKey> stream_key_;
  std::array<uint8_t, 16> id_{};
  std::vector<uint8_t> preamble_;
  uint64_t records_ = 0;
  uint64_t data_bytes_ = 0;
  Sha256 hash_;
};

// Reads a stream. `read` fills the span from the input and returns how many bytes it put
// there: fewer only at the end of the input. With `threads` > 1, the records are read ahead
// (at most 2 and 4 MiB stored and plain per thread, or one record of any size) and decrypted and decompressed on that many threads
// of its own, while the caller writes the ones before; they are still checked and returned
// one by one in stream order, and a fault is returned where it lies, after every record before it.
class Reader {
 public:
  using ReadFn = std::function<Result<size_t>(std::span<uint8_t>)>;
  Reader(ReadFn read, std::optional<SecretKey> key, unsigned threads = 1);
  ~Reader();
  // Reads and checks the preamble: kUsage when the stream is encrypted and no key was given
  // (or the reverse), kVerifyFailed when it is no stream, a newer version, or the key is wrong.
  Status open();
  // The next record, checked; the last is kEnd, returned only once the whole stream is proven
  // complete and the input ends right after it. After a failure, every call returns it again.
  Result<Record> next();
  // Stream bytes read so far (with threads, ahead of the records returned).
  uint64_t position() const { return position_.load(std::memory_order_relaxed); }
  bool encrypted() const { return key_.has_value(); }

 private:
  struct OpenFile {
    uint64_t size = 0;  // the furthest byte written or extended to
  };
  struct Place {
    uint64_t position = 0;  // the stream byte reached
    uint64_t record = 0;    // the record's number
  };
  // A record as read, its frame checked; its body still as stored (checked by open_body, on
  // the threads that open records).
  struct Sealed {
    RecordType type = RecordType::kSync;
    Codec codec = Codec::kStored;
    uint32_t plain_size = 0;
    std::array<uint8_t, kFrameBytes> frame{};
    std::vector<uint8_t> body;
    std::array<uint8_t, 32> digest{};  // the end record: the SHA-256 of the preamble and the frames before it
    Place place;
  };
  // A record read ahead, opened on a thread.
  struct Slot {
    Status status;  // a fault in reading or opening it
    Sealed sealed;
    std::vector<uint8_t> plain;
    size_t bytes = 0;  // its stored and plain sizes
    bool done = false;
  };
  Result<Record> read_record();
  Result<Record> next_read_ahead();
  void open_loop();
  Result<Sealed> read_sealed();
  // Checks the body's crc32c, decrypts and decompresses: the record's plain body. Thread-safe.
  Result<std::vector<uint8_t>> open_body(Sealed& sealed) const;
  static Status damaged_at(const Place& place, const std::string& what);
  Status damaged(const std::string& what) const;
  Result<bool> read_exactly(std::span<uint8_t> out);  // false: the input ended first
  Status check_path(const std::string& path) const;
  Result<OpenFile*> open_file(uint32_t id);
  Result<Record> parse(const Sealed& sealed, std::vector<uint8_t> plain);

  ReadFn read_;
  Place place_;  // where damaged() says a fault lies (the caller's thread only)
  std::optional<SecretKey> key_;
  std::optional<SecretKey> stream_key_;
  std::array<uint8_t, 16> id_{};
  std::atomic<uint64_t> position_{0};
  uint64_t records_ = 0;
  uint64_t data_bytes_ = 0;
  uint32_t next_file_ = 1;
  std::map<uint32_t, OpenFile> open_files_;
  bool ended_ = false;
  Status failed_;
  Sha256 hash_;

  // With threads: the records read ahead, oldest first, and the threads that open them.
  unsigned threads_wanted_;
  bool read_ahead_ended_ = false;  // the end record or a fault was read
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Slot>> window_;
  size_t window_bytes_ = 0;  // the Slot::bytes of window_
  std::deque<Slot*> to_open_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// A Reader's input from bytes in memory (which must outlive the reader).
Reader::ReadFn memory_input(std::span<const uint8_t> bytes);

}  // namespace mysqlclone::stream
