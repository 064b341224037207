#include "test/integration/checks.h"

#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "test/integration/load.h"
#include "test/integration/text.h"

namespace it {
using namespace text;
using nlohmann::json;
namespace fs = std::filesystem;

std::string check_tables(const Server& s, const std::vector<std::string>& names) {
  if (names.empty()) return "no tables at all";
  auto r = s.try_sql("CHECK TABLE " + join(names, ", ") + ";\n", 600);
  if (r.exit_code != 0) return "CHECK TABLE failed: " + describe(r);
  std::set<std::string> ok;
  std::string problems;
  for (const auto& line : split_lines(r.out)) {
    auto f = split(line, '\t');
    if (f.size() < 4) {
      problems += "unexpected CHECK TABLE output: " + line + "\n";
      continue;
    }
    const std::string type = lower(f[2]), text = f[3];
    if (type == "status" && text == "OK")
      ok.insert(f[0]);
    else if (type == "error" || type == "warning" || type == "status")
      problems += line + "\n";
  }
  if (ok.size() != names.size())
    problems += std::to_string(ok.size()) + " of " + std::to_string(names.size()) + " tables checked OK\n";
  return problems;
}

std::string checksums(const Server& s, const std::vector<std::string>& names) {
  auto r = s.try_sql("CHECKSUM TABLE " + join(names, ", ") + " EXTENDED;\n", 600);
  if (r.exit_code != 0) return "CHECKSUM TABLE failed: " + describe(r);
  return r.out;
}

// An unfinished DIR must be refused by everyone: `verify` says incomplete (exit 11), its state is
// not "complete", and a stock server of the same version does not start on it.
void expect_refused(const std::string& flavour, const std::string& target) {
  auto v = mysqlclone_bounded({"verify", target}, 300);
  EXPECT_EQ(v.exit_code, 11) << "verify of the unfinished " << target << "\n" << describe(v);
  EXPECT_TRUE(contains(lower(v.out + v.err), "incomplete")) << "verify does not say incomplete\n" << describe(v);
  if (fs::exists(target + "/mysqlclone.json")) {
    json meta = parse(read_file(target + "/mysqlclone.json"));
    EXPECT_FALSE(!meta.is_discarded() && meta.is_object() && meta.value("state", "") == "complete")
        << "mysqlclone.json of an unfinished copy says complete";
  }
  auto a = try_start_stock_server(flavour, target);
  EXPECT_FALSE(a.started) << "a stock " << flavour << " server STARTED on the unfinished " << target
                          << "; its error log:\n"
                          << tail(a.error_log);
  if (!a.started) info("stock " + flavour + " refused the unfinished DIR: " + trim(server_errors(a.error_log)).substr(0, 600));
}

// The JSON's statements with the account filled in (placeholders REPLICATION_USER and
// REPLICATION_PASSWORD, whether or not the statement already quotes them), run on the copy.
// MySQL: the 'repl' account uses caching_sha2_password and the source has no TLS certificate the
// replica trusts, so the replica must be allowed to fetch the source's RSA key
// (GET_SOURCE_PUBLIC_KEY=1) unless the statements already arrange it. Returns the SQL run.
std::string make_replica(const Server& copy, const json& doc, std::string& error) {
  const bool mysql = !copy.is_mariadb();
  std::vector<std::string> stmts;
  bool key_arranged = false;
  for (const auto& st : doc["replication"]["statements"]) {
    std::string s = trim(st.get<std::string>());
    while (!s.empty() && s.back() == ';') s = trim(s.substr(0, s.size() - 1));
    for (const auto& [ph, val] : std::vector<std::pair<std::string, std::string>>{{"REPLICATION_PASSWORD", "repl"},
                                                                                   {"REPLICATION_USER", "repl"}}) {
      for (size_t p; (p = s.find(ph)) != std::string::npos;) {
        const bool quoted = p > 0 && (s[p - 1] == '\'' || s[p - 1] == '"');
        s.replace(p, ph.size(), quoted ? val : "'" + val + "'");
      }
    }
    const std::string u = upper(s);
    key_arranged |= contains(u, "GET_SOURCE_PUBLIC_KEY") || contains(u, "GET_MASTER_PUBLIC_KEY") ||
                    contains(u, "SOURCE_SSL=1") || contains(u, "SOURCE_SSL = 1");
    stmts.push_back(s);
  }
  std::string sql;
  bool started = false;
  for (const auto& s : stmts) {
    const std::string u = upper(s);
    if (u.rfind("START REPLICA", 0) == 0 || u.rfind("START SLAVE", 0) == 0) {
      if (mysql && !key_arranged) sql += "CHANGE REPLICATION SOURCE TO GET_SOURCE_PUBLIC_KEY = 1;\n";
      started = true;
    }
    sql += s + ";\n";
  }
  if (!started) {
    if (mysql && !key_arranged) sql += "CHANGE REPLICATION SOURCE TO GET_SOURCE_PUBLIC_KEY = 1;\n";
    sql += mysql ? "START REPLICA;\n" : "START SLAVE;\n";
  }
  auto r = copy.try_sql(sql, 60);
  if (r.exit_code != 0) error = "the replication statements failed on the copy:\n" + sql + "\n" + describe(r);
  return sql;
}

// The source's position once its load has stopped: MySQL gtid_executed, MariaDB gtid_binlog_pos.
std::string source_gtids(const Server& src) {
  return trim(src.is_mariadb() ? src.sql("SELECT @@GLOBAL.gtid_binlog_pos;")
                               : src.sql("SELECT REPLACE(@@GLOBAL.gtid_executed, '\\n', '');"));
}

// Waits (bounded) until the copy has applied everything up to `gtids`. "" when it has.
std::string wait_caught_up(const Server& copy, const std::string& gtids) {
  const std::string q = copy.is_mariadb() ? "SELECT MASTER_GTID_WAIT('" + gtids + "', 240);\n"
                                          : "SELECT WAIT_FOR_EXECUTED_GTID_SET('" + gtids + "', 240);\n";
  auto r = copy.try_sql(q, 300);
  if (r.exit_code == 0 && r.out == "0\n") return "";
  return "the copy did not catch up with " + gtids + ": " + describe(r) + "\n" + replica_status(copy);
}

namespace {

const std::string kSystemSchemas = "'information_schema', 'performance_schema', 'sys'";

// `schema`.`table` of every base table outside the schemas `excluded` (a list of quoted names) for
// which `also` (SQL over information_schema.TABLES) holds, sorted.
std::vector<std::string> base_tables(const Server& s, const std::string& excluded, const std::string& also = "TRUE") {
  return split_lines(
      s.sql("SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') FROM information_schema.TABLES "
            "WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (" +
            excluded + ") AND " + also + " ORDER BY TABLE_SCHEMA, TABLE_NAME;"));
}

}  // namespace

std::vector<std::string> tables(const Server& s, bool user_only) {
  return base_tables(s, user_only ? "'mysql', " + kSystemSchemas : kSystemSchemas);
}

// CHECK TABLE of every table of the copy; "" when each ends with status OK and none reports an
// error or a warning.
std::string check_all_tables(const Server& s) { return check_tables(s, tables(s, false)); }

}  // namespace it

namespace it {

std::vector<std::string> user_tables(const Server& s) { return tables(s, true); }

std::vector<std::string> innodb_user_tables(const Server& s) {
  return base_tables(s, "'mysql', " + kSystemSchemas, "ENGINE = 'InnoDB'");
}

std::string run_replica_statements(const Server& copy, const std::vector<std::string>& statements) {
  std::string sql;
  for (std::string st : statements) {
    for (const std::string ph : {"REPLICATION_USER", "REPLICATION_PASSWORD"})
      for (size_t p; (p = st.find(ph)) != std::string::npos;) st.replace(p, ph.size(), "repl");
    sql += st + ";\n";
  }
  if (statements.empty()) return "no statements to run";
  auto r = copy.try_sql(sql, 60);
  return r.exit_code == 0 ? "" : "the statements failed on the copy:\n" + sql + describe(r);
}

std::string logged_gtids(const Server& s) {
  return trim(s.is_mariadb() ? s.sql("SELECT @@GLOBAL.gtid_binlog_pos;")
                             : s.sql("SELECT REPLACE(@@GLOBAL.gtid_executed, '\\n', '');"));
}

std::string replica_status(const Server& s) {
  auto r = s.try_client({"-E"}, s.is_mariadb() ? "SHOW ALL SLAVES STATUS;\n" : "SHOW REPLICA STATUS;\n", 30);
  return "--- replica status ---\n" + r.out + r.err + "\n--- [ERROR]s of its log ---\n" + server_errors(s.error_log());
}

namespace {

// One bounded wait function call on `copy`: it returns 0 (MySQL WAIT_FOR_EXECUTED_GTID_SET,
// MariaDB MASTER_GTID_WAIT) or a non-negative count (the position waits) once reached.
std::string wait_call(const Server& copy, const std::string& call, bool zero_only) {
  auto r = copy.try_sql("SELECT " + call + ";\n", 300);
  const std::string out = trim(r.out);
  const bool reached = r.exit_code == 0 && !out.empty() && out != "NULL" && out[0] != '-' && (!zero_only || out == "0");
  return reached ? "" : "the copy did not get to " + call + ": " + describe(r) + "\n" + replica_status(copy);
}

}  // namespace

std::string wait_gtids(const Server& copy, const std::string& gtids) {
  return wait_call(copy,
                   copy.is_mariadb() ? "MASTER_GTID_WAIT('" + gtids + "', 240)"
                                     : "WAIT_FOR_EXECUTED_GTID_SET('" + gtids + "', 240)",
                   true);
}

std::string wait_binlog_end(const Server& copy, const Server& source) {
  const auto f = split(trim(source.sql(source.is_mariadb() ? "SHOW MASTER STATUS;" : "SHOW BINARY LOG STATUS;")), '\t');
  if (f.size() < 2) return "the source reports no binlog position";
  return wait_call(copy,
                   std::string(copy.is_mariadb() ? "MASTER_POS_WAIT" : "SOURCE_POS_WAIT") + "('" + f[0] + "', " +
                       f[1] + ", 240)",
                   false);
}

unsigned running_appliers(const Server& s) {
  const std::string out =
      s.is_mariadb() ? s.sql("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLAVES_RUNNING';")
                     : s.sql("SELECT COUNT(*) FROM performance_schema.replication_applier_status WHERE SERVICE_STATE = 'ON';");
  return unsigned(std::stoul(out));
}

void expect_good_copy(const Server& src, const std::string& what, const std::string& dir, const json& doc,
                      const std::string& gtids) {
  SCOPED_TRACE(what);
  const json meta = parse(read_file(dir + "/mysqlclone.json"));
  ASSERT_TRUE(meta.is_object()) << "no readable mysqlclone.json in " << dir;
  EXPECT_EQ(meta.value("state", ""), "complete");
  EXPECT_EQ(meta.value("command", ""), "local");
  for (const char* f : {"xtrabackup_binlog_info", "xtrabackup_checkpoints", "backup-my.cnf"})
    EXPECT_FALSE(read_file(dir + "/" + f).empty()) << f << " missing or empty";
  auto v = mysqlclone_bounded({"verify", dir}, 600);
  EXPECT_EQ(v.exit_code, 0) << "verify of the extracted copy\n" << describe(v);

  Server copy(src.flavour(), "16k", {"--datadir", dir});
  EXPECT_EQ(check_all_tables(copy), "") << "CHECK TABLE on the copy";
  std::string error;
  const std::string sql = make_replica(copy, doc, error);
  ASSERT_EQ(error, "");
  info(what + ": replication set up with:\n" + sql);
  ASSERT_EQ(wait_caught_up(copy, gtids), "");
  const auto user_tables = tables(src, true);
  EXPECT_EQ(tables(copy, true), user_tables);
  EXPECT_EQ(checksums(copy, user_tables), checksums(src, user_tables))
      << "CHECKSUM TABLE differs between the copy and the source\n"
      << replica_status(copy);
}

}  // namespace it

namespace it {

void expect_source_unharmed(const Server& src) {
  EXPECT_TRUE(wait_until(15, [&] { return sessions_of(src, "mysqlclone") == 0; }))
      << sessions_of(src, "mysqlclone") << " session(s) of mysqlclone still on the source 15 s after it ended";
  auto r = src.try_sql(
      "SET SESSION lock_wait_timeout = 5;\n"
      "DROP TABLE IF EXISTS ld.ddl_probe;\n"
      "CREATE TABLE ld.ddl_probe (id INT PRIMARY KEY) ENGINE=InnoDB;\n"
      "INSERT INTO ld.ddl_probe VALUES (1);\n"
      "DROP TABLE ld.ddl_probe;\n"
      "INSERT INTO ld.nt (n, v) VALUES (-1, 'probe');\n",
      60);
  EXPECT_EQ(r.exit_code, 0) << "DDL/DML on the source after the backup ended\n"
                            << describe(r) << "\n--- source processlist ---\n"
                            << src.try_sql("SHOW FULL PROCESSLIST;", 30).out;
}

void make_key_file(const std::string& path) {
  auto made = run({"bash", "-c", "umask 077 && openssl rand -hex 32 > '" + path + "'"});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
}

void expect_terminal_refused(const std::string& command) {
  auto tty = run_bounded({"script", "-qec", command, "/dev/null"}, 60);
  EXPECT_EQ(tty.exit_code, 2) << describe(tty);
  EXPECT_NE((tty.out + tty.err).find("terminal"), std::string::npos) << describe(tty);
}

}  // namespace it
