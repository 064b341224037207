#include "libclone/command/restore/restored_bytes.h"

#include <algorithm>
#include <cstring>

#include "libclone/base/text.h"

namespace mysqlclone {
namespace {

constexpr size_t kRestoreChunkBytes = 1 << 20;  // a multiple of every page size: no page straddles two

}  // namespace

RestoredBytes::RestoredBytes(ReadFile source, std::string source_sha256, uint64_t source_bytes, uint64_t keep,
                             uint64_t size)
    : source_(std::move(source)),
      source_sha256_(std::move(source_sha256)),
      source_bytes_(source_bytes),
      keep_(keep),
      size_(size),
      buffer_(kRestoreChunkBytes) {
  source_.advise_sequential();
}

Result<std::unique_ptr<RestoredBytes>> RestoredBytes::open(const WholeFile& file) {
  auto source = ReadFile::open(file.dir + "/" + file.path);
  if (!source.is_ok()) return source.status();
  return std::unique_ptr<RestoredBytes>(
      new RestoredBytes(std::move(source).value(), file.sha256, file.bytes, file.bytes, file.bytes));
}

Result<std::unique_ptr<RestoredBytes>> RestoredBytes::open(const OverlaidFile& file) {
  uint64_t keep = file.base_bytes;
  for (const DeltaLayer& d : file.deltas) keep = std::min(keep, d.file_bytes);
  auto source = ReadFile::open(file.base_dir + "/" + file.base_path);
  if (!source.is_ok()) return source.status();
  std::unique_ptr<RestoredBytes> r(
      new RestoredBytes(std::move(source).value(), file.base_sha256, file.base_bytes, keep, file.final_bytes()));
  for (size_t i = 0; i < file.deltas.size(); ++i) {
    uint64_t limit = file.final_bytes();
    for (size_t j = i; j < file.deltas.size(); ++j) limit = std::min(limit, file.deltas[j].file_bytes);
    auto reader = DeltaReader::open(file.deltas[i].dir + "/" + file.deltas[i].path, false);
    if (!reader.is_ok()) return reader.status();
    r->layers_.push_back({std::move(reader).value(), limit, std::nullopt, false});
  }
  return r;
}

// Copies into `chunk` (at offset_) every delta page that falls in it, earliest delta first.
Status RestoredBytes::overlay(std::span<uint8_t> chunk) {
  const uint64_t end = offset_ + chunk.size();
  for (Layer& layer : layers_) {
    const uint64_t psize = layer.reader.header().page_size;
    while (!layer.ended) {
      if (!layer.pending) {
        auto page = layer.reader.next();
        if (!page.is_ok()) return page.status();
        if (!*page) {
          layer.ended = true;
          break;
        }
        layer.pending = **page;
      }
      const uint64_t at = uint64_t(layer.pending->index) * psize;
      if (at >= end) break;  // a later chunk's
      if (at + psize <= layer.limit && at >= offset_) {
        std::memcpy(chunk.data() + (at - offset_), layer.pending->bytes.data(), psize);
        ++pages_overlaid_;
      }
      layer.pending.reset();
    }
  }
  return Status::ok();
}

Result<std::span<const uint8_t>> RestoredBytes::next() {
  if (offset_ >= size_) return std::span<const uint8_t>();
  const size_t want = size_t(std::min<uint64_t>(kRestoreChunkBytes, size_ - offset_));
  std::span<uint8_t> chunk(buffer_.data(), want);
  // Source bytes where there are any (all of them are hashed, even those cut off), then zeros.
  size_t from_source = 0;
  if (offset_ < source_bytes_) {
    from_source = size_t(std::min<uint64_t>(want, source_bytes_ - offset_));
    auto n = source_.read_at(offset_, chunk.first(from_source));
    if (!n.is_ok()) return n.status();
    if (*n < from_source) return broken(printable(source_.path()) + " is shorter than its backup records");
    hash_.update(chunk.first(from_source));
    hashed_ = offset_ + from_source;
  }
  const size_t used = offset_ < keep_ ? size_t(std::min<uint64_t>(want, keep_ - offset_)) : 0;
  std::memset(chunk.data() + used, 0, want - used);
  if (Status s = overlay(chunk); !s.is_ok()) return s;
  offset_ += want;
  return std::span<const uint8_t>(chunk);
}

Status RestoredBytes::finish() {
  for (uint64_t at = hashed_; at < source_bytes_;) {  // a base longer than the restored file
    const size_t want = size_t(std::min<uint64_t>(kRestoreChunkBytes, source_bytes_ - at));
    std::span<uint8_t> chunk(buffer_.data(), want);
    auto n = source_.read_at(at, chunk);
    if (!n.is_ok()) return n.status();
    if (*n < want) return broken(printable(source_.path()) + " is shorter than its backup records");
    hash_.update(chunk);
    at += want;
  }
  // The deltas must end where their files say (a delta cut after its last page is refused).
  for (Layer& layer : layers_)
    while (!layer.ended) {
      auto page = layer.reader.next();
      if (!page.is_ok()) return page.status();
      layer.ended = !*page;
    }
  if (!source_sha256_.empty() && hash_.hex_digest() != source_sha256_)
    return broken(printable(source_.path()) + " does not match the SHA-256 its backup records (damaged since?)");
  return Status::ok();
}

}  // namespace mysqlclone
