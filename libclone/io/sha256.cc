#include "libclone/io/sha256.h"

#include <stdexcept>

namespace mysqlclone {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(std::span<const uint8_t> bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }

std::array<uint8_t, 32> Sha256::digest() {
  std::array<uint8_t, 32> md{};
  EVP_DigestFinal_ex(ctx_, md.data(), nullptr);
  return md;
}

std::string Sha256::hex_digest() {
  const std::array<uint8_t, 32> md = digest();
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < md.size(); ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace mysqlclone
