#include "test/integration/load.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "test/integration/text.h"

namespace it {

void sysbench_prepare(const Server& s, const std::string& test, unsigned tables, unsigned rows) {
  CommandResult r = run_bounded({server_script(), "sysbench", s.dir(), test, "--tables=" + std::to_string(tables),
                                 "--table-size=" + std::to_string(rows), "prepare"},
                                600);
  if (r.exit_code != 0)
    throw std::runtime_error("sysbench " + test + " prepare failed on " + s.flavour() + ": " + r.out + r.err);
}

Load::Load(std::string what, std::vector<std::string> argv, std::string stdin_text)
    : what_(std::move(what)), proc_(std::make_unique<Background>(argv, stdin_text)) {}

std::string Load::describe() const {
  std::string s = what_ + " (exit " + std::to_string(proc_->exit_code()) + ")";
  std::string out = proc_->out(), err = proc_->err();
  if (out.size() > 3000) out = "..." + out.substr(out.size() - 3000);
  if (err.size() > 3000) err = "..." + err.substr(err.size() - 3000);
  return s + "\n--- its stdout ---\n" + out + "\n--- its stderr ---\n" + err;
}

Load sysbench_run(const Server& s, const std::string& test, unsigned tables, unsigned rows, unsigned threads,
                  unsigned max_seconds) {
  return Load("sysbench " + test + " --threads=" + std::to_string(threads),
              {server_script(), "sysbench", s.dir(), test, "--tables=" + std::to_string(tables),
               "--table-size=" + std::to_string(rows), "--threads=" + std::to_string(threads),
               "--time=" + std::to_string(max_seconds), "--report-interval=0", "run"});
}

Load sql_session(const Server& s, const std::string& what, const std::string& statements) {
  return Load(what, {server_script(), "sql", s.dir(), "-N", "-B"}, statements);
}

Load sql_loop(const Server& s, const std::string& what, const std::string& body, unsigned max_seconds) {
  // $0 = server.sh, $1 = DIR, $2 = seconds. The loop outpaces the client by at most a pipe
  // buffer of statements; the client ends when the loop does.
  const std::string script =
      "end=$((SECONDS + $2)); i=0\n"
      "while [ $SECONDS -lt $end ]; do\n"
      "  i=$((i + 1))\n" +
      body +
      "\n"
      "done | \"$0\" sql \"$1\" -N -B\n";
  return Load(what, {"bash", "-c", script, server_script(), s.dir(), std::to_string(max_seconds)});
}

std::string create_nontransactional_table(const Server& s) {
  const std::string engine = s.is_mariadb() ? "Aria" : "MyISAM";
  s.sql("CREATE DATABASE IF NOT EXISTS ld;\n"
        "CREATE TABLE ld.nt (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL, v VARCHAR(400) NOT NULL, "
        "KEY (n)) ENGINE=" +
        engine + ";\n");
  std::string got = s.sql("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA='ld' AND TABLE_NAME='nt';");
  if (got != engine + "\n") throw std::runtime_error("ld.nt has engine " + got + ", wanted " + engine);
  return "ld.nt";
}

Load nontransactional_writer(const Server& s, unsigned max_seconds) {
  // Autocommitted single statements: allowed on a non-transactional table with
  // enforce_gtid_consistency=ON.
  const std::string body =
      "  echo \"INSERT INTO ld.nt (n, v) VALUES ($i, REPEAT(CHAR(97 + $i % 26), 50 + $i % 300));\"\n"
      "  if [ $((i % 10)) = 0 ]; then echo \"UPDATE ld.nt SET n = n + 1 WHERE id % 13 = $((i % 13));\"; fi\n"
      "  if [ $((i % 50)) = 0 ]; then echo \"DELETE FROM ld.nt WHERE id % 97 = $((i % 97)) ORDER BY id LIMIT 3;\"; fi\n"
      "  echo \"DO SLEEP(0.002);\"";
  return sql_loop(s, "writer into ld.nt", body, max_seconds);
}

Load blob_writer(const Server& s, unsigned max_seconds, double pause_seconds) {
  s.sql("CREATE DATABASE IF NOT EXISTS ld;\n"
        "CREATE TABLE IF NOT EXISTS ld.blobs (id BIGINT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB;\n");
  const std::string body =
      "  echo \"INSERT INTO ld.blobs (b) SELECT REPEAT(CHAR(65 + (x.n + $i) % 26), 131072) FROM (SELECT 0 n UNION "
      "ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 "
      "UNION ALL SELECT 7) x;\"\n"
      "  if [ $((i % 16)) = 0 ]; then echo \"DELETE FROM ld.blobs;\"; fi" +
      (pause_seconds > 0 ? "\n  echo \"DO SLEEP(" + std::to_string(pause_seconds) + ");\"" : std::string());
  return sql_loop(s, "blob writer into ld.blobs", body, max_seconds);
}

void create_bank(const Server& s) {
  s.sql("CREATE DATABASE IF NOT EXISTS bank;\n"
        "CREATE TABLE bank.account (id INT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB;\n"
        "INSERT INTO bank.account SELECT seq, " + std::to_string(kBankBalance) + " FROM (WITH RECURSIVE n(seq) AS "
        "(SELECT 1 UNION ALL SELECT seq + 1 FROM n WHERE seq < " + std::to_string(kBankAccounts) + ") SELECT seq FROM n) x;\n"
        "CREATE TABLE bank.ledger (seq BIGINT PRIMARY KEY, from_id INT NOT NULL, to_id INT NOT NULL, "
        "amount BIGINT NOT NULL) ENGINE=InnoDB;\n");
}

Load bank_transfers(const Server& s, unsigned max_seconds) {
  const std::string n = std::to_string(kBankAccounts);
  // One UPDATE moves the amount and locks every account, in key order: transfers run one at a
  // time, however many sessions run them, and never deadlock. The ledger row's seq is then the
  // newest MAX(seq) + 1 (a locking read), written in the same transaction: one rolled back leaves
  // no gap. A locking read of MAX(seq) alone would not serialize them: the lock every session
  // takes on the gap after the last row is granted to all, and their inserts there deadlock.
  const std::string body =
      "  a=$((i % " + n + " + 1)); b=$(((i * 7 + 3) % " + n + " + 1)); [ $a = $b ] && b=$((a % " + n + " + 1))\n"
      "  x=$((i % 50 + 1))\n"
      "  echo \"START TRANSACTION; UPDATE bank.account SET balance = balance + CASE id WHEN $a THEN -$x WHEN $b "
      "THEN $x ELSE 0 END; INSERT INTO bank.ledger SELECT COALESCE(MAX(seq), 0) + 1, $a, $b, $x FROM bank.ledger "
      "FOR UPDATE; COMMIT;\"\n"
      "  echo \"DO SLEEP(0.002);\"";
  return sql_loop(s, "bank transfers", body, max_seconds);
}

std::string bank_invariants(const Server& s) {
  // Each account's balance by the ledger: what it was created with, plus what it received, minus
  // what it sent.
  const std::string by_ledger = std::to_string(kBankBalance) + " + COALESCE(f.net, 0)";
  auto r = s.try_sql("SELECT COUNT(*), SUM(balance) FROM bank.account;\n"
                     "SELECT COUNT(*), COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0) FROM bank.ledger;\n"
                     "SELECT a.id, a.balance, " + by_ledger + " FROM bank.account a LEFT JOIN (SELECT id, "
                     "SUM(amount) net FROM (SELECT to_id id, amount FROM bank.ledger UNION ALL SELECT from_id, "
                     "-amount FROM bank.ledger) m GROUP BY id) f ON f.id = a.id WHERE a.balance <> " + by_ledger +
                     " ORDER BY a.id LIMIT 1;\n",
                     60);
  if (r.exit_code != 0) return "cannot read bank.account and bank.ledger: " + text::trim(r.err);
  const auto lines = text::split_lines(r.out);
  if (lines.size() < 2) return "unexpected output of the bank's queries: " + text::trim(r.out);
  const std::string want = std::to_string(kBankAccounts) + "\t" + std::to_string(kBankAccounts * kBankBalance);
  if (lines[0] != want) return "bank.account holds (accounts, total) " + lines[0] + ", wanted " + want;
  // seq is unique: N rows from 1 to N are exactly 1..N.
  const auto seq = text::split(lines[1], '\t');
  if (seq.size() != 3 || seq[1] != "1" || seq[2] != seq[0])
    return "bank.ledger holds (rows, first seq, last seq) " + lines[1] + ", wanted a seq from 1 to the rows' count";
  if (lines.size() > 2) return "bank.account holds (id, balance, by the ledger) " + lines[2];
  return "";
}

namespace {

uint64_t status_value(const Server& s, const std::string& mysql_name, const std::string& mariadb_name) {
  const std::string q =
      s.is_mariadb()
          ? "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='" + mariadb_name + "';"
          : "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME='" + mysql_name + "';";
  const std::string v = s.sql(q);
  try {
    return std::stoull(v);
  } catch (const std::exception&) {
    throw std::runtime_error("no status value for " + q + ": '" + v + "'");
  }
}

}  // namespace

uint64_t current_lsn(const Server& s) {
  return status_value(s, "Innodb_redo_log_current_lsn", "INNODB_LSN_CURRENT");
}

uint64_t checkpoint_lsn(const Server& s) {
  return status_value(s, "Innodb_redo_log_checkpoint_lsn", "INNODB_LSN_LAST_CHECKPOINT");
}

bool wait_quiet(const Server& s, double timeout_seconds) {
  const std::string table = s.is_mariadb() ? "information_schema.PROCESSLIST" : "performance_schema.processlist";
  const std::string q = "SELECT COUNT(*) FROM " + table +
                        " WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', "
                        "'Binlog Dump GTID');";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (true) {
    if (s.sql(q) == "0\n") return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

unsigned sessions_of(const Server& s, const std::string& user) {
  const std::string table = s.is_mariadb() ? "information_schema.PROCESSLIST" : "performance_schema.processlist";
  return unsigned(std::stoul(s.sql("SELECT COUNT(*) FROM " + table + " WHERE USER='" + user + "';")));
}

// ------------------------------------------------------------------------------ the DDL loop

const DdlDialect& ddl_dialect(const Server& s) { return s.is_mariadb() ? kMariadbDdl : kMysqlDdl; }

std::string sized_table_sql(const std::string& name, unsigned rows) {
  return "CREATE TABLE ddl." + name + " (id INT PRIMARY KEY, n INT NOT NULL, v VARCHAR(200) NOT NULL, KEY (n));\n"
         "INSERT INTO ddl." + name + " WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < " +
         std::to_string(rows) + ") SELECT i, i % 1000, REPEAT(CHAR(97 + i % 26), 20 + i % 150) FROM seq;\n";
}

void prepare_ddl_tables(const Server& s, const DdlDialect& d) {
  std::string sql = d.recursion_limit + ";\nCREATE DATABASE ddl;\n";
  for (const auto& t : kDdlSizedTables) sql += sized_table_sql(t.name, t.rows);
  sql += "CREATE TABLE ddl.trunc (id INT PRIMARY KEY, v VARCHAR(64));\n"
         "CREATE TABLE ddl.ren0 (id INT PRIMARY KEY, v VARCHAR(64));\n"
         "INSERT INTO ddl.ren0 VALUES (1, 'renamed every round');\n";
  s.sql(sql);
}

void create_sized_table(const Server& s, const DdlDialect& d, const std::string& name, unsigned rows) {
  s.sql(d.recursion_limit + ";\n" + sized_table_sql(name, rows));
}

// Each timed DDL is framed by two SELECTs of the server's clock (timed_sql's shape), so the
// session's output gives how long each statement took, as the server saw it.
Load ddl_loop(const Server& s, const DdlDialect& d, unsigned max_seconds, unsigned lock_wait_timeout) {
  std::string body =
      "  ddl() { echo \"SELECT 'b', UNIX_TIMESTAMP(SYSDATE(6));\"; echo \"$2;\"; "
      "echo \"SELECT 'e', UNIX_TIMESTAMP(SYSDATE(6)), '$1';\"; }\n"
      "  if [ $i = 1 ]; then echo \"SET SESSION lock_wait_timeout = " +
      std::to_string(lock_wait_timeout) +
      ";\"; fi\n"
      "  sized=(";
  for (const auto& t : kDdlSizedTables) body += t.name + " ";
  body +=
      ")\n"
      "  t=${sized[$((i % " + std::to_string(kDdlSizedTables.size()) + "))]}\n"
      "  ddl create \"CREATE TABLE ddl.c$i (id INT PRIMARY KEY, v VARCHAR(64))\"\n"
      "  echo \"INSERT INTO ddl.c$i VALUES (1, 'one $i'), (2, 'two $i'), (3, 'three $i');\"\n"
      "  if [ $i -gt 1 ]; then ddl rename \"RENAME TABLE ddl.c$((i - 1)) TO ddl.r$((i - 1))\"; fi\n"
      "  if [ $i -gt 3 ]; then ddl drop \"DROP TABLE ddl.r$((i - 3))\"; fi\n"
      "  ddl \"alter $t\" \"ALTER TABLE ddl.$t ADD COLUMN x$i INT NOT NULL DEFAULT $i, " + d.rebuild + "\"\n"
      "  ddl truncate \"TRUNCATE TABLE ddl.trunc\"\n"
      // A table that existed before the copy, renamed every round, never back to a name it had:
      // a copy sees the net change of a window, and renamed back and forth an even number of
      // times it kept its name (a clone once reported no rename at all that way).
      "  ddl rename \"RENAME TABLE ddl.ren$((i - 1)) TO ddl.ren$i\"\n"
      "  echo \"INSERT INTO ddl.trunc VALUES (1, 'round $i'), (2, 'again $i');\"\n"
      "  sleep 1";
  return sql_loop(s, "DDL loop", body, max_seconds);
}

std::string timed_sql(const std::string& what, const std::string& statement) {
  return "SELECT 'b', UNIX_TIMESTAMP(SYSDATE(6));\n" + statement + ";\nSELECT 'e', UNIX_TIMESTAMP(SYSDATE(6)), '" +
         what + "';\n";
}

std::string wait_for_ddl_yardstick(Load& ddl) {
  wait_until(60, [&] { return !ddl.running() || ddl_timings(ddl.output()).size() >= 25; });
  if (!ddl.running()) return "the DDL loop failed before the copy\n" + ddl.describe();
  if (ddl_timings(ddl.output()).size() < 25) return "the DDL loop timed under 25 statements in 60 s\n" + ddl.describe();
  return "";
}

std::vector<DdlTiming> ddl_timings(const std::string& out) {
  std::vector<DdlTiming> v;
  double begin = -1;
  for (const auto& line : text::split_lines(out)) {
    const auto f = text::split(line, '\t');
    if (f.size() == 2 && f[0] == "b") begin = std::stod(f[1]);
    if (f.size() == 3 && f[0] == "e" && begin >= 0) {
      v.push_back({begin, std::stod(f[1]) - begin, f[2]});
      begin = -1;
    }
  }
  return v;
}

DdlWindow ddl_window(const std::vector<DdlTiming>& v, double from, double to, DdlCounted counted) {
  DdlWindow w;
  const auto keep_slowest = [](DdlTiming& worst, const DdlTiming& t) {
    if (t.seconds >= worst.seconds) worst = t;
  };
  for (const auto& t : v) {
    const double end = t.begin + t.seconds;
    const bool overlapping = counted == DdlCounted::kOverlapping;
    const bool before = overlapping ? end < from : t.begin <= from;
    const bool during = overlapping ? t.begin <= to && end >= from : t.begin >= from && t.begin <= to;
    if (before) keep_slowest(w.before, t);
    if (during) {
      keep_slowest(w.during, t);
      ++w.n_during;
    }
  }
  return w;
}

std::string DdlWindow::describe(const std::string& name) const {
  return "DDL loop: slowest before the " + name + " " + std::to_string(before.seconds) + " s (" + before.what +
         "), during it " + std::to_string(during.seconds) + " s (" + during.what + "), " + std::to_string(n_during) +
         " timed DDL statements during the " + name;
}

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace it
