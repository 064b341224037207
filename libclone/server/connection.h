// Where and how to connect: the mysql client's conventions (README "House conventions").
// Values come from option files ([client], [mysqlclone]), then MYSQL_PWD for the password, and
// the command line wins over both.
#pragma once

#include <optional>
#include <string>

#include "libclone/server/option_file.h"
#include "libclone/base/status.h"

namespace mysqlclone {

enum class SslMode { kDisabled, kPreferred, kRequired, kVerifyCa, kVerifyIdentity };

// What the command line said; unset fields fall back to option files and defaults.
struct ConnectionOptions {
  std::optional<std::string> host, user, password, socket;
  std::optional<unsigned> port;
  std::optional<std::string> ssl_mode, ssl_ca, ssl_cert, ssl_key;
  OptionFileChoice files;
  std::string command;  // "local", "remote": its option group [mysqlclone-<command>] counts too
};

// Connection options may come from these option-file groups; a later group wins.
std::vector<std::string> connection_option_groups(const std::string& command);

// Everything needed to call the client library.
struct ConnectionParams {
  std::string host;  // empty: the local socket
  unsigned port = 0;
  std::string user;
  std::optional<std::string> password;
  std::string socket;
  SslMode ssl_mode = SslMode::kPreferred;
  std::string ssl_ca, ssl_cert, ssl_key;
  std::string describe() const;  // "user@host:port" or "user@localhost via socket"
};

// Fails with kUsage for unreadable option files or a bad --ssl-mode / port.
Result<ConnectionParams> resolve_connection(const ConnectionOptions& cli);

Result<SslMode> parse_ssl_mode(const std::string& text);

}  // namespace mysqlclone
