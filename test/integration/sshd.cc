#include "test/integration/sshd.h"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "test/integration/harness.h"

namespace it {
namespace {

std::string sshd_script() { return std::string(MYSQLCLONE_SOURCE_DIR) + "/tools/servers/sshd.sh"; }

}  // namespace

SshServer::SshServer() {
  char tmpl[] = "/tmp/mcssh.XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  port_ = free_port();
  const CommandResult r = run_bounded({sshd_script(), "start", dir_, "--port", std::to_string(port_)}, 60);
  if (r.exit_code != 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw std::runtime_error("cannot start sshd on port " + std::to_string(port_) + ": " + r.err);
  }
}

SshServer::~SshServer() {
  run_bounded({sshd_script(), "stop", dir_}, 60);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string SshServer::destination() const {
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string(pw ? pw->pw_name : "root") + "@127.0.0.1";
}

std::vector<std::string> SshServer::client_options(const std::string& identity) const {
  std::vector<std::string> args;
  const std::vector<std::string> options{"Port=" + std::to_string(port_), "UserKnownHostsFile=" + dir_ + "/known_hosts",
                                         "StrictHostKeyChecking=yes",
                                         "IdentityFile=" + (identity.empty() ? dir_ + "/client_ed25519" : identity),
                                         "IdentitiesOnly=yes"};
  for (const std::string& o : options) {
    args.push_back("--ssh-option");
    args.push_back(o);
  }
  return args;
}

}  // namespace it
