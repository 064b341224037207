// A private OpenSSH server on 127.0.0.1 for the tests of `remote --ssh`, started by the project's
// own tools/servers/sshd.sh: its own port, sshd_config, host key and client key; never the
// system service.
#pragma once

#include <string>
#include <vector>

namespace it {

class SshServer {
 public:
  // Starts it; throws (failing the calling test) when it cannot.
  SshServer();
  ~SshServer();  // stops it and removes its directory
  SshServer(const SshServer&) = delete;
  SshServer& operator=(const SshServer&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // USER@127.0.0.1: the user the tests run as, the only one it lets in.
  std::string destination() const;
  // `remote --ssh-option` arguments of a client that knows this server's host key and logs in
  // with `identity` (default: the server's client key), and with no other key.
  std::vector<std::string> client_options(const std::string& identity = "") const;

 private:
  std::string dir_;
  int port_ = 0;
};

}  // namespace it
