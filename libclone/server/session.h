// One client connection to the source server (libmysqlclient API): the only place that talks
// SQL. Errors map to exit codes: cannot connect / authenticate -> kConnection, missing
// privileges -> kPrivilege, anything else the server refuses -> kInternal with its message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libclone/server/connection.h"
#include "libclone/base/status.h"

struct st_mysql;

namespace mysqlclone {

using Row = std::vector<std::optional<std::string>>;

// A result with its column names, for statements whose columns are known by name only (SHOW
// REPLICA STATUS adds and renames columns between versions).
struct NamedRows {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  // The value of column `name` in `row`; "" when there is no such column or it is NULL.
  std::string get(const Row& row, const std::string& name) const;
};

// How the connection behaves beyond where it goes; the defaults suit short SQL sessions.
struct SessionTuning {
  bool compress = false;               // the protocol's zlib compression
  unsigned read_timeout_seconds = 0;   // 0: the library's default
  unsigned write_timeout_seconds = 0;  // 0: the library's default
  unsigned long max_allowed_packet = 0;  // 0: the library's default
};

class Session {
 public:
  static Result<Session> connect(const ConnectionParams& params, const SessionTuning& tuning = {});
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();
  // Ends the connection now (the destructor does too): the server drops every lock it held.
  void close();

  Status execute(const std::string& sql);
  Result<std::vector<Row>> query(const std::string& sql);
  Result<NamedRows> query_named(const std::string& sql);
  // First column of the first row; nullopt for no row or NULL.
  Result<std::optional<std::string>> query_value(const std::string& sql);

  // The server's own connection id (for KILL from another session, for diagnostics).
  unsigned long thread_id() const;
  std::string server_version() const;  // e.g. "9.7.4" or "10.11.19-MariaDB-0+deb12u1-log"
  bool uses_tls() const;

  // The client library's handle, for the one module that speaks a non-SQL protocol on this
  // connection (clone_transport.cc); nothing else may use it.
  st_mysql* native_handle() { return mysql_; }

 private:
  explicit Session(st_mysql* m) : mysql_(m) {}
  Status error_status(const std::string& sql) const;
  st_mysql* mysql_ = nullptr;
};

}  // namespace mysqlclone
