#include "libclone/io/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"

namespace mysqlclone {
namespace {

using std::chrono::milliseconds;

// How often a wait looks at the interrupt flag.
constexpr milliseconds kSlice{200};

Status net_error(const std::string& what, int err) {
  return Status::error(ExitCode::kNetwork, what + ": " + std::strerror(err));
}

Status set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return net_error("cannot configure a socket", errno);
  return Status::ok();
}

std::string address_text(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return fmt::format("{}:{}", host, port);
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  // fmt, not "[" + std::string + ...: GCC 12 -O3 warns a false -Wrestrict on that (-Werror).
  return fmt::format("[{}]:{}", host, ntohs(in6->sin6_port));
}

struct AddrInfoFree {
  void operator()(addrinfo* a) const { ::freeaddrinfo(a); }
};
using AddrInfo = std::unique_ptr<addrinfo, AddrInfoFree>;

Result<AddrInfo> resolve(const Endpoint& e, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  const std::string port = std::to_string(e.port);
  const int rc = ::getaddrinfo(e.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return Status::error(ExitCode::kNetwork, "cannot resolve " + e.host + ": " + ::gai_strerror(rc));
  return AddrInfo(found);
}

// Connects one address within `timeout`.
Result<Socket> connect_one(const addrinfo& a, milliseconds timeout, const std::string& name) {
  Socket s(::socket(a.ai_family, a.ai_socktype | SOCK_CLOEXEC, a.ai_protocol));
  if (s.fd() < 0) return net_error("cannot create a socket for " + name, errno);
  if (Status st = set_nonblocking(s.fd()); !st.is_ok()) return st;
  if (::connect(s.fd(), a.ai_addr, a.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return net_error("cannot connect to " + name, errno);
    if (Status st = wait_ready(s.fd(), POLLOUT, timeout, name); !st.is_ok())
      return Status::error(st.code(), st.code() == ExitCode::kNetwork
                                          ? "cannot connect to " + name + ": no answer within " +
                                                std::to_string(timeout.count() / 1000) + " s (--peer-timeout)"
                                          : st.message());
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return net_error("cannot connect to " + name, err);
  }
  const int one = 1;
  ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

}  // namespace

std::string Endpoint::text() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(const std::string& text, const std::string& option) {
  const auto bad = [&] { return Status::error(ExitCode::kUsage, option + " takes HOST:PORT, not '" + text + "'"); };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad();
  Endpoint e;
  e.host = text.substr(0, colon);
  if (e.host.front() == '[') {
    if (e.host.size() < 3 || e.host.back() != ']') return bad();
    e.host = e.host.substr(1, e.host.size() - 2);
  } else if (e.host.find(':') != std::string::npos) {
    return bad();  // an IPv6 address needs its brackets
  }
  const std::string port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) return bad();
  e.port = uint16_t(value);
  return e;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

int Socket::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Status wait_ready(int fd, short events, milliseconds timeout, const std::string& peer) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal");
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return Status::error(ExitCode::kNetwork, peer + " neither sent nor took a byte for " +
                                                   std::to_string(timeout.count() / 1000) +
                                                   " s (--peer-timeout): it is gone or stuck");
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, int(std::min(left, kSlice).count()));
    if (n > 0) return Status::ok();  // ready, or an error the next call reports
    if (n < 0 && errno != EINTR) return net_error("cannot wait for " + peer, errno);
  }
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

void lingering_close(int fd) {
  ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  uint8_t scratch[16384];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(kSlice.count())) < 0 && errno != EINTR) return;
    const ssize_t n = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
  }
}

Result<Socket> tcp_connect(const Endpoint& to, milliseconds timeout) {
  auto found = resolve(to, false);
  if (!found.is_ok()) return found.status();
  Status last = Status::error(ExitCode::kNetwork, "cannot connect to " + to.text() + ": no address");
  for (const addrinfo* a = found->get(); a; a = a->ai_next) {
    auto s = connect_one(*a, timeout, to.text());
    if (s.is_ok() || s.status().code() == ExitCode::kInterrupted) return s;
    last = s.status();
  }
  return last;
}

namespace {

// One listening socket on `a`; errno tells why not.
Socket listen_one(const addrinfo& a, bool v6_only) {
  Socket s(::socket(a.ai_family, a.ai_socktype | SOCK_CLOEXEC, a.ai_protocol));
  if (s.fd() < 0) return s;
  const int one = 1;
  ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Beside an IPv4 address of the same name, an IPv6 one takes IPv6 only (else "::" would also
  // take IPv4 and the IPv4 bind would fail).
  if (a.ai_family == AF_INET6 && v6_only) ::setsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  // Room for a few waiting connections: receive takes them one at a time and may be looking at
  // a stray one (a scanner's) when its sender connects.
  if (::bind(s.fd(), a.ai_addr, a.ai_addrlen) == 0 && ::listen(s.fd(), 16) == 0 && set_nonblocking(s.fd()).is_ok())
    return s;
  const int err = errno;
  s = Socket();
  errno = err;
  return s;
}

}  // namespace

Result<std::vector<Socket>> tcp_listen(const Endpoint& at) {
  auto found = resolve(at, true);
  if (!found.is_ok()) return found.status();
  bool has_v4 = false;
  for (const addrinfo* a = found->get(); a; a = a->ai_next) has_v4 = has_v4 || a->ai_family == AF_INET;
  std::vector<Socket> listening;
  std::vector<std::string> bound;
  std::string skipped;
  uint16_t port = at.port;
  for (addrinfo* a = found->get(); a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    // Port 0: the kernel's pick for the first address, the same for the others.
    if (a->ai_family == AF_INET) reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_port = htons(port);
    else reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_port = htons(port);
    const std::string name = address_text(a->ai_addr);
    if (std::find(bound.begin(), bound.end(), name) != bound.end()) continue;  // listed twice
    Socket s = listen_one(*a, has_v4);
    if (s.fd() < 0) {
      // An address of a family this host has switched off (IPv6 disabled: "localhost" still
      // names ::1) is left out, said; any other failure is the user's to see.
      if (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL) return net_error("cannot listen on " + name, errno);
      skipped += (skipped.empty() ? "" : ", ") + name + " (" + std::strerror(errno) + ")";
      continue;
    }
    port = bound_port(s);
    bound.push_back(name);
    listening.push_back(std::move(s));
  }
  if (listening.empty())
    return Status::error(ExitCode::kNetwork, "cannot listen on " + at.text() + ": no address of it can be bound" +
                                                 (skipped.empty() ? "" : ": " + skipped));
  if (!skipped.empty()) log_warning("not listening on {}", skipped);
  return listening;
}

uint16_t bound_port(const Socket& listener) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

Result<Socket> tcp_accept(const std::vector<Socket>& listening, std::string& peer) {
  std::vector<pollfd> waiting;
  for (const Socket& l : listening) waiting.push_back({l.fd(), POLLIN, 0});
  while (true) {
    if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal while waiting for a sender");
    for (const Socket& l : listening) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      Socket s(::accept4(l.fd(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (s.fd() >= 0) {
        peer = address_text(reinterpret_cast<sockaddr*>(&ss));
        const int one = 1;
        ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return s;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
        return net_error("cannot accept a connection", errno);
    }
    ::poll(waiting.data(), waiting.size(), int(kSlice.count()));
  }
}

Status broken(const std::string& peer, int err) {
  return net_error("the connection to " + peer + " broke (the peer failed or was killed)", err);
}

Result<size_t> PlainTransport::read_some(std::span<uint8_t> out) {
  while (true) {
    const ssize_t n = ::recv(socket_.fd(), out.data(), out.size(), 0);
    if (n >= 0) return size_t(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return broken(peer_, errno);
    if (Status s = wait_ready(socket_.fd(), POLLIN, timeout_, peer_); !s.is_ok()) return s;
  }
}

Status PlainTransport::write_all(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(socket_.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes = bytes.subspan(size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return broken(peer_, errno);
    if (Status s = wait_ready(socket_.fd(), POLLOUT, timeout_, peer_); !s.is_ok()) return s;
  }
  return Status::ok();
}

void PlainTransport::close() { lingering_close(socket_.fd()); }

}  // namespace mysqlclone
