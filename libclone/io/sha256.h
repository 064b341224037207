// Incremental SHA-256 (OpenSSL EVP) of each file as it is written: the per-file checksums in
// mysqlclone.json that `verify` checks a backup against.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace mysqlclone {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const uint8_t> bytes);
  std::string hex_digest();  // finishes; call once (or digest())
  std::array<uint8_t, 32> digest();

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace mysqlclone
