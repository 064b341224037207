// The peer connection of `local --to` (the sender) and `receive` (the receiver): one stream
// (stream_format.h) over TLS (tls.h; plain TCP only with --peer-insecure on both sides; the
// sender's TLS hello names the protocol kPeerAlpn), with a thin protocol of its own around the
// stream's bytes:
//
//   sender → receiver   hello "MCPEER02" (01: before the receiver's keepalives)
//   receiver → sender   hello "MCPEER02"; or, before closing, "MCPEER!T" (this receiver needs
//                       TLS) or "MCPEER!P" (this receiver runs with --peer-insecure)
//   sender → receiver   frames: a u32 (little-endian) length and that many stream bytes, at most
//                       kMaxFrame; length 0 is a keepalive (sent after kKeepalive without data:
//                       a copy waiting for a lock is silent, not dead); 0xFFFFFFFF ends the stream;
//                       0xFFFFFFFE, u16 length, message: the sender failed (why)
//   receiver → sender   the outcome: u8 exit code, u16 length, message (code 0: DIR is complete);
//                       before it (and mid-stream), any number of bytes 0xFF, keepalives: one
//                       every kKeepalive while no read is under way (a receiver syncing thousands
//                       of files, or finishing DIR, is busy, not dead)
//
// So a connection that closes before its end frame is a network error on the receiver (exit
// 10), whatever the stream's own checks would say, and the sender reports success only once the
// receiver has written DIR whole.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "libclone/base/status.h"
#include "libclone/io/byte_stream.h"
#include "libclone/io/socket.h"
#include "libclone/io/tls.h"

namespace mysqlclone {

constexpr size_t kMaxFrame = size_t(1) << 20;
constexpr std::chrono::seconds kKeepalive{5};

struct PeerOptions {
  TlsFiles tls;          // all three, unless insecure
  bool insecure = false;  // plain TCP
  // Connecting, the handshake, and any wait for the peer to send or take a byte.
  std::chrono::seconds timeout{60};
};

// The sender's end: stream bytes out, then the receiver's outcome. Thread-safe.
class PeerSink : public ByteSink {
 public:
  explicit PeerSink(std::unique_ptr<Transport> transport);
  ~PeerSink() override;
  Status write(std::span<const uint8_t> bytes) override;
  Status sync() override { return Status::ok(); }
  // The end frame, then the receiver's outcome: ok once DIR is complete there.
  Status finish() override;
  // Tells the receiver why this side stops (best effort) and closes the connection.
  void abort(const Status& error);
  const std::string& name() const override { return name_; }

 private:
  Status send_locked(std::span<const uint8_t> bytes);
  // Takes the receiver's keepalives waiting. True when it said more: its outcome begins (`first`
  // holds the byte read of it) or its connection ended (`first` empty).
  Result<bool> receiver_spoke(std::optional<uint8_t>& first);
  // The receiver's outcome: at the end, ok or its error; mid-stream, always an error. `first`:
  // its first byte, read already; `closed`: the connection's end was read already.
  Status outcome(bool at_end, std::optional<uint8_t> first = std::nullopt, bool closed = false);
  void keepalive();

  std::unique_ptr<Transport> transport_;
  std::string name_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Status failed_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point last_send_;
  std::thread keepalive_;
};

// Connects to `address` (HOST:PORT), verifies the receiver (TLS) and exchanges hellos.
Result<std::unique_ptr<PeerSink>> peer_connect(const std::string& address, const PeerOptions& options);

// The receiver's end: stream bytes in (read() returns 0 after the end frame only).
class PeerSource : public ByteSource {
 public:
  explicit PeerSource(std::unique_ptr<Transport> transport);
  ~PeerSource() override;
  Result<size_t> read(std::span<uint8_t> out) override;
  std::optional<uint64_t> size() const override { return std::nullopt; }
  const std::string& name() const override { return transport_->peer(); }
  const Transport& transport() const { return *transport_; }
  // Tells the sender how the receive ended (best effort) and closes the connection.
  void finish(const Status& outcome);

 private:
  Status sender_failed();  // after an abort frame: its message
  void keepalive();
  void stop_keepalive();

  std::unique_ptr<Transport> transport_;
  uint32_t frame_left_ = 0;
  bool ended_ = false;
  std::mutex io_;  // the transport: a read, or a keepalive
  std::mutex mutex_;  // stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread keepalive_;
};

// `receive`: listens on the addresses of one name and takes one sender's connection.
class PeerListener {
 public:
  // Loads the TLS files first: a bad file fails before anything listens.
  static Result<std::unique_ptr<PeerListener>> listen(const std::string& address, const PeerOptions& options);
  uint16_t port() const { return port_; }
  // Waits for the one sender (until a signal): the handshake and hellos of each connection in
  // turn. One that is no mysqlclone sender at all (a port scanner, a health check, a TLS client
  // whose hello does not name kPeerAlpn: see take_sender in peer.cc) is logged and closed, and
  // the wait goes on; a sender that fails the handshake is an error. Once the sender is in, the
  // listening socket is closed: nobody else connects.
  Result<std::unique_ptr<PeerSource>> accept();

 private:
  PeerListener(std::vector<Socket> listening, PeerOptions options, TlsContext tls)
      : listening_(std::move(listening)),
        port_(bound_port(listening_.front())),
        options_(std::move(options)),
        tls_(std::move(tls)) {}
  std::vector<Socket> listening_;  // never empty until the sender is in
  uint16_t port_;
  PeerOptions options_;
  TlsContext tls_;
};

}  // namespace mysqlclone
