// TLS for the peer commands, through OpenSSL: TLS 1.2 or newer, the peer's certificate always
// verified against the CA file (both sides: mutual TLS), and on the connecting side the
// receiver's name or IP address checked against its certificate by OpenSSL's own host/IP
// matching (X509_VERIFY_PARAM). TLS 1.2 offers only forward-secret AEAD suites (ECDHE with
// AES-GCM or ChaCha20-Poly1305); TLS 1.3 keeps OpenSSL's suites; security level 2 (RSA and DH
// keys of 2048 bits or more, no SHA-1 signatures).
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "libclone/base/status.h"
#include "libclone/io/socket.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace mysqlclone {

// The protocol a sender names in its TLS hello (ALPN): how a receiver tells a mysqlclone sender
// from any other TLS client (a browser, a health check, a scanner) before, or without, a
// certificate. In clear text in the ClientHello.
inline constexpr char kPeerAlpn[] = "mysqlclone-peer";

struct TlsFiles {
  std::string cert;  // this side's certificate (PEM; a chain may follow it)
  std::string key;   // its private key (PEM)
  std::string ca;    // the CA(s) the peer's certificate must chain to (PEM)
};

enum class TlsRole { kClient, kServer };

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const;
};
using TlsContext = std::unique_ptr<SSL_CTX, SslCtxFree>;

// The files loaded and checked (the key matches the certificate): kPath naming the file.
Result<TlsContext> make_tls_context(TlsRole role, const TlsFiles& files);

// The handshake over a connected socket, bounded by `timeout` of silence. The client verifies the
// server against `host` (a DNS name or an IP address). kNetwork with the reason: a certificate not
// trusted (by this side, or the peer's alert that it did not trust ours), no TLS on the other end.
Result<std::unique_ptr<Transport>> tls_connect(const TlsContext& ctx, Socket socket, const std::string& host,
                                               const std::string& peer, std::chrono::milliseconds timeout);
// Whether `hello` (a connection's first bytes, read ahead and left on it) holds a whole TLS
// ClientHello whose ALPN names kPeerAlpn (parsed by OpenSSL): how a --peer-insecure receiver
// tells a sender that speaks TLS (told so, and refused) from any other TLS client (a stray).
bool client_hello_names_peer_alpn(std::span<const uint8_t> hello);

// The server's side: the handshake bounded by `handshake_timeout` of silence, the session after
// it by `timeout`. When it fails, `stranger` tells whether the client never named kPeerAlpn in its
// hello (or sent none): not a mysqlclone sender, whatever the failure.
Result<std::unique_ptr<Transport>> tls_accept(const TlsContext& ctx, Socket socket, const std::string& peer,
                                              std::chrono::milliseconds handshake_timeout,
                                              std::chrono::milliseconds timeout, bool& stranger);

}  // namespace mysqlclone
