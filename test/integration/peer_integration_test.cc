// `mysqlclone local --to` pushing into `mysqlclone receive` over mutual TLS on 127.0.0.1, against
// real servers (issue 10, acceptance 1c and the peer part of 2), with certificates made by
// tools/certs.sh (the openssl command line): under sysbench write load plus a MyISAM/Aria writer,
// an lz4-compressed push gives a DIR the stock server starts on, that checks clean, replicates
// from the recorded position and then equals the source table by table. Then the faults, each one
// clear error line and exit code 10 on both sides, the source left unlocked and DIR never
// startable: a receiver or a sender whose certificate the other side does not trust,
// --peer-insecure on one side only, a sender that fails (its error reaches the receiver), the
// receiver killed mid-stream (the sender ends at once and
// DDL runs on the source right after), the sender killed mid-stream. And clients that are no
// sender (a scanner, a health check, TLS without a certificate, silence): receive ignores them.
//
// One server per flavour serves every case, with little data; --max-rate makes the kills land
// mid-stream. A server that cannot start fails the test (it::Server throws); nothing here skips.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/load.h"
#include "test/integration/text.h"

namespace {

using nlohmann::json;
using namespace it::text;

using it::kMiB;

// The --peer-* options of side `me` (a certs.sh name) trusting `ca`.
std::vector<std::string> peer(const std::string& certs, const std::string& me, const std::string& ca) {
  return {"--peer-cert", certs + "/" + me + ".pem", "--peer-key", certs + "/" + me + ".key", "--peer-ca",
          certs + "/" + ca + ".pem"};
}
const std::vector<std::string> kInsecure = {"--peer-insecure"};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A receive on a free port of 127.0.0.1, started in the background and listening.
struct Receiver {
  Receiver(int port_, const std::string& dir, const std::vector<std::string>& peer_args)
      : port(port_),
        proc(std::vector<std::string>{it::mysqlclone_binary(), "--json", "receive", "--listen",
                                      "127.0.0.1:" + std::to_string(port), "--target-dir", dir} +
             peer_args) {
    listening = it::wait_until(30, [&] { return contains(proc.err(), "listening on") || !proc.running(); }) &&
                proc.running();
  }
  std::string to() const { return "127.0.0.1:" + std::to_string(port); }
  int port;
  it::Background proc;
  bool listening = false;
};

std::vector<std::string> local_to(const it::Server& src, const std::string& to, const std::vector<std::string>& extra) {
  return std::vector<std::string>{it::mysqlclone_binary(), "--json", "local", "-S", src.socket(), "-u", "mysqlclone",
                                  "-pmysqlclone", "--to", to} +
         extra;
}

// One error line on stderr naming `what`, and exit code 10.
void expect_network_error(const it::CommandResult& r, const std::string& side, const std::string& what) {
  SCOPED_TRACE(side);
  EXPECT_EQ(r.exit_code, 10) << describe(r);
  const auto errors = error_lines(r.err);
  ASSERT_EQ(errors.size(), 1u) << describe(r);
  EXPECT_TRUE(contains(errors[0], what)) << "expected '" << what << "' in: " << errors[0];
  info(side + ": " + errors[0]);
}

// A push that the handshake stops: both sides fail with their error line, nothing touched DIR
// nor the source.
void expect_refused_pair(const it::Server& src, const it::TempDir& work, const std::string& name,
                         const std::vector<std::string>& receiver_peer, const std::vector<std::string>& sender_peer,
                         const std::string& receiver_says, const std::string& sender_says) {
  SCOPED_TRACE(name);
  const std::string dir = work.path() + "/" + name;
  Receiver r(it::free_port(), dir, receiver_peer);
  ASSERT_TRUE(r.listening) << describe(r.proc.result());
  auto s = it::run_bounded(local_to(src, r.to(), sender_peer), 120);
  ASSERT_TRUE(r.proc.wait_for(60)) << "receive still runs 60 s after the sender ended\n" << describe(r.proc.result());
  expect_network_error(s, name + ": the sender", sender_says);
  expect_network_error(r.proc.result(), name + ": the receiver", receiver_says);
  EXPECT_EQ(it::listing(dir), std::vector<std::string>{}) << "a refused peer wrote into DIR";
  EXPECT_EQ(it::sessions_of(src, "mysqlclone"), 0u);
}

// Bytes of data in DIR (besides mysqlclone.json).
uint64_t data_bytes(const std::string& dir) {
  const uint64_t total = it::tree_bytes(dir);
  const uint64_t meta = it::read_file(dir + "/mysqlclone.json").size();
  return total > meta ? total - meta : 0;
}

class PeerUnderLoad : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerUnderLoad, PushOverMutualTlsAndEverySideDying) {
  const std::string& flavour = GetParam();
  it::Server src(flavour, "16k");
  it::sysbench_prepare(src, "oltp_read_write", 4, 5000);
  const std::string nt = it::create_nontransactional_table(src);
  it::TempDir work;
  const std::string certs = work.path() + "/certs";
  auto made = it::run({std::string(MYSQLCLONE_SOURCE_DIR) + "/tools/certs.sh", certs});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  const auto receiver_tls = peer(certs, "receiver", "ca");
  const auto sender_tls = peer(certs, "sender", "ca");

  // Refused at the handshake, before the source is touched.
  expect_refused_pair(src, work, "untrusted_receiver", peer(certs, "stranger", "ca"), sender_tls, "refused",
                      "is not trusted");
  expect_refused_pair(src, work, "untrusted_sender", receiver_tls, peer(certs, "stranger", "ca"), "is not trusted",
                      "refused");
  expect_refused_pair(src, work, "insecure_receiver", kInsecure, sender_tls, "starts TLS", "--peer-insecure");
  expect_refused_pair(src, work, "insecure_sender", receiver_tls, kInsecure, "--peer-insecure", "requires TLS");

  // The sender fails (a wrong password): its error is the receiver's, and DIR stays empty.
  {
    const std::string dir = work.path() + "/sender_fails";
    Receiver k(it::free_port(), dir, receiver_tls);
    ASSERT_TRUE(k.listening) << describe(k.proc.result());
    auto argv = local_to(src, k.to(), sender_tls);
    std::replace(argv.begin(), argv.end(), std::string("-pmysqlclone"), std::string("-pwrong"));
    auto bad = it::run_bounded(argv, 120);
    EXPECT_EQ(bad.exit_code, 3) << describe(bad);
    ASSERT_TRUE(k.proc.wait_for(60)) << "receive still runs 60 s after the sender failed";
    expect_network_error(k.proc.result(), "sender fails: the receiver", "failed: cannot connect");
    EXPECT_EQ(it::listing(dir), std::vector<std::string>{});
  }

  it::Load writer = it::nontransactional_writer(src, 600);
  it::Load oltp = it::sysbench_run(src, "oltp_read_write", 4, 5000, 2, 600);
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 256 * 1024; }))
      << "the load does not write\n" << oltp.describe() << "\n" << writer.describe();

  // (c) local --compress=lz4 --to a receive over mutual TLS.
  const std::string pushed = work.path() + "/pushed";
  Receiver r(it::free_port(), pushed, receiver_tls);
  ASSERT_TRUE(r.listening) << describe(r.proc.result());
  const auto t0 = std::chrono::steady_clock::now();
  auto s = it::run_bounded(local_to(src, r.to(), sender_tls + std::vector<std::string>{"--compress=lz4"}), 900);
  ASSERT_TRUE(r.proc.wait_for(60)) << describe(r.proc.result());
  ASSERT_EQ(s.exit_code, 0) << describe(s) << "\n--- receive ---\n" << describe(r.proc.result());
  ASSERT_EQ(r.proc.exit_code(), 0) << describe(r.proc.result());
  info("pushed in " + std::to_string(it::seconds_since(t0)) + " s");
  const json sent = parse(s.out), received = parse(r.proc.out());
  ASSERT_TRUE(sent.is_object() && received.is_object()) << describe(s) << describe(r.proc.result());
  EXPECT_EQ(received.value("command", ""), "receive");
  EXPECT_EQ(sent.value("stream", ""), r.to());
  EXPECT_EQ(sent.value("stream_bytes", 0ull), received.value("stream_bytes", 1ull));
  EXPECT_LT(received.value("stream_bytes", 0ull), received.value("data_bytes", 0ull)) << "lz4 did not shrink the copy";
  EXPECT_TRUE(contains(r.proc.err(), "TLSv1.3")) << r.proc.err();

  // The receiver killed mid-stream: the sender ends at once, exit 10, the source unlocked.
  {
    const std::string dir = work.path() + "/receiver_killed";
    Receiver k(it::free_port(), dir, receiver_tls);
    ASSERT_TRUE(k.listening) << describe(k.proc.result());
    it::Background sender(local_to(src, k.to(), sender_tls + std::vector<std::string>{"--max-rate", "2"}));
    ASSERT_TRUE(it::wait_until(120, [&] { return data_bytes(dir) >= 2 * kMiB || !k.proc.running(); }));
    ASSERT_TRUE(k.proc.running() && sender.running()) << describe(k.proc.result()) << describe(sender.result());
    k.proc.signal(SIGKILL);
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(sender.wait_for(60)) << "the sender still runs 60 s after the receiver was killed";
    const double took = it::seconds_since(killed);
    info("the sender ended " + std::to_string(took) + " s after the receiver was killed");
    EXPECT_LT(took, 15) << "the sender took long to notice";
    expect_network_error(sender.result(), "receiver killed: the sender", "failed or was killed");
    it::expect_source_unharmed(src);
    it::expect_refused(flavour, dir);
  }
  // The sender killed mid-stream: the receiver ends with exit 10, DIR never startable.
  {
    const std::string dir = work.path() + "/sender_killed";
    Receiver k(it::free_port(), dir, receiver_tls);
    ASSERT_TRUE(k.listening) << describe(k.proc.result());
    it::Background sender(local_to(src, k.to(), sender_tls + std::vector<std::string>{"--max-rate", "2"}));
    ASSERT_TRUE(it::wait_until(120, [&] { return data_bytes(dir) >= 2 * kMiB || !sender.running(); }));
    ASSERT_TRUE(k.proc.running() && sender.running()) << describe(k.proc.result()) << describe(sender.result());
    sender.signal(SIGKILL);
    ASSERT_TRUE(k.proc.wait_for(60)) << "receive still runs 60 s after the sender was killed";
    expect_network_error(k.proc.result(), "sender killed: the receiver", "before the end of the stream");
    it::expect_source_unharmed(src);
    it::expect_refused(flavour, dir);
  }
  EXPECT_TRUE(oltp.running()) << "sysbench ended during the pushes: " << oltp.describe();
  EXPECT_TRUE(writer.running()) << "the " << nt << " writer ended during the pushes: " << writer.describe();

  writer.stop();
  oltp.stop();
  ASSERT_TRUE(it::wait_quiet(src, 60)) << "the source still runs statements 60 s after the load was stopped";
  it::expect_good_copy(src, "pushed over mutual TLS", pushed, received, it::source_gtids(src));
}

// A connection to 127.0.0.1:port; -1 when none could be made.
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(uint16_t(port));
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// Clients that are no mysqlclone sender, each logged and ignored while receive waits for its one
// sender: a port scanner's connect and close, an HTTP health check, an SSDP probe, TLS clients
// that do not offer the protocol mysqlclone-peer (one without a certificate, one that refuses the
// receiver's, one naming it as the server), one that connects and says nothing and one that
// drips a TLS record (both held open while the sender comes). The sender comes after them and fails at once (no server at its
// socket): its error is the receiver's, which shows that receive took it. No server needed.
TEST(PeerStrays, ReceiveIgnoresClientsThatAreNoSender) {
  it::TempDir work;
  const std::string certs = work.path() + "/certs";
  auto made = it::run({std::string(MYSQLCLONE_SOURCE_DIR) + "/tools/certs.sh", certs});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  for (const bool insecure : {false, true}) {
    SCOPED_TRACE(insecure ? "--peer-insecure" : "mutual TLS");
    const std::string dir = work.path() + (insecure ? "/plain" : "/tls");
    Receiver r(it::free_port(), dir, insecure ? kInsecure : peer(certs, "receiver", "ca"));
    ASSERT_TRUE(r.listening) << describe(r.proc.result());
    size_t strays = 0;
    const int scan = connect_to(r.port);
    ASSERT_GE(scan, 0);
    ::close(scan);
    ++strays;
    const int http = connect_to(r.port);
    ASSERT_GE(http, 0);
    const std::string get = "GET / HTTP/1.0\r\n\r\n";
    ASSERT_EQ(::write(http, get.data(), get.size()), ssize_t(get.size()));
    ::close(http);
    ++strays;
    // TLS clients that are no sender (their hello names no mysqlclone-peer): one without a
    // certificate, and one that does not trust the receiver's and says so in an alert (as a
    // browser or a checking health probe does); to a --peer-insecure receiver, TLS at all. Their
    // exit codes say nothing here: with TLS 1.3 a client may end before the refusal comes.
    it::run_bounded({"openssl", "s_client", "-connect", r.to()}, 30);
    ++strays;
    it::run_bounded({"openssl", "s_client", "-connect", r.to(), "-verify_return_error", "-CAfile",
                     certs + "/other-ca.pem"},
                    30);
    ++strays;
    // The protocol's name as the server's name, not offered as its protocol (ALPN).
    it::run_bounded({"openssl", "s_client", "-connect", r.to(), "-servername", "mysqlclone-peer"}, 30);
    ++strays;
    // An SSDP probe ("M-SEARCH", a hello's first letter) in two pieces.
    const int ssdp = connect_to(r.port);
    ASSERT_GE(ssdp, 0);
    ASSERT_EQ(::write(ssdp, "M", 1), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::string search = "-SEARCH * HTTP/1.1\r\n\r\n";
    ASSERT_EQ(::write(ssdp, search.data(), search.size()), ssize_t(search.size()));
    ::close(ssdp);
    ++strays;
    // A TLS record's header, then a byte of it every 2 s: its whole handshake has 10 s, not each
    // byte (before, it held receive for as long as it dripped, and the sender timed out).
    std::atomic<bool> stop_drip{false};
    std::thread drip;
    int silent = -1;
    if (!insecure) {
      silent = connect_to(r.port);
      ASSERT_GE(silent, 0);
      ++strays;
      const int dripping = connect_to(r.port);
      ASSERT_GE(dripping, 0);
      const std::string header = "\x16\x03\x01\x02\x00";
      ASSERT_EQ(::send(dripping, header.data(), header.size(), MSG_NOSIGNAL), ssize_t(header.size()));
      drip = std::thread([dripping, &stop_drip] {
        for (int tick = 0; !stop_drip; ++tick) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          if (tick % 20 == 19 && ::send(dripping, "", 1, MSG_NOSIGNAL) != 1) break;
        }
        ::close(dripping);
      });
      ++strays;
    }
    auto sender = it::run_bounded(std::vector<std::string>{it::mysqlclone_binary(), "--json", "local", "-S",
                                                           work.path() + "/no-server.sock", "-u", "mysqlclone",
                                                           "-pmysqlclone", "--to", r.to()} +
                                      (insecure ? kInsecure : peer(certs, "sender", "ca")),
                                  120);
    if (silent >= 0) ::close(silent);
    stop_drip = true;
    if (drip.joinable()) drip.join();
    EXPECT_EQ(sender.exit_code, 3) << describe(sender);
    ASSERT_TRUE(r.proc.wait_for(60)) << "receive still runs 60 s after the sender failed\n" << describe(r.proc.result());
    expect_network_error(r.proc.result(), "the receiver", "failed: cannot connect");
    size_t ignored = 0;
    for (size_t at = r.proc.err().find("ignored a connection"); at != std::string::npos;
         at = r.proc.err().find("ignored a connection", at + 1))
      ++ignored;
    EXPECT_EQ(ignored, strays) << r.proc.err();
    if (!insecure) {
      EXPECT_TRUE(contains(r.proc.err(), "took more than 10 s")) << r.proc.err();
    }
    EXPECT_EQ(it::listing(dir), std::vector<std::string>{});
  }
}

// `receive --listen NAME:PORT` listens on every address NAME has. Before, it listened on the
// first only: a sender reaching the receiver's host by its other address (IPv4 where the name
// also has IPv6, a second interface) was refused. NAME here has two addresses (127.0.0.1 and
// 127.0.0.2, in an /etc/hosts of receive's own mount namespace); a sender to each is taken (it
// then fails at once, no server: its error is the receiver's). No server needed.
TEST(PeerStrays, ReceiveListensOnEveryAddressOfItsName) {
  it::TempDir work;
  const std::string hosts = work.path() + "/hosts";
  {
    std::ofstream f(hosts);
    f << "127.0.0.1 localhost\n127.0.0.1 mysqlclone-two\n127.0.0.2 mysqlclone-two\n";
  }
  for (const std::string address : {"127.0.0.1", "127.0.0.2"}) {
    SCOPED_TRACE(address);
    const int port = it::free_port();
    const std::string dir = work.path() + "/to-" + address;
    it::Background r(std::vector<std::string>{"unshare", "-m", "--propagation", "private", "--", "sh", "-c",
                                              "mount --bind \"$0\" /etc/hosts && exec \"$@\"", hosts,
                                              it::mysqlclone_binary(), "receive", "--listen",
                                              "mysqlclone-two:" + std::to_string(port), "--target-dir", dir} +
                     kInsecure);
    ASSERT_TRUE(it::wait_until(30, [&] { return contains(r.err(), "listening on") || !r.running(); }) && r.running())
        << describe(r.result());
    auto sender = it::run_bounded(std::vector<std::string>{it::mysqlclone_binary(), "local", "-S",
                                                           work.path() + "/no-server.sock", "-u", "mysqlclone",
                                                           "-pmysqlclone", "--to", address + ":" + std::to_string(port)} +
                                      kInsecure,
                                  60);
    EXPECT_EQ(sender.exit_code, 3) << describe(sender);
    ASSERT_TRUE(r.wait_for(60)) << "receive still runs 60 s after the sender failed\n" << describe(r.result());
    expect_network_error(r.result(), "the receiver", "failed: cannot connect");
  }
}

INSTANTIATE_TEST_SUITE_P(Flavours, PeerUnderLoad, ::testing::ValuesIn(it::kFlavours),
                         [](const ::testing::TestParamInfo<std::string>& info) { return it::test_name(info.param); });

}  // namespace
