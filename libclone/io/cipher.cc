#include "libclone/io/cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "libclone/base/text.h"

namespace mysqlclone {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

Ctx new_ctx() {
  Ctx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw std::bad_alloc();
  return ctx;
}

// GCM takes lengths as int: chunks are far below that (stream_format.h bounds them).
int as_int(size_t n) {
  if (n > size_t(std::numeric_limits<int>::max())) throw std::length_error("AES-GCM input too large");
  return int(n);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<SecretKey> load_key_file(const std::string& path) {
  // A file, a pipe (<(vault read ...)) or a device, read for at most 4 KiB: a directory opens
  // and then fails in the library's terms; a device like /dev/zero would never end.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status::error(ExitCode::kPath, "the key file " + printable(path) + " is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(ExitCode::kPath, "cannot read the key file " + printable(path));
  std::string text(4097, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  text.resize(size_t(in.gcount()));
  if (text.size() > 4096) {
    OPENSSL_cleanse(text.data(), text.size());
    return Status::error(ExitCode::kUsage, "the key file " + printable(path) +
                                               " is too big: it must hold exactly 64 hex digits (make one with: "
                                               "openssl rand -hex 32)");
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  const std::string_view hex =
      first == std::string::npos ? std::string_view() : std::string_view(text).substr(first, last - first + 1);
  KeyBytes key{};
  bool good = hex.size() == 2 * kKeyBytes;
  for (size_t i = 0; good && i < kKeyBytes; ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    good = hi >= 0 && lo >= 0;
    key[i] = uint8_t(good ? hi * 16 + lo : 0);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (!good)
    return Status::error(ExitCode::kUsage, "the key file " + printable(path) +
                                               " must hold exactly 64 hex digits (make one with: openssl rand -hex 32)");
  SecretKey result(key);
  OPENSSL_cleanse(key.data(), key.size());
  return result;
}

SecretKey derive_key(const SecretKey& master, std::span<const uint8_t> context) {
  KeyBytes out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), master.bytes().data(), int(kKeyBytes), context.data(), context.size(), out.data(), &len) ||
      len != kKeyBytes)
    throw std::runtime_error("HMAC-SHA256 failed");
  SecretKey key(out);
  OPENSSL_cleanse(out.data(), out.size());
  return key;
}

Tag gcm_seal(const SecretKey& key, const Nonce& nonce, std::span<const uint8_t> aad, std::span<uint8_t> data) {
  Ctx ctx = new_ctx();
  Tag tag{};
  int n = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce.data()) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), as_int(aad.size())) != 1) ||
      (!data.empty() && EVP_EncryptUpdate(ctx.get(), data.data(), &n, data.data(), as_int(data.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), data.data() + data.size(), &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kTagBytes), tag.data()) != 1)
    throw std::runtime_error("AES-256-GCM encryption failed");
  return tag;
}

bool gcm_open(const SecretKey& key, const Nonce& nonce, std::span<const uint8_t> aad, std::span<uint8_t> data,
              const Tag& tag) {
  Ctx ctx = new_ctx();
  Tag expected = tag;
  int n = 0;
  return EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce.data()) == 1 &&
         (aad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad.data(), as_int(aad.size())) == 1) &&
         (data.empty() || EVP_DecryptUpdate(ctx.get(), data.data(), &n, data.data(), as_int(data.size())) == 1) &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kTagBytes), expected.data()) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), data.data() + data.size(), &n) == 1;
}

}  // namespace mysqlclone
