// TLS for the peer commands, through OpenSSL: TLS 1.2 or newer, the peer's certificate always
// verified against the CA file (both sides: mutual TLS), and on the connecting side the
// receiver's name or IP address checked against its certificate by OpenSSL's own host/IP
// matching (X509_VERIFY_PARAM). TLS 1.2 offers only forward-secret AEAD suites (ECDHE with
// AES-GCM or ChaCha20-Poly1305); TLS 1.3 keeps OpenSSL's suites; security level 2 (RSA and DH
// keys of 2048 bits or more, no SHA-1 signatures).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "libclone/base/status.h"
#include "libclone/io/socket.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace mysqlclone {

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
// The server's side. When it fails, `stranger` tells whether the client never showed itself a
// peer: it presented no certificate and sent no alert (it went silent, closed, or spoke TLS badly).
// A sender always presents one, and one that does not trust this side says so in an alert.
Result<std::unique_ptr<Transport>> tls_accept(const TlsContext& ctx, Socket socket, const std::string& peer,
                                              std::chrono::milliseconds timeout, bool& stranger);

}  // namespace mysqlclone
