// TCP for the peer commands (`local --to`, `receive`): addresses, connect with a deadline,
// listen and accept one connection, and a Transport — bytes in and out of a connection with a
// silence timeout — over plain TCP (tls.h adds TLS). Every socket is non-blocking and every wait
// is a poll() in short slices, so a silent peer times out and SIGINT/SIGTERM end any wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "libclone/base/status.h"

namespace mysqlclone {

// "HOST:PORT", "[IPv6]:PORT".
struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string text() const;
};
// kUsage naming `option` when `text` is no HOST:PORT.
Result<Endpoint> parse_endpoint(const std::string& text, const std::string& option);

// An owned descriptor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket();
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  int fd() const { return fd_; }
  int release();

 private:
  int fd_ = -1;
};

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT). kNetwork naming `peer` after
// `timeout` without it, kInterrupted on a signal.
Status wait_ready(int fd, short events, std::chrono::milliseconds timeout, const std::string& peer);

// kNetwork: the connection to `peer` broke with errno `err` (reset, broken pipe).
Status broken(const std::string& peer, int err);

// Whether a read of `fd` would not block (bytes, the end, an error are waiting).
bool readable(int fd);

// Ends our side of the connection (FIN) and reads what the peer still sends until it closes
// too, for at most 2 s: closing with unread bytes would send a reset, which makes the peer's
// kernel drop what we sent last (a TLS alert, a refusal, an outcome) before it reads it.
void lingering_close(int fd);

// Connects to the first address of `to` that answers within `timeout` (each).
Result<Socket> tcp_connect(const Endpoint& to, std::chrono::milliseconds timeout);
// Listens on every address `at` names ("localhost": ::1 and 127.0.0.1), all on one port (port
// 0: one the kernel picks; bound_port() tells). An address of a family this host does not have
// is left out with a warning; kNetwork when none, or any other, cannot be bound.
Result<std::vector<Socket>> tcp_listen(const Endpoint& at);
uint16_t bound_port(const Socket& listener);
// Waits (without limit, until a signal) for one connection on any of `listening`; `peer` gets
// its address.
Result<Socket> tcp_accept(const std::vector<Socket>& listening, std::string& peer);

// Bytes over one connection. Not thread-safe: the caller serialises.
class Transport {
 public:
  virtual ~Transport() = default;
  // Up to out.size() bytes, at least one; 0: the peer closed the connection. kNetwork after
  // the timeout with nothing to read.
  virtual Result<size_t> read_some(std::span<uint8_t> out) = 0;
  virtual Status write_all(std::span<const uint8_t> bytes) = 0;
  // Whether read_some() would return at once (bytes, the end, an error): the peer spoke.
  virtual bool has_input() const = 0;
  // An orderly close (TLS: close_notify; then lingering_close); best effort.
  virtual void close() = 0;
  // The peer's address, for messages.
  virtual const std::string& peer() const = 0;
  // "plain TCP", "TLSv1.3 TLS_AES_256_GCM_SHA384": for the log.
  virtual std::string protocol() const = 0;
};

class PlainTransport : public Transport {
 public:
  PlainTransport(Socket socket, std::string peer, std::chrono::milliseconds timeout)
      : socket_(std::move(socket)), peer_(std::move(peer)), timeout_(timeout) {}
  Result<size_t> read_some(std::span<uint8_t> out) override;
  Status write_all(std::span<const uint8_t> bytes) override;
  bool has_input() const override { return readable(socket_.fd()); }
  void close() override;
  const std::string& peer() const override { return peer_; }
  std::string protocol() const override { return "plain TCP"; }
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  Socket socket_;
  std::string peer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace mysqlclone
