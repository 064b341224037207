#include "test/integration/checks.h"

#include <set>

#include "test/integration/text.h"

namespace it {
using namespace text;

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

}  // namespace it

namespace it {

std::vector<std::string> user_tables(const Server& s) {
  return split_lines(s.sql(
      "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') FROM information_schema.TABLES WHERE TABLE_TYPE = "
      "'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
      "ORDER BY TABLE_SCHEMA, TABLE_NAME;"));
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

}  // namespace it
