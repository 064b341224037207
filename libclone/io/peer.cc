#include "libclone/io/peer.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>

#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/base/text.h"

namespace mysqlclone {
namespace {

using std::chrono::milliseconds;

constexpr size_t kHelloBytes = 8;
constexpr char kHello[] = "MCPEER02";  // 02: the receiver's keepalives
constexpr char kWantsTls[] = "MCPEER!T";
constexpr char kWantsPlain[] = "MCPEER!P";
constexpr uint32_t kKeepaliveFrame = 0;
constexpr uint32_t kEndFrame = 0xFFFFFFFF;
constexpr uint32_t kAbortFrame = 0xFFFFFFFE;
constexpr uint8_t kReceiverKeepalive = 0xFF;  // never an exit code
constexpr size_t kMaxMessage = 4096;
// The first byte of a TLS handshake record (a ClientHello).
constexpr uint8_t kTlsHandshake = 0x16;

std::span<const uint8_t> bytes_of(const char* text) { return {reinterpret_cast<const uint8_t*>(text), kHelloBytes}; }

std::array<uint8_t, 4> u32_le(uint32_t v) {
  return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}

// Exactly out.size() bytes; false when the peer closed the connection first.
Result<bool> read_full(Transport& t, std::span<uint8_t> out) {
  while (!out.empty()) {
    auto n = t.read_some(out);
    if (!n.is_ok()) return n.status();
    if (*n == 0) return false;
    out = out.subspan(*n);
  }
  return true;
}

bool is(const std::array<uint8_t, kHelloBytes>& got, const char* what) {
  return std::memcmp(got.data(), what, kHelloBytes) == 0;
}

// The sender's side of the hellos.
Status sender_hello(Transport& t) {
  if (Status s = t.write_all(bytes_of(kHello)); !s.is_ok()) return s;
  std::array<uint8_t, kHelloBytes> reply{};
  auto full = read_full(t, reply);
  if (!full.is_ok()) return full.status();
  if (!*full)
    return Status::error(ExitCode::kNetwork, t.peer() + " closed the connection before answering (is it a "
                                                        "mysqlclone receive, and does it trust this side's --peer-cert?)");
  if (is(reply, kWantsTls))
    return Status::error(ExitCode::kNetwork, "the receiver at " + t.peer() + " requires TLS, and this side runs "
                                             "with --peer-insecure: use --peer-insecure on both sides or neither");
  if (is(reply, kWantsPlain))
    return Status::error(ExitCode::kNetwork, "the receiver at " + t.peer() + " runs with --peer-insecure: use it "
                                             "on both sides or neither");
  if (!is(reply, kHello))
    return Status::error(ExitCode::kNetwork, t.peer() + " is not a mysqlclone receive of this version (it answered "
                                             "something else than " + std::string(kHello) + ")");
  return Status::ok();
}

// The receiver's side of the hellos.
Status receive_hello(Transport& t) {
  std::array<uint8_t, kHelloBytes> first{};
  auto full = read_full(t, first);
  if (!full.is_ok()) return full.status();
  if (!*full) return Status::error(ExitCode::kNetwork, t.peer() + " closed the connection before its hello");
  if (first[0] == kTlsHandshake) {
    if (t.write_all(bytes_of(kWantsPlain)).is_ok()) t.close();
    return Status::error(ExitCode::kNetwork, "the sender at " + t.peer() + " starts TLS, and this side runs with "
                                             "--peer-insecure: use --peer-insecure on both sides or neither");
  }
  if (!is(first, kHello))
    return Status::error(ExitCode::kNetwork, t.peer() + " is not a mysqlclone sender of this version (its first "
                                             "bytes are not " + std::string(kHello) + ")");
  return t.write_all(bytes_of(kHello));
}

// A TLS receiver answers a plain hello with what the sender understands instead of a TLS alert
// it cannot read.
Status refuse_plain_sender(const Socket& s, const std::string& peer, milliseconds timeout) {
  PlainTransport plain(Socket(::dup(s.fd())), peer, timeout);
  if (plain.write_all(bytes_of(kWantsTls)).is_ok()) plain.close();
  return Status::error(ExitCode::kNetwork, "the sender at " + peer + " runs with --peer-insecure, and this side "
                                           "requires TLS: use --peer-insecure on both sides or neither");
}

// How long a new connection may take for its first bytes, and then for its whole TLS handshake,
// before `receive` takes it for a stray and listens on: a sender speaks at once (its TLS
// ClientHello, or its hello with --peer-insecure) and answers at once.
constexpr milliseconds kStrayWait{10000};
// The most of a new connection's first bytes looked at before it is taken: a hello, or a TLS
// ClientHello (a few hundred bytes; a sender's is 273).
constexpr size_t kPeekBytes = 4096;
// What a sender's plain hello starts with, whatever its version (kHello without its "02").
constexpr std::string_view kHelloStem{kHello, kHelloBytes - 2};

// Whether a connection's first bytes say what it is: a first byte that is neither a hello's nor
// a TLS record's; the stem of a hello; a TLS record's first byte or, when `whole_tls_record`, the
// whole record (the ClientHello, up to kPeekBytes).
bool judgeable(const std::string& b, bool whole_tls_record) {
  if (b.empty()) return false;
  if (b[0] == kHelloStem[0]) return b.size() >= kHelloStem.size();
  if (uint8_t(b[0]) != kTlsHandshake || !whole_tls_record || b.size() == kPeekBytes) return true;
  return b.size() >= 5 && b.size() >= 5 + ((size_t(uint8_t(b[3])) << 8) | uint8_t(b[4]));
}

// The first bytes of a new connection, left on the socket: as many as judgeable() needs, within
// `wait`. None when the connection closed, broke, stayed silent or sent too little in that time
// (`stray` says which). kInterrupted on a signal.
Result<std::string> first_bytes(const Socket& s, const std::string& peer, milliseconds wait, bool whole_tls_record,
                                std::string& stray) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + wait;
  const std::string seconds = std::to_string(wait.count() / 1000) + " s";
  std::string got(kPeekBytes, '\0');
  size_t have = 0;
  while (true) {
    if (have == 0) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      const Status ready = wait_ready(s.fd(), POLLIN, std::max(left, milliseconds(1)), peer);
      if (ready.code() == ExitCode::kInterrupted) return ready;
      if (!ready.is_ok()) {
        stray = "it sent nothing for " + seconds;
        return std::string();
      }
    } else {
      // Part of a hello is in: the rest comes at once from a sender.
      if (interrupted()) return interrupted_status();
      if (Clock::now() >= deadline) {
        stray = "it sent " + std::to_string(have) + " bytes in " + seconds + ", less than a hello";
        return std::string();
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    const ssize_t n = ::recv(s.fd(), got.data(), got.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      stray = n == 0 ? "it closed the connection without a byte"
                     : "its connection broke: " + std::string(std::strerror(errno));
      return std::string();
    }
    if (n > 0) have = size_t(n);
    if (judgeable(got.substr(0, have), whole_tls_record)) return got.substr(0, have);
  }
}

// A new connection made the sender's: the handshake (TLS unless --peer-insecure) and the hellos.
// Null, with `stray` saying why, when the client is no mysqlclone sender at all: it closed, broke
// or stayed silent before its first bytes, or sent less than a hello; its first bytes are neither
// a sender's hello nor a TLS hello; or its TLS hello does not name kPeerAlpn (a sender's always
// does: a browser, a health check or a scanner speaking TLS, whatever it then does — no
// certificate, or an alert that it does not trust this side's; at a --peer-insecure receiver
// OpenSSL reads the name out of the ClientHello). A sender that fails (not trusted, --peer-insecure
// on one side only, a hello of another version) is an error. Until its TLS handshake is done (with
// --peer-insecure: its hello), a client has kStrayWait (or the --peer-timeout, if shorter) for its
// first bytes, then as long for its whole TLS handshake (with --peer-insecure: for each read of
// the rest of its hello, two bytes).
Result<std::unique_ptr<Transport>> take_sender(Socket socket, const std::string& peer, const PeerOptions& options,
                                               const TlsContext& tls, std::string& stray) {
  const milliseconds timeout = options.timeout;
  const milliseconds wait = std::min(timeout, kStrayWait);
  auto first = first_bytes(socket, peer, wait, options.insecure, stray);
  if (!first.is_ok()) return first.status();
  if (first->empty()) return std::unique_ptr<Transport>();
  const std::string& bytes = *first;
  const bool hello = bytes.starts_with(kHelloStem);
  const bool tls_hello = uint8_t(bytes[0]) == kTlsHandshake;
  if (!hello && !tls_hello) {
    stray = fmt::format("its first bytes (0x{:02x}...) are neither a sender's hello nor a TLS hello", uint8_t(bytes[0]));
    return std::unique_ptr<Transport>();
  }
  if (options.insecure) {
    // A sender speaking TLS to this plain receiver is told so (receive_hello); other TLS clients are strays.
    if (tls_hello && !client_hello_names_peer_alpn({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()})) {
      stray = "a TLS client whose hello does not name " + std::string(kPeerAlpn) + " (no mysqlclone sender)";
      return std::unique_ptr<Transport>();
    }
    auto plain = std::make_unique<PlainTransport>(std::move(socket), peer, wait);
    if (Status s = receive_hello(*plain); !s.is_ok()) return s;
    plain->set_timeout(timeout);
    return std::unique_ptr<Transport>(std::move(plain));
  }
  if (hello) return refuse_plain_sender(socket, peer, timeout);
  bool stranger = false;
  auto t = tls_accept(tls, std::move(socket), peer, wait, timeout, stranger);
  if (!t.is_ok() && stranger) {
    stray = "a TLS client whose hello does not name " + std::string(kPeerAlpn) + " (no mysqlclone sender): " +
            t.status().message();
    return std::unique_ptr<Transport>();
  }
  if (!t.is_ok()) return t.status();
  if (Status s = receive_hello(**t); !s.is_ok()) return s;
  return t;
}

// A u16 length and the text (cut to kMaxMessage).
void append_message(std::string& out, const std::string& text) {
  const std::string message = text.substr(0, kMaxMessage);
  out += char(uint8_t(message.size()));
  out += char(uint8_t(message.size() >> 8));
  out += message;
}

// The TLS context of this side, or none with --peer-insecure.
Result<TlsContext> peer_tls(TlsRole role, const PeerOptions& options) {
  if (options.insecure) return TlsContext();
  return make_tls_context(role, options.tls);
}

}  // namespace

PeerSink::PeerSink(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)), name_(transport_->peer()), last_send_(std::chrono::steady_clock::now()) {
  keepalive_ = std::thread([this] { keepalive(); });
}

PeerSink::~PeerSink() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  keepalive_.join();
}

Status PeerSink::send_locked(std::span<const uint8_t> bytes) {
  if (!failed_.is_ok()) return failed_;
  // The receiver speaks mid-stream to say it is busy (keepalives) or that it failed (or its
  // connection ends): that, not the broken pipe the next write would meet, is the error.
  std::optional<uint8_t> first;
  auto spoke = receiver_spoke(first);
  if (!spoke.is_ok()) return failed_ = spoke.status();
  if (*spoke) return failed_ = outcome(false, first, !first);
  failed_ = transport_->write_all(bytes);
  last_send_ = std::chrono::steady_clock::now();
  return failed_;
}

Result<bool> PeerSink::receiver_spoke(std::optional<uint8_t>& first) {
  while (transport_->has_input()) {
    uint8_t byte = 0;
    auto n = transport_->read_some({&byte, 1});
    if (!n.is_ok()) return n.status();
    if (*n == 0) return true;
    if (byte != kReceiverKeepalive) {
      first = byte;
      return true;
    }
  }
  return false;
}

Status PeerSink::write(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  while (!bytes.empty()) {
    const size_t n = std::min(bytes.size(), kMaxFrame);
    if (Status s = send_locked(u32_le(uint32_t(n))); !s.is_ok()) return s;
    if (Status s = send_locked(bytes.first(n)); !s.is_ok()) return s;
    bytes = bytes.subspan(n);
  }
  return Status::ok();
}

void PeerSink::keepalive() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    if (!stopping_ && failed_.is_ok() && std::chrono::steady_clock::now() - last_send_ >= kKeepalive)
      (void)send_locked(u32_le(kKeepaliveFrame));  // a failure is kept for the next write
  }
}

Status PeerSink::finish() {
  std::unique_lock lock(mutex_);
  stopping_ = true;  // the keepalive thread ends; the receiver is busy with DIR's last steps now
  cv_.notify_all();
  if (Status s = send_locked(u32_le(kEndFrame)); !s.is_ok()) return s;
  return outcome(true);
}

void PeerSink::abort(const Status& error) {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  cv_.notify_all();
  std::optional<uint8_t> first;
  auto spoke = receiver_spoke(first);
  if (!failed_.is_ok() || !spoke.is_ok() || *spoke) return;  // the receiver is gone or spoke first
  std::string out;
  for (const uint8_t b : u32_le(kAbortFrame)) out += char(b);
  append_message(out, error.message());
  if (transport_->write_all({reinterpret_cast<const uint8_t*>(out.data()), out.size()}).is_ok()) transport_->close();
  failed_ = error;
}

Status PeerSink::outcome(bool at_end, std::optional<uint8_t> first, bool closed) {
  const std::string gone = at_end ? "closed the connection before saying whether it wrote the copy: it failed or was killed"
                                  : "closed the connection in the middle of the stream: it failed or was killed";
  std::array<uint8_t, 3> head{};
  Result<bool> full = !closed;  // read again after the end, TLS would fail with no reason
  // The exit code, after the keepalives of a receiver still busy (each wait for one is bounded).
  if (first) head[0] = *first;
  else if (!closed) full = read_full(*transport_, std::span(head).first(1));
  while (full.is_ok() && *full && head[0] == kReceiverKeepalive) full = read_full(*transport_, std::span(head).first(1));
  if (full.is_ok() && *full) full = read_full(*transport_, std::span(head).subspan(1));
  if (full.is_ok() && *full) {
    std::string message(size_t(head[1]) | size_t(head[2]) << 8, '\0');
    auto text = read_full(*transport_, {reinterpret_cast<uint8_t*>(message.data()), message.size()});
    if (text.is_ok() && *text) {
      transport_->close();
      if (head[0] == 0 && at_end) return Status::ok();
      return Status::error(ExitCode::kNetwork, "the receiver at " + name_ + " failed: " + printable(message));
    }
    full = text;
  }
  if (!full.is_ok()) return full.status();
  return Status::error(ExitCode::kNetwork, "the receiver at " + name_ + " " + gone);
}

Result<std::unique_ptr<PeerSink>> peer_connect(const std::string& address, const PeerOptions& options) {
  auto to = parse_endpoint(address, "--to");
  if (!to.is_ok()) return to.status();
  auto tls = peer_tls(TlsRole::kClient, options);
  if (!tls.is_ok()) return tls.status();
  const milliseconds timeout = options.timeout;
  auto socket = tcp_connect(*to, timeout);
  if (!socket.is_ok()) return socket.status();
  std::unique_ptr<Transport> transport;
  if (options.insecure) {
    transport = std::make_unique<PlainTransport>(std::move(socket).value(), to->text(), timeout);
  } else {
    auto t = tls_connect(*tls, std::move(socket).value(), to->host, to->text(), timeout);
    if (!t.is_ok()) return t.status();
    transport = std::move(t).value();
  }
  if (Status s = sender_hello(*transport); !s.is_ok()) return s;
  log_info("connected to the receiver at {} ({})", to->text(), transport->protocol());
  return std::make_unique<PeerSink>(std::move(transport));
}

PeerSource::PeerSource(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {
  keepalive_ = std::thread([this] { keepalive(); });
}

PeerSource::~PeerSource() { stop_keepalive(); }

void PeerSource::stop_keepalive() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (keepalive_.joinable()) keepalive_.join();
}

// While this side is busy between reads (syncing DIR's files, finishing it), the sender may wait
// for it longer than its --peer-timeout: a byte every kKeepalive tells it this side lives. (The
// sender sees none of our reads, so they do not count.) A read under way means the sender is the
// one to speak: nothing is sent then.
void PeerSource::keepalive() {
  std::unique_lock lock(mutex_);
  auto last = std::chrono::steady_clock::now();
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    const auto now = std::chrono::steady_clock::now();
    if (stopping_ || now - last < kKeepalive) continue;
    std::unique_lock io(io_, std::try_to_lock);
    if (!io.owns_lock()) continue;
    // A failure is the connection's end, which the next read reports.
    if (!transport_->write_all({&kReceiverKeepalive, 1}).is_ok()) return;
    last = now;
  }
}

Result<size_t> PeerSource::read(std::span<uint8_t> out) {
  // Asked at every read, as a pipe's reader does: a sender faster than this side's disk keeps
  // bytes waiting, so no read ever waits (where the transport looks at signals).
  if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal; the target is incomplete");
  std::lock_guard io(io_);
  while (frame_left_ == 0) {
    if (ended_ || out.empty()) return size_t(0);
    std::array<uint8_t, 4> head{};
    auto full = read_full(*transport_, head);
    if (!full.is_ok()) return full.status();
    if (!*full)
      return Status::error(ExitCode::kNetwork, "the sender at " + transport_->peer() + " closed the connection "
                                               "before the end of the stream: it failed or was killed");
    const uint32_t length = uint32_t(head[0]) | uint32_t(head[1]) << 8 | uint32_t(head[2]) << 16 | uint32_t(head[3]) << 24;
    if (length == kEndFrame) {
      ended_ = true;
    } else if (length == kAbortFrame) {
      return sender_failed();
    } else if (length > kMaxFrame) {
      return Status::error(ExitCode::kNetwork, "the sender at " + transport_->peer() + " broke the peer protocol (a "
                                               "frame of " + std::to_string(length) + " bytes)");
    } else {
      frame_left_ = length;  // 0: a keepalive
    }
  }
  auto n = transport_->read_some(out.first(std::min<size_t>(out.size(), frame_left_)));
  if (!n.is_ok()) return n.status();
  if (*n == 0)
    return Status::error(ExitCode::kNetwork, "the sender at " + transport_->peer() + " closed the connection "
                                             "before the end of the stream: it failed or was killed");
  frame_left_ -= uint32_t(*n);
  return *n;
}

Status PeerSource::sender_failed() {
  std::array<uint8_t, 2> size{};
  auto full = read_full(*transport_, size);
  std::string message(size_t(size[0]) | size_t(size[1]) << 8, '\0');
  if (full.is_ok() && *full) full = read_full(*transport_, {reinterpret_cast<uint8_t*>(message.data()), message.size()});
  if (!full.is_ok() || !*full) message = "(its message was cut)";
  return Status::error(ExitCode::kNetwork, "the sender at " + transport_->peer() + " failed: " + printable(message));
}

void PeerSource::finish(const Status& outcome) {
  stop_keepalive();  // nothing of it may follow, or cut into, the outcome
  std::string out(1, char(uint8_t(outcome.code())));
  append_message(out, outcome.message());
  (void)transport_->write_all({reinterpret_cast<const uint8_t*>(out.data()), out.size()});
  transport_->close();
}

Result<std::unique_ptr<PeerListener>> PeerListener::listen(const std::string& address, const PeerOptions& options) {
  auto at = parse_endpoint(address, "--listen");
  if (!at.is_ok()) return at.status();
  auto tls = peer_tls(TlsRole::kServer, options);
  if (!tls.is_ok()) return tls.status();
  auto listening = tcp_listen(*at);
  if (!listening.is_ok()) return listening.status();
  return std::unique_ptr<PeerListener>(new PeerListener(std::move(listening).value(), options, std::move(tls).value()));
}

Result<std::unique_ptr<PeerSource>> PeerListener::accept() {
  while (true) {
    std::string peer;
    auto socket = tcp_accept(listening_, peer);
    if (!socket.is_ok()) return socket.status();
    std::string stray;
    auto transport = take_sender(std::move(socket).value(), peer, options_, tls_, stray);
    if (!transport.is_ok()) return transport.status();
    if (!*transport) {
      log_warning("ignored a connection from {}: {}; still listening", peer, stray);
      continue;
    }
    listening_.clear();  // the one sender is here: nobody else connects
    log_info("receiving from {} ({})", peer, (*transport)->protocol());
    return std::make_unique<PeerSource>(std::move(transport).value());
  }
}

}  // namespace mysqlclone
