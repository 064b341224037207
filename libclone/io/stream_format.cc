#include "libclone/io/stream_format.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "innodb/crc32c.h"
#include "libclone/base/text.h"
#include "libclone/io/relative_path.h"

namespace mysqlclone::stream {
namespace {

constexpr char kMagic[8] = {'M', 'C', 'S', 'T', 'R', 'E', 'A', 'M'};
constexpr uint8_t kCipherNone = 0;
constexpr uint8_t kCipherAes256Gcm = 1;
constexpr char kKeyContext[] = "mysqlclone stream v1";
constexpr size_t kShownPath = 200;

void put_u16(uint8_t* p, uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = uint8_t(v >> (8 * i));
}
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint16_t get_u16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

void append_u32(std::vector<uint8_t>& out, uint32_t v) {
  out.resize(out.size() + 4);
  put_u32(out.data() + out.size() - 4, v);
}
void append_u64(std::vector<uint8_t>& out, uint64_t v) {
  out.resize(out.size() + 8);
  put_u64(out.data() + out.size() - 8, v);
}
void append_text(std::vector<uint8_t>& out, const std::string& s) { out.insert(out.end(), s.begin(), s.end()); }

// The per-stream key: a nonce (the sequence number) is then never reused under one key, even
// when the user's key encrypts many streams.
SecretKey stream_key(const SecretKey& master, const std::array<uint8_t, 16>& id) {
  std::vector<uint8_t> context(kKeyContext, kKeyContext + sizeof kKeyContext - 1);
  context.insert(context.end(), id.begin(), id.end());
  return derive_key(master, context);
}

// Record n's nonce is n; the preamble's key check uses all ones, which no record reaches.
Nonce record_nonce(uint64_t seq) {
  Nonce n{};
  put_u64(n.data() + 4, seq);
  return n;
}
Nonce key_check_nonce() {
  Nonce n;
  n.fill(0xff);
  return n;
}

// What a record's tag covers besides its body: the stream, the frame's type, codec and lengths,
// and the record's place.
std::array<uint8_t, 36> record_aad(const std::array<uint8_t, 16>& id, const uint8_t* frame) {
  std::array<uint8_t, 36> aad{};
  std::memcpy(aad.data(), id.data(), 16);
  std::memcpy(aad.data() + 16, frame, 12);
  std::memcpy(aad.data() + 28, frame + 16, 8);
  return aad;
}

uint32_t frame_crc(const std::array<uint8_t, 16>& id, const uint8_t* frame) {
  return innodb::crc32c(innodb::crc32c(0, id.data(), id.size()), frame, 28);
}

}  // namespace

const char* record_type_name(RecordType t) {
  switch (t) {
    case RecordType::kCreate: return "create";
    case RecordType::kData: return "data";
    case RecordType::kExtend: return "extend";
    case RecordType::kClose: return "close";
    case RecordType::kPut: return "put";
    case RecordType::kMakeDir: return "make-dir";
    case RecordType::kRemove: return "remove";
    case RecordType::kRemoveDir: return "remove-dir";
    case RecordType::kRename: return "rename";
    case RecordType::kSync: return "sync";
    case RecordType::kEnd: return "end";
  }
  return "unknown";
}

// ---- Encoder -----------------------------------------------------------------------------------

Encoder::Encoder(Settings settings) : settings_(std::move(settings)) {
  if (RAND_bytes(id_.data(), int(id_.size())) != 1) throw std::runtime_error("no random bytes for the stream id");
  preamble_.assign(kPreambleBytes, 0);
  std::memcpy(preamble_.data(), kMagic, sizeof kMagic);
  put_u16(preamble_.data() + 8, kVersion);
  preamble_[10] = settings_.key ? kCipherAes256Gcm : kCipherNone;
  std::memcpy(preamble_.data() + 16, id_.data(), id_.size());
  if (settings_.key) {
    stream_key_.emplace(stream_key(*settings_.key, id_));
    const Tag check = gcm_seal(*stream_key_, key_check_nonce(), std::span(preamble_.data(), 32), {});
    std::memcpy(preamble_.data() + 32, check.data(), check.size());
  }
  put_u32(preamble_.data() + 60, innodb::crc32c(0, preamble_.data(), 60));
  hash_.update(preamble_);
}

std::vector<uint8_t> data_body(uint32_t file, uint64_t offset, std::span<const uint8_t> bytes) {
  std::vector<uint8_t> body;
  body.reserve(16 + bytes.size());
  append_u32(body, file);
  append_u32(body, 0);
  append_u64(body, offset);
  body.insert(body.end(), bytes.begin(), bytes.end());
  return body;
}

std::vector<uint8_t> record_body(const Record& r) {
  std::vector<uint8_t> body;
  switch (r.type) {
    case RecordType::kCreate:
      append_u32(body, r.file);
      append_text(body, r.path);
      break;
    case RecordType::kData: return data_body(r.file, r.offset, r.bytes);
    case RecordType::kExtend:
    case RecordType::kClose:
      append_u32(body, r.file);
      append_u32(body, 0);
      append_u64(body, r.offset);
      break;
    case RecordType::kPut:
      append_u32(body, uint32_t(r.path.size()));
      append_text(body, r.path);
      body.insert(body.end(), r.bytes.begin(), r.bytes.end());
      break;
    case RecordType::kRename:
      append_u32(body, uint32_t(r.path.size()));
      append_text(body, r.path);
      append_text(body, r.to);
      break;
    case RecordType::kMakeDir:
    case RecordType::kRemove:
    case RecordType::kRemoveDir: append_text(body, r.path); break;
    case RecordType::kSync:
    case RecordType::kEnd: break;
  }
  return body;
}

Packed Encoder::pack_body(RecordType type, std::vector<uint8_t> body, uint64_t seq) const {
  const auto plain_size = uint32_t(body.size());
  if (type == RecordType::kData || type == RecordType::kPut) {
    std::vector<uint8_t> packed = compress(settings_.compression, body);
    if (!packed.empty()) return frame_body(type, settings_.compression.codec, plain_size, std::move(packed), seq);
  }
  return frame_body(type, Codec::kStored, plain_size, std::move(body), seq);
}

Packed Encoder::frame_body(RecordType type, Codec codec, uint32_t plain_size, std::vector<uint8_t> body,
                           uint64_t seq) const {
  Packed p{type, plain_size, {}, std::move(body)};
  uint8_t* frame = p.frame.data();
  frame[0] = uint8_t(type);
  frame[1] = uint8_t(codec);
  put_u32(frame + 4, uint32_t(p.body.size() + (stream_key_ ? kTagBytes : 0)));
  put_u32(frame + 8, plain_size);
  put_u64(frame + 16, seq);
  if (stream_key_) {
    const Tag tag = gcm_seal(*stream_key_, record_nonce(seq), record_aad(id_, frame), p.body);
    p.body.insert(p.body.end(), tag.begin(), tag.end());
  }
  put_u32(frame + 12, innodb::crc32c(0, p.body.data(), p.body.size()));
  put_u32(frame + 28, frame_crc(id_, frame));
  return p;
}

void Encoder::seal(const Packed& p) {
  ++records_;
  if (p.type == RecordType::kData) data_bytes_ += p.plain_size - 16;
  hash_.update(p.frame);
}

Packed Encoder::end() {
  std::vector<uint8_t> body;
  append_u64(body, records_);
  append_u64(body, data_bytes_);
  const std::array<uint8_t, 32> digest = hash_.digest();
  body.insert(body.end(), digest.begin(), digest.end());
  const auto size = uint32_t(body.size());  // before the body is moved into the call
  return frame_body(RecordType::kEnd, Codec::kStored, size, std::move(body), records_ + 1);
}

// ---- Reader ------------------------------------------------------------------------------------

Reader::Reader(ReadFn read, std::optional<SecretKey> key, unsigned threads)
    : read_(std::move(read)), key_(std::move(key)), threads_wanted_(std::max(threads, 1u)) {}

Reader::~Reader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_) t.join();
}

Status Reader::damaged_at(const Place& place, const std::string& what) {
  return Status::error(ExitCode::kVerifyFailed, fmt::format("the stream is damaged at byte {} (record {}): {}",
                                                            place.position, place.record, what));
}

Status Reader::damaged(const std::string& what) const { return damaged_at(place_, what); }

Result<bool> Reader::read_exactly(std::span<uint8_t> out) {
  size_t got = 0;
  while (got < out.size()) {
    auto n = read_(out.subspan(got));
    if (!n.is_ok()) return n.status();
    if (*n == 0) break;
    got += *n;
  }
  position_.fetch_add(got, std::memory_order_relaxed);
  return got == out.size();
}

Status Reader::open() {
  std::array<uint8_t, kPreambleBytes> p{};
  auto full = read_exactly(p);
  if (!full.is_ok()) return full.status();
  if (!*full || std::memcmp(p.data(), kMagic, sizeof kMagic) != 0)
    return Status::error(ExitCode::kVerifyFailed, "the input is not a mysqlclone stream (it does not begin with " +
                                                      std::string(kMagic, sizeof kMagic) + ")");
  if (get_u32(p.data() + 60) != innodb::crc32c(0, p.data(), 60))
    return Status::error(ExitCode::kVerifyFailed, "the stream's preamble is damaged (checksum mismatch)");
  if (get_u16(p.data() + 8) != kVersion)
    return Status::error(ExitCode::kVerifyFailed, fmt::format("the stream has format version {}; this mysqlclone "
                                                              "reads version {} only",
                                                              get_u16(p.data() + 8), kVersion));
  const uint8_t cipher = p[10];
  if (cipher > kCipherAes256Gcm || std::any_of(p.begin() + 11, p.begin() + 16, [](uint8_t b) { return b != 0; }) ||
      std::any_of(p.begin() + 48, p.begin() + 60, [](uint8_t b) { return b != 0; }))
    return Status::error(ExitCode::kVerifyFailed, "the stream's preamble has unknown settings");
  std::memcpy(id_.data(), p.data() + 16, id_.size());
  if (cipher == kCipherNone && key_)
    return Status::error(ExitCode::kUsage, "the stream is not encrypted: drop --encrypt-key-file");
  if (cipher == kCipherAes256Gcm && !key_)
    return Status::error(ExitCode::kUsage, "the stream is encrypted: give its key with --encrypt-key-file");
  if (key_) {
    stream_key_.emplace(stream_key(*key_, id_));
    Tag check;
    std::memcpy(check.data(), p.data() + 32, check.size());
    if (!gcm_open(*stream_key_, key_check_nonce(), std::span(p.data(), 32), {}, check))
      return Status::error(ExitCode::kVerifyFailed,
                           "the key in --encrypt-key-file does not open this stream (wrong key, or a damaged preamble)");
  } else if (std::any_of(p.begin() + 32, p.begin() + 48, [](uint8_t b) { return b != 0; })) {
    return Status::error(ExitCode::kVerifyFailed, "the stream's preamble has unknown settings");
  }
  hash_.update(p);
  return Status::ok();
}

Status Reader::check_path(const std::string& path) const {
  if (path.empty()) return damaged("an empty path");
  if (path.size() > kMaxPath) return damaged(fmt::format("a path longer than {} bytes", kMaxPath));
  if (std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
    return damaged("path \"" + printable(path, kShownPath) + "\" has a control or NUL byte");
  if (path[0] == '/') return damaged("path \"" + printable(path, kShownPath) + "\" is absolute");
  std::vector<std::string_view> parts;
  if (const char* why = split_relative_path(path, parts)) return damaged("path \"" + printable(path, kShownPath) + "\" " + why);
  return Status::ok();
}

Result<Reader::OpenFile*> Reader::open_file(uint32_t id) {
  auto it = open_files_.find(id);
  if (it == open_files_.end()) return damaged(fmt::format("file {} is not open", id));
  return &it->second;
}

Result<Record> Reader::next() {
  if (!failed_.is_ok()) return failed_;
  auto r = threads_wanted_ > 1 ? next_read_ahead() : read_record();
  if (!r.is_ok()) failed_ = r.status();
  return r;
}

Result<Record> Reader::read_record() {
  auto sealed = read_sealed();
  if (!sealed.is_ok()) return sealed.status();
  auto plain = open_body(*sealed);
  if (!plain.is_ok()) return plain.status();
  return parse(*sealed, std::move(plain).value());
}

Result<Record> Reader::next_read_ahead() {
  if (threads_.empty())
    for (unsigned i = 0; i < threads_wanted_; ++i) threads_.emplace_back([this] { open_loop(); });
  // Read on until the window is full: 2 records per thread keep every thread busy while the
  // caller writes. Their stored and plain bodies stay within 4 MiB per thread (2 data chunks
  // each), or one record of any size: a stream of large puts is read one by one.
  const size_t max_records = 2 * size_t(threads_wanted_), max_bytes = 4 * kMaxChunk * threads_wanted_;
  while (!read_ahead_ended_ && (window_.empty() || (window_.size() < max_records && window_bytes_ < max_bytes))) {
    auto slot = std::make_unique<Slot>();
    auto sealed = read_sealed();
    if (sealed.is_ok()) {
      slot->sealed = std::move(sealed).value();
      slot->bytes = slot->sealed.body.size() + slot->sealed.plain_size;
      window_bytes_ += slot->bytes;
      read_ahead_ended_ = slot->sealed.type == RecordType::kEnd;
    } else {
      slot->status = sealed.status();
      slot->done = true;
      read_ahead_ended_ = true;
    }
    std::lock_guard lock(mutex_);
    if (!slot->done) to_open_.push_back(slot.get());
    window_.push_back(std::move(slot));
    changed_.notify_all();
  }
  std::unique_ptr<Slot> slot;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return window_.front()->done; });
    slot = std::move(window_.front());
    window_.pop_front();
  }
  window_bytes_ -= slot->bytes;
  if (!slot->status.is_ok()) return slot->status;
  return parse(slot->sealed, std::move(slot->plain));
}

void Reader::open_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !to_open_.empty(); });
    if (stopping_) return;
    Slot* slot = to_open_.front();
    to_open_.pop_front();
    lock.unlock();
    Result<std::vector<uint8_t>> plain = Status::error(ExitCode::kInternal, "not opened");
    try {
      plain = open_body(slot->sealed);
    } catch (const std::exception& e) {
      plain = Status::error(ExitCode::kInternal, std::string("opening a stream record: ") + e.what());
    }
    lock.lock();
    if (plain.is_ok())
      slot->plain = std::move(plain).value();
    else
      slot->status = plain.status();
    slot->done = true;
    changed_.notify_all();
  }
}

Result<Reader::Sealed> Reader::read_sealed() {
  place_ = {position(), records_ + 1};
  if (ended_) return damaged("read past the end record");
  Sealed r;
  uint8_t* frame = r.frame.data();
  auto full = read_exactly(r.frame);
  if (!full.is_ok()) return full.status();
  if (!*full)
    return Status::error(ExitCode::kVerifyFailed,
                         fmt::format("the stream ends at byte {} without its end record: it was cut short", position()));
  place_.position = position();
  if (get_u32(frame + 28) != frame_crc(id_, frame)) return damaged("record frame checksum mismatch");
  const uint8_t type_byte = frame[0];
  const uint8_t codec_byte = frame[1];
  const uint32_t stored = get_u32(frame + 4);
  r.plain_size = get_u32(frame + 8);
  const uint64_t seq = get_u64(frame + 16);
  if (seq != records_ + 1)
    return damaged(fmt::format("record number {} where {} was due (records dropped, repeated or reordered)", seq,
                               records_ + 1));
  records_ = seq;
  if (type_byte < uint8_t(RecordType::kCreate) || type_byte > uint8_t(RecordType::kEnd))
    return damaged(fmt::format("unknown record type {}", type_byte));
  r.type = RecordType(type_byte);
  if (codec_byte > uint8_t(Codec::kLz4) || get_u16(frame + 2) != 0 || get_u32(frame + 24) != 0)
    return damaged("unknown codec or flags in a record frame");
  r.codec = Codec(codec_byte);
  const size_t tag_bytes = stream_key_ ? kTagBytes : 0;
  if (stored > kMaxStored || r.plain_size > kMaxPlain || stored < tag_bytes)
    return damaged(fmt::format("record length {} (plain {}) out of bounds", stored, r.plain_size));
  if (r.codec == Codec::kStored && stored - tag_bytes != r.plain_size) return damaged("stored record length mismatch");
  r.body.resize(stored);
  auto body_full = read_exactly(r.body);
  if (!body_full.is_ok()) return body_full.status();
  if (!*body_full)
    return Status::error(ExitCode::kVerifyFailed,
                         fmt::format("the stream ends at byte {} inside record {}: it was cut short", position(), seq));
  place_.position = position();
  if (r.type == RecordType::kEnd) {
    r.digest = hash_.digest();
  } else {
    hash_.update(r.frame);
  }
  r.place = place_;
  return r;
}

Result<std::vector<uint8_t>> Reader::open_body(Sealed& r) const {
  std::vector<uint8_t> body = std::move(r.body);
  if (innodb::crc32c(0, body.data(), body.size()) != get_u32(r.frame.data() + 12))
    return damaged_at(r.place, fmt::format("{} record checksum mismatch", record_type_name(r.type)));
  if (stream_key_) {
    Tag tag;
    std::memcpy(tag.data(), body.data() + body.size() - kTagBytes, kTagBytes);
    body.resize(body.size() - kTagBytes);
    if (!gcm_open(*stream_key_, record_nonce(r.place.record), record_aad(id_, r.frame.data()), body, tag))
      return damaged_at(r.place, "the record does not authenticate (altered, moved, or from another stream)");
  }
  if (r.codec != Codec::kStored) {
    auto plain = decompress(r.codec, body, r.plain_size);
    if (!plain.is_ok()) return damaged_at(r.place, plain.status().message());
    return plain;
  }
  return body;
}

Result<Record> Reader::parse(const Sealed& sealed, std::vector<uint8_t> b) {
  place_ = sealed.place;
  const RecordType type = sealed.type;
  const std::array<uint8_t, 32>& digest = sealed.digest;
  Record r;
  r.type = type;
  const auto short_body = [&] { return damaged(fmt::format("{} record too short", record_type_name(type))); };
  const auto text = [&](size_t from, size_t to) { return std::string(b.begin() + long(from), b.begin() + long(to)); };
  switch (type) {
    case RecordType::kCreate: {
      if (b.size() < 4) return short_body();
      r.file = get_u32(b.data());
      r.path = text(4, b.size());
      if (Status s = check_path(r.path); !s.is_ok()) return s;
      if (r.file != next_file_) return damaged(fmt::format("file id {} where {} was due", r.file, next_file_));
      if (open_files_.size() >= kMaxOpenFiles) return damaged(fmt::format("more than {} open files", kMaxOpenFiles));
      ++next_file_;
      open_files_[r.file] = {};
      return r;
    }
    case RecordType::kData:
    case RecordType::kExtend:
    case RecordType::kClose: {
      if (b.size() < 16 || (type != RecordType::kData && b.size() != 16)) return short_body();
      r.file = get_u32(b.data());
      r.offset = get_u64(b.data() + 8);
      if (get_u32(b.data() + 4) != 0) return damaged("reserved bytes set");
      auto f = open_file(r.file);
      if (!f.is_ok()) return f.status();
      if (type == RecordType::kData) {
        const size_t n = b.size() - 16;
        if (n == 0 || n > kMaxChunk) return damaged(fmt::format("data chunk of {} bytes", n));
        if (r.offset >= kMaxFileSize || n > kMaxFileSize - r.offset)
          return damaged(fmt::format("data at offset {} beyond the largest file size", r.offset));
        data_bytes_ += n;
        (*f)->size = std::max((*f)->size, r.offset + n);
        r.bytes.assign(b.begin() + 16, b.end());
      } else if (r.offset > kMaxFileSize) {
        return damaged(fmt::format("file size {} beyond the largest file size", r.offset));
      } else if (type == RecordType::kExtend) {
        (*f)->size = std::max((*f)->size, r.offset);
      } else {
        if ((*f)->size != r.offset)
          return damaged(fmt::format("file {} closes at {} bytes but {} were written", r.file, r.offset, (*f)->size));
        open_files_.erase(r.file);
      }
      return r;
    }
    case RecordType::kPut:
    case RecordType::kRename: {
      if (b.size() < 4) return short_body();
      const uint32_t n = get_u32(b.data());
      if (n > b.size() - 4) return short_body();
      r.path = text(4, 4 + n);
      if (Status s = check_path(r.path); !s.is_ok()) return s;
      if (type == RecordType::kPut) {
        if (b.size() - 4 - n > kMaxPut) return damaged("put contents too large");
        r.bytes.assign(b.begin() + 4 + n, b.end());
      } else {
        r.to = text(4 + n, b.size());
        if (Status s = check_path(r.to); !s.is_ok()) return s;
      }
      return r;
    }
    case RecordType::kMakeDir:
    case RecordType::kRemove:
    case RecordType::kRemoveDir:
      r.path = text(0, b.size());
      if (Status s = check_path(r.path); !s.is_ok()) return s;
      return r;
    case RecordType::kSync:
      if (!b.empty()) return damaged("sync record with a body");
      return r;
    case RecordType::kEnd: {
      if (b.size() != 48) return damaged("end record of the wrong size");
      if (get_u64(b.data()) != records_ - 1)
        return damaged(fmt::format("the end record counts {} records but {} came", get_u64(b.data()), records_ - 1));
      if (get_u64(b.data() + 8) != data_bytes_)
        return damaged(fmt::format("the end record counts {} data bytes but {} came", get_u64(b.data() + 8), data_bytes_));
      if (std::memcmp(b.data() + 16, digest.data(), digest.size()) != 0)
        return damaged("the SHA-256 of the stream's frames does not match its end record");
      if (!open_files_.empty()) return damaged(fmt::format("{} files were never closed", open_files_.size()));
      uint8_t extra = 0;
      auto more = read_exactly(std::span(&extra, 1));
      if (!more.is_ok()) return more.status();
      if (*more) return damaged("bytes follow the end record");
      ended_ = true;
      return r;
    }
  }
  return damaged("unknown record type");
}

Reader::ReadFn memory_input(std::span<const uint8_t> bytes) {
  return [bytes, at = size_t(0)](std::span<uint8_t> out) mutable -> Result<size_t> {
    const size_t n = std::min(out.size(), bytes.size() - at);
    std::copy_n(bytes.begin() + long(at), n, out.begin());
    at += n;
    return n;
  };
}

}  // namespace mysqlclone::stream
