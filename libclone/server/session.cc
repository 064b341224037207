#include "libclone/server/session.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

namespace mysqlclone {
namespace {

bool is_privilege_error(unsigned e) {
  return e == ER_SPECIFIC_ACCESS_DENIED_ERROR || e == ER_DBACCESS_DENIED_ERROR || e == ER_TABLEACCESS_DENIED_ERROR ||
         e == ER_COLUMNACCESS_DENIED_ERROR || e == ER_PROCACCESS_DENIED_ERROR;
}

}  // namespace

Result<Session> Session::connect(const ConnectionParams& p, const SessionTuning& tuning) {
  MYSQL* m = mysql_init(nullptr);
  if (!m) return Status::error(ExitCode::kInternal, "mysql_init failed (out of memory)");
  Session s(m);
  unsigned timeout = 10;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (tuning.compress) mysql_options(m, MYSQL_OPT_COMPRESS, nullptr);
  if (tuning.read_timeout_seconds) mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &tuning.read_timeout_seconds);
  if (tuning.write_timeout_seconds) mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &tuning.write_timeout_seconds);
  if (tuning.max_allowed_packet) mysql_options(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &tuning.max_allowed_packet);
  const bool tcp = !p.host.empty() && p.host != "localhost";
  if (p.ssl_mode != SslMode::kDisabled && (tcp || p.ssl_mode != SslMode::kPreferred)) {
    mysql_ssl_set(m, p.ssl_key.empty() ? nullptr : p.ssl_key.c_str(), p.ssl_cert.empty() ? nullptr : p.ssl_cert.c_str(),
                  p.ssl_ca.empty() ? nullptr : p.ssl_ca.c_str(), nullptr, nullptr);
    my_bool enforce = p.ssl_mode != SslMode::kPreferred;
    mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &enforce);
    my_bool verify = p.ssl_mode == SslMode::kVerifyCa || p.ssl_mode == SslMode::kVerifyIdentity;
    mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  }
  const char* password = p.password ? p.password->c_str() : nullptr;
  // Connector/C treats "TLS enforced" without certificate verification as a preference: it goes
  // on in plain text when the server offers no TLS. REQUIRED must mean required, so we check
  // what the server offered (in its greeting, also when the login then failed) and what we got.
  const bool tls_required = p.ssl_mode != SslMode::kDisabled && p.ssl_mode != SslMode::kPreferred;
  auto tls_refused = [&] {
    return Status::error(ExitCode::kConnection, "cannot connect as " + p.describe() +
                                                    ": TLS is required (--ssl-mode) but the server does not offer it");
  };
  if (!mysql_real_connect(m, p.host.empty() ? nullptr : p.host.c_str(), p.user.c_str(), password, nullptr, p.port,
                          p.socket.empty() ? nullptr : p.socket.c_str(), CLIENT_MULTI_RESULTS)) {
    if (tls_required && m->server_capabilities != 0 && !(m->server_capabilities & CLIENT_SSL)) return tls_refused();
    return Status::error(ExitCode::kConnection, "cannot connect as " + p.describe() + ": " + mysql_error(m));
  }
  if (tls_required && !mysql_get_ssl_cipher(m)) return tls_refused();
  return s;
}

Session::Session(Session&& o) noexcept : mysql_(o.mysql_) { o.mysql_ = nullptr; }

Session& Session::operator=(Session&& o) noexcept {
  if (this != &o) {
    if (mysql_) mysql_close(mysql_);
    mysql_ = o.mysql_;
    o.mysql_ = nullptr;
  }
  return *this;
}

Session::~Session() { close(); }

void Session::close() {
  if (mysql_) mysql_close(mysql_);
  mysql_ = nullptr;
}

Status Session::error_status(const std::string& sql) const {
  const unsigned e = mysql_errno(mysql_);
  const std::string msg = std::string(mysql_error(mysql_)) + " (while running: " + sql + ")";
  if (is_privilege_error(e)) return Status::error(ExitCode::kPrivilege, msg);
  if (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR) return Status::error(ExitCode::kConnection, "lost the server: " + msg);
  return Status::error(ExitCode::kInternal, "server error " + std::to_string(e) + ": " + msg);
}

Status Session::execute(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return error_status(sql);
  // Drain every result so the connection is ready for the next statement.
  do {
    if (MYSQL_RES* r = mysql_store_result(mysql_)) mysql_free_result(r);
  } while (mysql_next_result(mysql_) == 0);
  if (mysql_errno(mysql_)) return error_status(sql);
  return Status::ok();
}

std::string NamedRows::get(const Row& row, const std::string& name) const {
  for (size_t i = 0; i < columns.size() && i < row.size(); ++i)
    if (columns[i] == name) return row[i].value_or("");
  return "";
}

Result<std::vector<Row>> Session::query(const std::string& sql) {
  auto named = query_named(sql);
  if (!named.is_ok()) return named.status();
  return std::move(named->rows);
}

Result<NamedRows> Session::query_named(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return error_status(sql);
  MYSQL_RES* res = mysql_store_result(mysql_);
  if (!res) {
    if (mysql_errno(mysql_)) return error_status(sql);
    return NamedRows{};
  }
  NamedRows out;
  std::vector<Row>& rows = out.rows;
  const unsigned n = mysql_num_fields(res);
  const MYSQL_FIELD* fields = mysql_fetch_fields(res);
  for (unsigned i = 0; i < n; ++i) out.columns.emplace_back(fields[i].name, fields[i].name_length);
  while (MYSQL_ROW r = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    Row row;
    for (unsigned i = 0; i < n; ++i)
      row.push_back(r[i] ? std::optional<std::string>(std::string(r[i], lengths[i])) : std::nullopt);
    rows.push_back(std::move(row));
  }
  mysql_free_result(res);
  while (mysql_next_result(mysql_) == 0)
    if (MYSQL_RES* extra = mysql_store_result(mysql_)) mysql_free_result(extra);
  return out;
}

Result<std::optional<std::string>> Session::query_value(const std::string& sql) {
  auto rows = query(sql);
  if (!rows.is_ok()) return rows.status();
  if (rows->empty() || rows->front().empty()) return std::optional<std::string>{};
  return rows->front().front();
}

unsigned long Session::thread_id() const { return mysql_thread_id(mysql_); }
std::string Session::server_version() const { return mysql_get_server_info(mysql_); }
bool Session::uses_tls() const { return mysql_get_ssl_cipher(mysql_) != nullptr; }

}  // namespace mysqlclone
