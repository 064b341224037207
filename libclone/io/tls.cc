#include "libclone/io/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

namespace mysqlclone {
namespace {

using std::chrono::milliseconds;

// TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3 has nothing else).
constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";

// The last error OpenSSL queued (the most specific), and the queue emptied.
unsigned long last_error() {
  unsigned long last = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) last = e;
  return last;
}

std::string reason_text(unsigned long e) {
  const char* r = e ? ERR_reason_error_string(e) : nullptr;
  return r ? r : "unknown TLS error";
}

Status file_error(const std::string& what, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0)
    return Status::error(ExitCode::kPath, "cannot read " + what + " " + path + ": " + std::strerror(errno));
  return Status::error(ExitCode::kPath, "cannot use " + what + " " + path + ": " + reason_text(last_error()));
}

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// Why a TLS call failed, in the user's terms. `ssl_error` is SSL_get_error's answer.
Status tls_failure(SSL* ssl, int ssl_error, int saved_errno, const std::string& peer, bool handshake) {
  const unsigned long e = last_error();
  const int reason = ERR_GET_REASON(e);
  const long verify = SSL_get_verify_result(ssl);
  const std::string during = handshake ? "the TLS handshake with " : "the TLS session with ";
  if (verify != X509_V_OK)
    return Status::error(ExitCode::kNetwork, "the certificate of " + peer + " is not trusted: " +
                                                 X509_verify_cert_error_string(verify) + " (--peer-ca, and the " +
                                                 "name or address it is reached by)");
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
    return Status::error(ExitCode::kNetwork, peer + " refused " + during + "this side: " + reason_text(e) +
                                                 " (does it trust this side's --peer-cert?)");
  if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_HTTP_REQUEST)
    return Status::error(ExitCode::kNetwork, peer + " does not speak TLS (does it run with --peer-insecure? both "
                                                 "sides must, or neither)");
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
    return Status::error(ExitCode::kNetwork, peer + " sent no certificate: give it --peer-cert and --peer-key");
  if (ssl_error == SSL_ERROR_SYSCALL && saved_errno != 0)
    return handshake ? Status::error(ExitCode::kNetwork, during + peer + " failed: " + std::strerror(saved_errno))
                     : broken(peer, saved_errno);
  if (handshake && (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING || (ssl_error == SSL_ERROR_SYSCALL && e == 0)))
    return Status::error(ExitCode::kNetwork, peer + " closed the connection during the TLS handshake (does it run "
                                                 "with --peer-insecure, or refuse this side's certificate?)");
  return Status::error(ExitCode::kNetwork, during + peer + " failed: " + reason_text(e));
}

class TlsTransport : public Transport {
 public:
  using Clock = std::chrono::steady_clock;

  TlsTransport(Socket socket, std::unique_ptr<SSL, SslFree> ssl, std::string peer, milliseconds timeout)
      : socket_(std::move(socket)), ssl_(std::move(ssl)), peer_(std::move(peer)), timeout_(timeout) {}

  // Runs `op` (SSL_read, SSL_write, SSL_do_handshake) until it succeeds, waiting for the socket
  // as OpenSSL asks, each wait up to timeout_ and all of them until `deadline`. Returns op's
  // positive result, 0 for a clean or abrupt end of the peer's data.
  template <typename Op>
  Result<int> drive(Op op, bool handshake, Clock::time_point deadline = Clock::time_point::max()) {
    while (true) {
      ERR_clear_error();
      errno = 0;
      const int n = op();
      if (n > 0) return n;
      const int err = SSL_get_error(ssl_.get(), n);
      const int saved_errno = errno;
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        // The deadline's end (wait_ready may give up a fraction of a millisecond early) is the
        // handshake's timeout, not a silence of timeout_.
        const auto past_deadline = [&] { return Clock::now() + milliseconds(2) >= deadline; };
        const auto took_too_long = [&] {
          return Status::error(ExitCode::kNetwork, "the TLS handshake with " + peer_ + " took more than " +
                                                       std::to_string(timeout_.count() / 1000) + " s");
        };
        if (past_deadline()) return took_too_long();
        const auto left = deadline - Clock::now();
        const milliseconds wait = left < timeout_ ? std::chrono::ceil<milliseconds>(left) : timeout_;
        Status s = wait_ready(socket_.fd(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, wait, peer_);
        if (!s.is_ok() && s.code() == ExitCode::kNetwork && past_deadline()) return took_too_long();
        if (!s.is_ok()) return s;
        continue;
      }
      if (!handshake && err == SSL_ERROR_ZERO_RETURN) return 0;
      if (!handshake && err == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        last_error();
        return 0;  // the peer went away without close_notify: the peer protocol says whether that was early
      }
      return tls_failure(ssl_.get(), err, saved_errno, peer_, handshake);
    }
  }

  // The whole handshake has timeout_, not each step of it: a client that sends a byte now and
  // then cannot hold a receiver longer.
  Status handshake() {
    auto r = drive([&] { return SSL_do_handshake(ssl_.get()); }, true, Clock::now() + timeout_);
    return r.status();
  }

  void set_timeout(milliseconds timeout) { timeout_ = timeout; }

  // The server's side: whether the client's hello named kPeerAlpn (set by select_peer_alpn).
  bool client_named_peer_alpn = false;

  Result<size_t> read_some(std::span<uint8_t> out) override {
    auto n = drive([&] { return SSL_read(ssl_.get(), out.data(), int(std::min<size_t>(out.size(), INT_MAX))); }, false);
    if (!n.is_ok()) return n.status();
    return size_t(*n);
  }

  Status write_all(std::span<const uint8_t> bytes) override {
    while (!bytes.empty()) {
      const int chunk = int(std::min<size_t>(bytes.size(), 1 << 20));
      auto n = drive([&] { return SSL_write(ssl_.get(), bytes.data(), chunk); }, false);
      if (!n.is_ok()) return n.status();
      if (*n == 0) return Status::error(ExitCode::kNetwork, peer_ + " closed the connection");
      bytes = bytes.subspan(size_t(*n));
    }
    return Status::ok();
  }

  // Bytes OpenSSL holds already, or on the socket.
  bool has_input() const override { return SSL_pending(ssl_.get()) > 0 || readable(socket_.fd()); }

  void close() override {
    ERR_clear_error();
    if (SSL_is_init_finished(ssl_.get())) SSL_shutdown(ssl_.get());  // close_notify; its answer is not awaited
    ERR_clear_error();
    lingering_close(socket_.fd());
  }

  const std::string& peer() const override { return peer_; }
  std::string protocol() const override {
    return std::string(SSL_get_version(ssl_.get())) + " " + SSL_get_cipher_name(ssl_.get());
  }

 private:
  Socket socket_;
  std::unique_ptr<SSL, SslFree> ssl_;
  std::string peer_;
  milliseconds timeout_;
};

// kPeerAlpn in the wire format of an ALPN list: a length byte, then the name.
std::string peer_alpn_wire() { return std::string(1, char(sizeof kPeerAlpn - 1)) + kPeerAlpn; }

// kPeerAlpn's entry (its length byte) in an ALPN protocol list (entries of a length byte and a
// name), or null.
const unsigned char* find_peer_alpn(const unsigned char* list, size_t size) {
  const size_t name = sizeof kPeerAlpn - 1;
  for (size_t at = 0; at < size && at + 1 + list[at] <= size; at += 1 + size_t(list[at]))
    if (list[at] == name && std::memcmp(list + at + 1, kPeerAlpn, name) == 0) return list + at;
  return nullptr;
}

// The server's ALPN choice: kPeerAlpn when the client offers it (noted on its transport, the
// SSL's app data), else none (the handshake goes on: its certificate decides).
int select_peer_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                     unsigned int inlen, void*) {
  const unsigned char* entry = find_peer_alpn(in, inlen);
  if (!entry) return SSL_TLSEXT_ERR_NOACK;
  *out = entry + 1;
  *outlen = entry[0];
  if (auto* t = static_cast<TlsTransport*>(SSL_get_app_data(ssl))) t->client_named_peer_alpn = true;
  return SSL_TLSEXT_ERR_OK;
}

// client_hello_names_peer_alpn's look at the ClientHello, which it then stops (`named`: a bool).
int inspect_client_hello(SSL* ssl, int* alert, void* named) {
  const unsigned char* ext = nullptr;
  size_t size = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext, &size) == 1 &&
      size >= 2) {
    const size_t list = (size_t(ext[0]) << 8) | ext[1];
    if (list <= size - 2 && find_peer_alpn(ext + 2, list)) *static_cast<bool*>(named) = true;
  }
  *alert = SSL_AD_HANDSHAKE_FAILURE;
  return SSL_CLIENT_HELLO_ERROR;
}

// `stranger` (the server's side only; may be null): see tls_accept.
Result<std::unique_ptr<Transport>> handshake(const TlsContext& ctx, Socket socket, const std::string& host,
                                             const std::string& peer, milliseconds timeout, TlsRole role,
                                             bool* stranger) {
  ERR_clear_error();
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), socket.fd()) != 1)
    return Status::error(ExitCode::kInternal, "cannot set up TLS: " + reason_text(last_error()));
  if (role == TlsRole::kClient) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    // An IP address is checked against the certificate's IP SANs, a name against its DNS SANs.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      ERR_clear_error();
      if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1 ||
          SSL_set_tlsext_host_name(ssl.get(), host.c_str()) != 1)
        return Status::error(ExitCode::kUsage, "cannot check the receiver's certificate against '" + host + "'");
    }
    SSL_set_connect_state(ssl.get());
  } else {
    SSL_set_accept_state(ssl.get());
  }
  SSL* raw = ssl.get();
  auto t = std::make_unique<TlsTransport>(std::move(socket), std::move(ssl), peer, timeout);
  SSL_set_app_data(raw, t.get());
  if (Status s = t->handshake(); !s.is_ok()) {
    if (stranger) *stranger = s.code() != ExitCode::kInterrupted && !t->client_named_peer_alpn;
    t->close();  // the alert that says why reaches the peer
    return s;
  }
  return std::unique_ptr<Transport>(std::move(t));
}

}  // namespace

void SslCtxFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

bool client_hello_names_peer_alpn(std::span<const uint8_t> hello) {
  bool named = false;
  TlsContext ctx(SSL_CTX_new(TLS_server_method()));
  if (ctx) SSL_CTX_set_client_hello_cb(ctx.get(), inspect_client_hello, &named);
  std::unique_ptr<SSL, SslFree> ssl(ctx ? SSL_new(ctx.get()) : nullptr);
  BIO* in = ssl ? BIO_new_mem_buf(hello.data(), int(hello.size())) : nullptr;
  BIO* out = in ? BIO_new(BIO_s_mem()) : nullptr;
  if (out) {
    SSL_set_bio(ssl.get(), in, out);  // the SSL owns both from here
    SSL_set_accept_state(ssl.get());
    (void)SSL_do_handshake(ssl.get());  // parses the ClientHello, if whole, and stops there
  } else {
    BIO_free(in);
  }
  ERR_clear_error();
  return named;
}

Result<TlsContext> make_tls_context(TlsRole role, const TlsFiles& files) {
  ERR_clear_error();
  TlsContext ctx(SSL_CTX_new(role == TlsRole::kClient ? TLS_client_method() : TLS_server_method()));
  if (!ctx) return Status::error(ExitCode::kInternal, "cannot set up TLS: " + reason_text(last_error()));
  SSL_CTX_set_security_level(ctx.get(), 2);
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1)
    return Status::error(ExitCode::kInternal, "cannot set up TLS: " + reason_text(last_error()));
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1)
    return file_error("the certificate (--peer-cert)", files.cert);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1)
    return file_error("the private key (--peer-key)", files.key);
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return Status::error(ExitCode::kPath, "the private key " + files.key + " (--peer-key) does not belong to the "
                                          "certificate " + files.cert + " (--peer-cert)");
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
    return file_error("the CA file (--peer-ca)", files.ca);
  SSL_CTX_set_verify(ctx.get(),
                     role == TlsRole::kServer ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
                     nullptr);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_AUTO_RETRY);
  if (role == TlsRole::kClient) {
    const std::string wire = peer_alpn_wire();
    if (SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                                unsigned(wire.size())) != 0)
      return Status::error(ExitCode::kInternal, "cannot set up TLS: " + reason_text(last_error()));
  } else {
    SSL_CTX_set_alpn_select_cb(ctx.get(), select_peer_alpn, nullptr);
  }
  // One connection per run, never resumed: no session tickets, which would also be bytes the
  // sender finds waiting on its socket (has_input) that are not the receiver speaking.
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return ctx;
}

Result<std::unique_ptr<Transport>> tls_connect(const TlsContext& ctx, Socket socket, const std::string& host,
                                               const std::string& peer, milliseconds timeout) {
  return handshake(ctx, std::move(socket), host, peer, timeout, TlsRole::kClient, nullptr);
}

Result<std::unique_ptr<Transport>> tls_accept(const TlsContext& ctx, Socket socket, const std::string& peer,
                                              milliseconds handshake_timeout, milliseconds timeout, bool& stranger) {
  stranger = false;
  auto t = handshake(ctx, std::move(socket), "", peer, handshake_timeout, TlsRole::kServer, &stranger);
  if (t.is_ok()) static_cast<TlsTransport&>(**t).set_timeout(timeout);
  return t;
}

}  // namespace mysqlclone
