#include "libclone/io/hashing_storage.h"

#include <algorithm>
#include <array>

#include "libclone/io/sha256.h"

namespace mysqlclone {
namespace {

class HashingFile : public StorageFile {
 public:
  HashingFile(std::unique_ptr<StorageFile> target, HashingStorage& owner, std::string rel_path)
      : target_(std::move(target)), owner_(owner), rel_path_(std::move(rel_path)) {}

  Status append(std::span<const uint8_t> bytes) override {
    Status s = target_->append(bytes);
    if (s.is_ok()) {
      sha_.update(bytes);
      bytes_ += bytes.size();
    }
    return s;
  }
  Status write_at(uint64_t offset, std::span<const uint8_t> bytes) override {
    in_order_ = false;  // not hashed: the bytes may come in any order, or twice
    return target_->write_at(offset, bytes);
  }
  Status extend_to(uint64_t size) override {
    Status s = target_->extend_to(size);
    if (!s.is_ok() || size <= bytes_) return s;
    static const std::array<uint8_t, 64 << 10> kZeros{};
    while (bytes_ < size) {
      const size_t n = size_t(std::min<uint64_t>(kZeros.size(), size - bytes_));
      sha_.update({kZeros.data(), n});
      bytes_ += n;
    }
    return s;
  }
  Status close() override {
    Status s = target_->close();
    if (s.is_ok() && in_order_) owner_.record({rel_path_, bytes_, sha_.hex_digest()});
    return s;
  }

 private:
  std::unique_ptr<StorageFile> target_;
  HashingStorage& owner_;
  std::string rel_path_;
  Sha256 sha_;
  uint64_t bytes_ = 0;
  bool in_order_ = true;
};

}  // namespace

std::vector<HashedFile> HashingStorage::files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<HashedFile> out;
  for (const auto& [name, file] : files_) out.push_back(file);
  return out;
}

void HashingStorage::record(HashedFile file) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string name = file.rel_path;
  files_[name] = std::move(file);
}

Result<std::unique_ptr<StorageFile>> HashingStorage::create(const std::string& rel_path) {
  auto file = target_.create(rel_path);
  if (!file.is_ok()) return file.status();
  return std::unique_ptr<StorageFile>(std::make_unique<HashingFile>(std::move(file).value(), *this, rel_path));
}

Status HashingStorage::remove(const std::string& rel_path) {
  Status s = target_.remove(rel_path);
  if (s.is_ok()) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_.erase(rel_path);
  }
  return s;
}

Status HashingStorage::rename(const std::string& from, const std::string& to) {
  Status s = target_.rename(from, to);
  if (!s.is_ok()) return s;
  std::lock_guard<std::mutex> lock(mutex_);
  files_.erase(to);
  if (auto it = files_.find(from); it != files_.end()) {
    HashedFile moved = std::move(it->second);
    files_.erase(it);
    moved.rel_path = to;
    files_[to] = std::move(moved);
  }
  return s;
}

Status HashingStorage::put(const std::string& rel_path, const std::string& contents) {
  Status s = target_.put(rel_path, contents);
  if (!s.is_ok()) return s;
  Sha256 sha;
  sha.update({reinterpret_cast<const uint8_t*>(contents.data()), contents.size()});
  record({rel_path, contents.size(), sha.hex_digest()});
  return s;
}

}  // namespace mysqlclone
