// Transport on MariaDB Connector/C (what Debian's default-libmysqlclient-dev is). Connector/C
// has no public call for "send this command byte and do not interpret the answer", but its
// public mysql.h declares the methods table whose db_command() does exactly that with
// skip_check set, and mysql_net_read_packet() (exported, documented) reads one raw packet.
//
// The Clone protocol's one framing quirk: the donor resets its packet sequence to 0 before
// every command and every response, so we clear both of the library's sequence counters
// before each send and each read, or the library reports "packets out of order".
#include "libclone/command/remote/clone_transport.h"

#include <sys/socket.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include <atomic>

namespace mysqlclone::clone {
namespace {

class ConnectorTransport : public Transport {
 public:
  explicit ConnectorTransport(Session session) : session_(std::move(session)) {}

  Status send(Command command, std::span<const uint8_t> body) override {
    MYSQL* m = session_.native_handle();
    reset_sequence(m);
    const int rc = m->methods->db_command(m, static_cast<enum_server_command>(command),
                                          reinterpret_cast<const char*>(body.data()), body.size(), 1, nullptr);
    if (rc != 0) return lost("sending a clone command");
    return Status::ok();
  }

  Result<std::span<const uint8_t>> receive() override {
    MYSQL* m = session_.native_handle();
    reset_sequence(m);
    const unsigned long length = mysql_net_read_packet(m);
    if (length == packet_error) return lost("reading the clone stream");
    // An ERR packet here means the donor's SQL layer ended the session (KILL, shutdown): the
    // clone plugin itself never sends one, its errors are COM_RES_ERROR.
    if (length > 0 && m->net.read_pos[0] == 0xFF) return lost_with_err_packet(m->net.read_pos, length);
    return std::span<const uint8_t>(m->net.read_pos, length);
  }

  void abort() override {
    aborted_ = true;
    const int fd = static_cast<int>(mysql_get_socket(session_.native_handle()));
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  static void reset_sequence(MYSQL* m) {
    m->net.pkt_nr = 0;
    m->net.compress_pkt_nr = 0;
  }

  Status lost(const char* doing) {
    MYSQL* m = session_.native_handle();
    if (aborted_) return Status::error(ExitCode::kInterrupted, "clone connection closed on request");
    // The library refused the packet from its length alone, before allocating it.
    if (mysql_errno(m) == CR_NET_PACKET_TOO_LARGE || mysql_errno(m) == ER_NET_PACKET_TOO_LARGE)
      return Status::error(ExitCode::kProtocol, std::string("the donor sent a packet longer than the ") +
                                                    std::to_string(kMaxPacketBytes) + " bytes a donor sends at most (" +
                                                    doing + ")");
    return Status::error(ExitCode::kNetwork, std::string("lost the donor while ") + doing + ": " + mysql_error(m) +
                                                 " (error " + std::to_string(mysql_errno(m)) + ")");
  }

  Status lost_with_err_packet(const uint8_t* p, unsigned long length) {
    // ERR packet: 0xFF · u16 LE error · '#' + 5-byte SQL state · message.
    unsigned code = length >= 3 ? unsigned(p[1]) | unsigned(p[2]) << 8 : 0;
    size_t text = length >= 9 && p[3] == '#' ? 9 : 3;
    std::string message = length > text ? std::string(reinterpret_cast<const char*>(p + text), length - text) : "";
    if (aborted_) return Status::error(ExitCode::kInterrupted, "clone connection closed on request");
    return Status::error(ExitCode::kNetwork, "the donor ended the clone session: " + message + " (error " +
                                                 std::to_string(code) + ")");
  }

  Session session_;
  std::atomic<bool> aborted_{false};
};

}  // namespace

Result<std::unique_ptr<Transport>> enter_clone_mode(Session session) {
  MYSQL* m = session.native_handle();
  // With skip_check off the library reads the donor's OK or ERR itself.
  if (m->methods->db_command(m, static_cast<enum_server_command>(kComClone), "", 0, 0, nullptr) != 0) {
    const unsigned e = mysql_errno(m);
    const std::string why = std::string(mysql_error(m)) + " (error " + std::to_string(e) + ")";
    if (e == ER_SPECIFIC_ACCESS_DENIED_ERROR)
      return Status::error(ExitCode::kPrivilege, "the donor refused to clone: " + why +
                                                     "; fix on the donor: GRANT BACKUP_ADMIN ON *.* TO <user>");
    if (e == ER_PLUGIN_IS_NOT_LOADED)
      return Status::error(ExitCode::kUnsupported, "the donor has no clone plugin loaded: " + why +
                                                       "; fix on the donor: INSTALL PLUGIN clone SONAME 'mysql_clone.so'");
    if (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR)
      return Status::error(ExitCode::kNetwork, "lost the donor while entering clone mode: " + why);
    return Status::error(ExitCode::kUnsupported, "the donor refused COM_CLONE: " + why);
  }
  return std::unique_ptr<Transport>(new ConnectorTransport(std::move(session)));
}

}  // namespace mysqlclone::clone
