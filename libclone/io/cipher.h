// Encryption of a stream's chunks (stream_format.h): AES-256-GCM through OpenSSL EVP. The user's
// key comes from a file (64 hex digits, as `openssl rand -hex 32` prints) and never appears in
// argv, logs, metadata or the stream; each stream encrypts with its own key derived from it.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "libclone/base/status.h"

namespace mysqlclone {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

using KeyBytes = std::array<uint8_t, kKeyBytes>;
using Nonce = std::array<uint8_t, kNonceBytes>;
using Tag = std::array<uint8_t, kTagBytes>;

// A key that is wiped from memory when it goes.
class SecretKey {
 public:
  explicit SecretKey(const KeyBytes& bytes) : bytes_(bytes) {}
  SecretKey(const SecretKey& other) : bytes_(other.bytes_) {}
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();
  const KeyBytes& bytes() const { return bytes_; }

 private:
  KeyBytes bytes_;
};

// The key in `path`: exactly 64 hex digits, surrounding white space allowed. Errors (kPath for
// an unreadable file, kUsage for bad contents) name the file, never its contents.
Result<SecretKey> load_key_file(const std::string& path);

// HMAC-SHA256(master, context): a key of its own for each context (a stream's identity).
SecretKey derive_key(const SecretKey& master, std::span<const uint8_t> context);

// Encrypts `data` in place under `key` and `nonce`, authenticating `aad` too; returns the tag.
Tag gcm_seal(const SecretKey& key, const Nonce& nonce, std::span<const uint8_t> aad, std::span<uint8_t> data);
// Decrypts `data` in place; false when the tag does not match (wrong key, or any bit of `aad`,
// `data` or `tag` changed): `data` must then be thrown away.
bool gcm_open(const SecretKey& key, const Nonce& nonce, std::span<const uint8_t> aad, std::span<uint8_t> data,
              const Tag& tag);

}  // namespace mysqlclone
