// The peer connection of `local --to` / `receive` (io/peer.h) over loopback, with certificates
// made by tools/certs.sh (the openssl command line): a stream crosses mutual TLS intact and the
// receiver's outcome comes back; an untrusted certificate on either side, a receiver reached by
// an address its certificate does not name, --peer-insecure on one side only, a sender that
// stops mid-stream and a silent sender each fail with kNetwork and a message that says which.
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "libclone/base/interrupt.h"
#include "libclone/io/peer.h"
#include "libclone/io/tls.h"
#include "test/unit/test_datadir.h"

namespace mysqlclone {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

class Peer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);  // as main() does
    ASSERT_EQ(make_certs("a", ""), 0);
  }
  int make_certs(const std::string& set, const std::string& receiver_san) const {
    return std::system((MYSQLCLONE_TOOLS "/certs.sh " + (dir_.path / set).string() + " " + receiver_san).c_str());
  }

  PeerOptions tls(const std::string& me, const std::string& ca, const std::string& set = "a") const {
    const std::string d = (dir_.path / set).string() + "/";
    PeerOptions o;
    o.tls = {d + me + ".pem", d + me + ".key", d + ca + ".pem"};
    o.timeout = std::chrono::seconds(10);
    return o;
  }
  static PeerOptions insecure() {
    PeerOptions o;
    o.insecure = true;
    o.timeout = std::chrono::seconds(10);
    return o;
  }

  // A receiver on a free loopback port, in a thread: accepts, reads everything, reports `outcome`.
  struct Receiver {
    std::unique_ptr<PeerListener> listener;
    Status accepted, read;
    std::vector<uint8_t> bytes;
    std::thread thread;
    ~Receiver() {
      if (thread.joinable()) thread.join();
    }
    // Reads until the end (or `stop_after` bytes), then reports `outcome`.
    void start(const Status& outcome, size_t stop_after) {
      thread = std::thread([this, outcome, stop_after] {
        auto source = listener->accept();
        accepted = source.status();
        if (!source.is_ok()) return;
        std::vector<uint8_t> buffer(100000);
        while (true) {
          auto n = (*source)->read(buffer);
          if (!n.is_ok()) {
            read = n.status();
            return;
          }
          if (*n == 0) break;
          bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + long(*n));
          if (bytes.size() >= stop_after) break;
        }
        (*source)->finish(outcome);
      });
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(listener->port()); }
  };

  static std::unique_ptr<Receiver> receiver(const PeerOptions& options, const Status& outcome = Status::ok(),
                                            size_t stop_after = SIZE_MAX) {
    auto r = std::make_unique<Receiver>();
    auto l = PeerListener::listen("127.0.0.1:0", options);
    EXPECT_TRUE(l.is_ok()) << l.status().message();
    if (!l.is_ok()) return nullptr;
    r->listener = std::move(l).value();
    r->start(outcome, stop_after);
    return r;
  }

  testpages::ScratchDir dir_;
};

std::vector<uint8_t> random_bytes(size_t n) {
  std::mt19937 gen(7);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(gen());
  return v;
}

TEST_F(Peer, AStreamCrossesMutualTlsIntactAndTheOutcomeComesBack) {
  auto r = receiver(tls("receiver", "ca"));
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca"));
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  const auto data = random_bytes(3 * kMaxFrame + 12345);
  // Pieces of every size, the largest above one frame.
  size_t at = 0;
  for (size_t piece = 1; at < data.size(); piece = piece * 3 + 1) {
    const size_t n = std::min(piece, data.size() - at);
    ASSERT_TRUE((*sink)->write(std::span(data).subspan(at, n)).is_ok());
    at += n;
  }
  const Status done = (*sink)->finish();
  EXPECT_TRUE(done.is_ok()) << done.message();
  r->thread.join();
  EXPECT_TRUE(r->accepted.is_ok()) << r->accepted.message();
  EXPECT_TRUE(r->read.is_ok()) << r->read.message();
  EXPECT_EQ(r->bytes, data);
}

TEST_F(Peer, TheReceiversFailureIsTheSendersError) {
  auto r = receiver(tls("receiver", "ca"), Status::error(ExitCode::kPath, "/backup: no space left on device"));
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca"));
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  ASSERT_TRUE((*sink)->write(random_bytes(1000)).is_ok());
  const Status done = (*sink)->finish();
  EXPECT_EQ(done.code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(done.message(), "failed: /backup: no space left on device")) << done.message();
}

TEST_F(Peer, AReceiverThatFailsMidStreamStopsTheSenderWithItsReason) {
  auto r = receiver(tls("receiver", "ca"), Status::error(ExitCode::kVerifyFailed, "record 7 checksum mismatch"), 1000);
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca"));
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  const auto chunk = random_bytes(65536);
  Status s;
  for (int i = 0; i < 2000 && s.is_ok(); ++i) s = (*sink)->write(chunk);
  EXPECT_EQ(s.code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(s.message(), "failed: record 7 checksum mismatch")) << s.message();
}

TEST_F(Peer, AReceiverFromAnotherCaIsRefusedAndSaysSo) {
  auto r = receiver(tls("stranger", "ca"));
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca"));
  ASSERT_FALSE(sink.is_ok());
  EXPECT_EQ(sink.status().code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(sink.status().message(), "is not trusted")) << sink.status().message();
  r->thread.join();
  EXPECT_EQ(r->accepted.code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(r->accepted.message(), "refused")) << r->accepted.message();
}

TEST_F(Peer, ASenderFromAnotherCaIsRefusedAndSaysSo) {
  auto r = receiver(tls("receiver", "ca"));
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("stranger", "ca"));
  ASSERT_FALSE(sink.is_ok());
  EXPECT_EQ(sink.status().code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(sink.status().message(), "refused")) << sink.status().message();
  r->thread.join();
  EXPECT_EQ(r->accepted.code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(r->accepted.message(), "is not trusted")) << r->accepted.message();
}

TEST_F(Peer, TheReceiversCertificateMustNameTheAddressItIsReachedBy) {
  ASSERT_EQ(make_certs("b", "DNS:elsewhere.example"), 0);
  auto r = receiver(tls("receiver", "ca", "b"));  // SAN DNS:elsewhere.example only
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca", "b"));
  ASSERT_FALSE(sink.is_ok());
  EXPECT_TRUE(contains(sink.status().message(), "IP address mismatch")) << sink.status().message();
}

TEST_F(Peer, InsecureOnOneSideOnlyIsRefusedByBoth) {
  {
    auto r = receiver(tls("receiver", "ca"));
    ASSERT_TRUE(r);
    auto sink = peer_connect(r->address(), insecure());
    ASSERT_FALSE(sink.is_ok());
    EXPECT_TRUE(contains(sink.status().message(), "requires TLS")) << sink.status().message();
    r->thread.join();
    EXPECT_TRUE(contains(r->accepted.message(), "runs with --peer-insecure")) << r->accepted.message();
  }
  {
    auto r = receiver(insecure());
    ASSERT_TRUE(r);
    auto sink = peer_connect(r->address(), tls("sender", "ca"));
    ASSERT_FALSE(sink.is_ok());
    EXPECT_EQ(sink.status().code(), ExitCode::kNetwork);
    EXPECT_TRUE(contains(sink.status().message(), "--peer-insecure")) << sink.status().message();
    r->thread.join();
    EXPECT_TRUE(contains(r->accepted.message(), "starts TLS")) << r->accepted.message();
  }
}

TEST_F(Peer, PlainTcpWorksWhenBothSidesSaySo) {
  auto r = receiver(insecure());
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), insecure());
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  const auto data = random_bytes(kMaxFrame + 1);
  ASSERT_TRUE((*sink)->write(data).is_ok());
  EXPECT_TRUE((*sink)->finish().is_ok());
  r->thread.join();
  EXPECT_EQ(r->bytes, data);
}

TEST_F(Peer, ASenderGoneMidStreamIsANetworkErrorForTheReceiver) {
  for (const bool secure : {true, false}) {
    auto r = receiver(secure ? tls("receiver", "ca") : insecure());
    ASSERT_TRUE(r);
    {
      auto sink = peer_connect(r->address(), secure ? tls("sender", "ca") : insecure());
      ASSERT_TRUE(sink.is_ok()) << sink.status().message();
      ASSERT_TRUE((*sink)->write(random_bytes(5000)).is_ok());
    }  // closed without the end frame
    r->thread.join();
    EXPECT_EQ(r->read.code(), ExitCode::kNetwork);
    EXPECT_TRUE(contains(r->read.message(), "before the end of the stream")) << r->read.message();
  }
}

TEST_F(Peer, ASenderThatFailsTellsTheReceiverWhy) {
  auto r = receiver(tls("receiver", "ca"));
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca"));
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  ASSERT_TRUE((*sink)->write(random_bytes(5000)).is_ok());
  (*sink)->abort(Status::error(ExitCode::kSourceIo, "cannot read ./db/t.ibd: Input/output error"));
  r->thread.join();
  EXPECT_EQ(r->read.code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(r->read.message(), "failed: cannot read ./db/t.ibd: Input/output error")) << r->read.message();
}

TEST_F(Peer, ASilentSenderTimesOut) {
  PeerOptions quick = tls("receiver", "ca");
  quick.timeout = std::chrono::seconds(1);  // below the keepalive interval
  auto r = receiver(quick);
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca"));
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  r->thread.join();
  EXPECT_EQ(r->read.code(), ExitCode::kNetwork);
  EXPECT_TRUE(contains(r->read.message(), "--peer-timeout")) << r->read.message();
}

TEST_F(Peer, KeepalivesCarryASilentButLiveSender) {
  PeerOptions patient = tls("receiver", "ca");
  patient.timeout = kKeepalive + std::chrono::seconds(2);
  auto r = receiver(patient);
  ASSERT_TRUE(r);
  auto sink = peer_connect(r->address(), tls("sender", "ca"));
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  std::this_thread::sleep_for(patient.timeout + std::chrono::seconds(1));
  ASSERT_TRUE((*sink)->write(random_bytes(10)).is_ok());
  EXPECT_TRUE((*sink)->finish().is_ok());
  r->thread.join();
  EXPECT_TRUE(r->read.is_ok()) << r->read.message();
  EXPECT_EQ(r->bytes.size(), 10u);
}

// A receiver busy between reads (syncing thousands of files mid-stream, finishing DIR at the end)
// longer than the sender's timeout: its keepalives keep the sender waiting, mid-stream and for the
// outcome.
TEST_F(Peer, KeepalivesCarryABusyButLiveReceiver) {
  auto listener = PeerListener::listen("127.0.0.1:0", tls("receiver", "ca"));
  ASSERT_TRUE(listener.is_ok()) << listener.status().message();
  PeerOptions patient = tls("sender", "ca");
  patient.timeout = kKeepalive + std::chrono::seconds(2);
  const auto busy = patient.timeout + std::chrono::seconds(1);
  Status read;
  std::vector<uint8_t> bytes;
  std::thread receiver([&] {
    auto source = (*listener)->accept();
    read = source.status();
    std::vector<uint8_t> buffer(4096);
    while (read.is_ok()) {
      auto n = (*source)->read(buffer);
      read = n.status();
      if (!n.is_ok() || *n == 0) break;
      bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + long(*n));
      if (bytes.size() == 10) std::this_thread::sleep_for(busy);  // mid-stream
    }
    if (!read.is_ok()) return;
    std::this_thread::sleep_for(busy);  // at the end
    (*source)->finish(Status::ok());
  });
  auto sink = peer_connect("127.0.0.1:" + std::to_string((*listener)->port()), patient);
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  ASSERT_TRUE((*sink)->write(random_bytes(10)).is_ok());
  std::this_thread::sleep_for(kKeepalive + std::chrono::seconds(1));  // a keepalive of the receiver waits
  const Status second = (*sink)->write(random_bytes(10));
  EXPECT_TRUE(second.is_ok()) << second.message();
  const Status done = (*sink)->finish();
  EXPECT_TRUE(done.is_ok()) << done.message();
  receiver.join();
  EXPECT_TRUE(read.is_ok()) << read.message();
  EXPECT_EQ(bytes.size(), 20u);
}

// The ClientHello an OpenSSL client writes first (made in memory), offering `alpn` (an ALPN
// list in wire format; empty: none) and naming the server `sni`.
std::string client_hello(const std::string& alpn, const std::string& sni) {
  std::string hello;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!alpn.empty()) SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(alpn.data()), unsigned(alpn.size()));
  SSL* ssl = SSL_new(ctx);
  SSL_set_tlsext_host_name(ssl, sni.c_str());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), out);
  SSL_set_connect_state(ssl);
  (void)SSL_do_handshake(ssl);  // writes the ClientHello, then wants the server's answer
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  if (size > 0) hello.assign(data, size_t(size));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

bool names_peer(const std::string& bytes) {
  return client_hello_names_peer_alpn({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

// How a --peer-insecure receiver tells a sender that speaks TLS from other TLS clients: by the
// ALPN list of a whole ClientHello, not by the name's bytes anywhere in it.
TEST(PeerAlpn, OnlyAWholeClientHelloOfferingMysqlclonePeerNamesIt) {
  const std::string peer = std::string(1, char(sizeof kPeerAlpn - 1)) + kPeerAlpn;
  EXPECT_TRUE(names_peer(client_hello(peer, "receiver.example")));
  EXPECT_TRUE(names_peer(client_hello("\x02h2" + peer, "receiver.example")));
  EXPECT_FALSE(names_peer(client_hello("\x02h2\x08http/1.1", "receiver.example")));
  EXPECT_FALSE(names_peer(client_hello("", "mysqlclone-peer")));  // the name as the server's, no ALPN
  EXPECT_FALSE(names_peer(client_hello("\x10mysqlclone-peerX", "receiver.example")));
  const std::string whole = client_hello(peer, "receiver.example");
  ASSERT_GT(whole.size(), 100u);
  EXPECT_FALSE(names_peer(whole.substr(0, whole.size() / 2)));  // not all of it came
  EXPECT_FALSE(names_peer("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(names_peer(""));
}

TEST(PeerAddress, HostPortForms) {
  auto v4 = parse_endpoint("10.0.0.1:4444", "--to");
  ASSERT_TRUE(v4.is_ok());
  EXPECT_EQ(v4->host, "10.0.0.1");
  EXPECT_EQ(v4->port, 4444);
  auto v6 = parse_endpoint("[::1]:5", "--to");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->text(), "[::1]:5");
  for (const char* bad : {"host", ":1", "host:", "host:65536", "host:1x", "::1:5", "[]:5"}) {
    auto e = parse_endpoint(bad, "--to");
    EXPECT_EQ(e.status().code(), ExitCode::kUsage) << bad;
    EXPECT_TRUE(contains(e.status().message(), "--to takes HOST:PORT")) << bad;
  }
}

// A receiver whose disk is slower than the network always finds bytes waiting, so its reads never
// wait (where the transport looks at signals): SIGINT/SIGTERM must stop it all the same.
TEST_F(Peer, ASignalStopsTheReceiverWhileBytesAreWaiting) {
  auto listener = PeerListener::listen("127.0.0.1:0", tls("receiver", "ca"));
  ASSERT_TRUE(listener.is_ok()) << listener.status().message();
  std::promise<void> go;
  Status accepted, read;
  std::thread receiver([&, ready = go.get_future()] {
    auto source = (*listener)->accept();
    accepted = source.status();
    if (!source.is_ok()) return;
    ready.wait();
    std::vector<uint8_t> buffer(4096);
    auto n = (*source)->read(buffer);
    read = n.status();
  });
  auto sink = peer_connect("127.0.0.1:" + std::to_string((*listener)->port()), tls("sender", "ca"));
  ASSERT_TRUE(sink.is_ok()) << sink.status().message();
  ASSERT_TRUE((*sink)->write(random_bytes(65536)).is_ok());  // waiting in the receiver's socket
  request_interrupt();
  go.set_value();
  receiver.join();
  EXPECT_TRUE(accepted.is_ok()) << accepted.message();
  EXPECT_EQ(read.code(), ExitCode::kInterrupted) << read.message();
}

}  // namespace
}  // namespace mysqlclone
