#include "libclone/server/connection.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace mysqlclone {

Result<SslMode> parse_ssl_mode(const std::string& text) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), ::toupper);
  std::replace(t.begin(), t.end(), '-', '_');
  if (t == "DISABLED") return SslMode::kDisabled;
  if (t == "PREFERRED") return SslMode::kPreferred;
  if (t == "REQUIRED") return SslMode::kRequired;
  if (t == "VERIFY_CA") return SslMode::kVerifyCa;
  if (t == "VERIFY_IDENTITY") return SslMode::kVerifyIdentity;
  return Status::error(ExitCode::kUsage,
                       "--ssl-mode " + text + ": expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY");
}

std::string ConnectionParams::describe() const {
  if (host.empty() || host == "localhost") return user + "@localhost" + (socket.empty() ? "" : " via " + socket);
  return user + "@" + host + ":" + std::to_string(port ? port : 3306);
}

std::vector<std::string> connection_option_groups(const std::string& command) {
  std::vector<std::string> groups{"client", "mysqlclone"};
  if (!command.empty()) groups.push_back("mysqlclone-" + command);
  return groups;
}

Result<ConnectionParams> resolve_connection(const ConnectionOptions& cli) {
  const auto groups = connection_option_groups(cli.command);
  auto entries = read_option_entries(option_files(cli.files), groups, cli.files);
  if (!entries.is_ok()) return entries.status();
  const auto fv = merge_by_group(*entries, groups);
  auto from_file = [&](const char* name) -> std::optional<std::string> {
    auto it = fv.find(name);
    return it == fv.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto pick = [&](const std::optional<std::string>& c, const char* name) { return c ? c : from_file(name); };

  ConnectionParams p;
  p.host = pick(cli.host, "host").value_or("");
  p.socket = pick(cli.socket, "socket").value_or("");
  if (cli.port) {
    p.port = *cli.port;
  } else if (auto port = from_file("port")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(port->c_str(), &end, 10);
    if (*end || v == 0 || v > 65535) return Status::error(ExitCode::kUsage, "option file: bad port '" + *port + "'");
    p.port = unsigned(v);
  }
  if (auto user = pick(cli.user, "user")) {
    p.user = *user;
  } else if (const char* login = ::getlogin()) {
    p.user = login;  // the mysql client's default: the login name
  } else if (const char* env = std::getenv("USER")) {
    p.user = env;
  }
  p.password = pick(cli.password, "password");
  if (!p.password)
    if (const char* env = std::getenv("MYSQL_PWD")) p.password = std::string(env);
  if (auto mode = pick(cli.ssl_mode, "ssl-mode")) {
    auto m = parse_ssl_mode(*mode);
    if (!m.is_ok()) return m.status();
    p.ssl_mode = *m;
  }
  p.ssl_ca = pick(cli.ssl_ca, "ssl-ca").value_or("");
  p.ssl_cert = pick(cli.ssl_cert, "ssl-cert").value_or("");
  p.ssl_key = pick(cli.ssl_key, "ssl-key").value_or("");
  return p;
}

}  // namespace mysqlclone
