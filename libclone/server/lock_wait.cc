#include "libclone/server/lock_wait.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"

namespace mysqlclone {
namespace {

using Clock = std::chrono::steady_clock;

// The server's lock_wait_timeout ends the wait this much after the watchdog would: the watchdog
// goes first so that the blockers can still be read while the statement waits.
constexpr unsigned kServerBackstopSeconds = 1;
constexpr auto kPoll = std::chrono::milliseconds(50);
// Before FLUSH TABLES: how often to look again for statements that would hold up its flush.
constexpr auto kFlushPoll = std::chrono::milliseconds(200);

// Statements of other sessions, for an error line: newlines gone, long ones cut.
std::string one_line(const std::string& s, size_t max = 120) {
  std::string out;
  for (char ch : s) {
    const bool space = ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : ch;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.size() > max ? out.substr(0, max) + "..." : out;
}

// A string literal; doubling the quote is right whatever sql_mode says about backslashes (table
// names that reach here have neither: the server encodes such characters in file names).
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? "''" : std::string(1, ch);
  return out + "'";
}

// Rows of (id, seconds, command, statement, lock held or NULL) as
// "thread 21 (holds BACKUP LOCK INTENTION_EXCLUSIVE; Query for 12 s: ALTER TABLE ...), ...".
std::string describe_threads(const std::vector<Row>& rows) {
  std::string out;
  for (const Row& r : rows) {
    if (!out.empty()) out += ", ";
    out += "thread " + r[0].value_or("?") + " (";
    if (r.size() > 4 && r[4]) out += "holds " + *r[4] + "; ";
    out += r[2].value_or("?") + " for " + r[1].value_or("?") + " s";
    if (r[3]) out += ": " + one_line(*r[3]);
    out += ")";
  }
  return out;
}

// MySQL: who holds a granted metadata lock on the object our statement waits for.
std::string mysql_mdl_holders(unsigned long waiter) {
  return fmt::format(
      "SELECT t.PROCESSLIST_ID, MAX(t.PROCESSLIST_TIME), ANY_VALUE(t.PROCESSLIST_COMMAND), "
      "ANY_VALUE(t.PROCESSLIST_INFO), ANY_VALUE(CONCAT(g.OBJECT_TYPE, ' ', g.LOCK_TYPE)) "
      "FROM performance_schema.metadata_locks w "
      "JOIN performance_schema.threads me ON me.THREAD_ID = w.OWNER_THREAD_ID "
      "JOIN performance_schema.metadata_locks g ON g.OBJECT_TYPE = w.OBJECT_TYPE "
      "AND g.OBJECT_SCHEMA <=> w.OBJECT_SCHEMA AND g.OBJECT_NAME <=> w.OBJECT_NAME "
      "AND g.LOCK_STATUS = 'GRANTED' AND g.OWNER_THREAD_ID <> w.OWNER_THREAD_ID "
      "JOIN performance_schema.threads t ON t.THREAD_ID = g.OWNER_THREAD_ID "
      "WHERE me.PROCESSLIST_ID = {} AND w.LOCK_STATUS = 'PENDING' AND t.PROCESSLIST_ID IS NOT NULL "
      "GROUP BY t.PROCESSLIST_ID ORDER BY 2 DESC LIMIT 5",
      waiter);
}

// Both flavours, when no metadata lock says more (MariaDB has no performance_schema by default;
// a flush wait is no metadata lock): the statements of other sessions that were already running
// when ours began to wait. The writers queued behind ours are left out: they began later (MySQL
// counts whole seconds, so also by the lock they wait for, which ours holds or waits for).
std::string running_before(unsigned long waiter, innodb::Flavour flavour) {
  const bool mysql = flavour == innodb::Flavour::kMysql;
  const std::string table = mysql ? "performance_schema.processlist" : "information_schema.PROCESSLIST";
  const std::string time = mysql ? "TIME" : "TIME_MS";
  return fmt::format(
      "SELECT ID, {1} DIV {2}, COMMAND, INFO FROM {0} "
      "WHERE ID NOT IN ({3}, CONNECTION_ID()) AND USER NOT IN ('system user', 'event_scheduler') "
      "AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID', 'Killed') "
      "AND IFNULL(STATE, '') NOT IN ('Waiting for global read lock', 'Waiting for commit lock', "
      "'Waiting for backup lock') "
      "AND {1} >= (SELECT {1} FROM {0} WHERE ID = {3}) ORDER BY {1} DESC LIMIT 5",
      table, time, mysql ? 1 : 1000, waiter);
}

// MariaDB with the metadata_lock_info plugin: who holds a backup lock, so that an idle holder
// (another backup between its BACKUP STAGEs, a FLUSH TABLES WITH READ LOCK) is named too.
std::string mariadb_backup_lock_holders(unsigned long waiter) {
  return fmt::format(
      "SELECT p.ID, MIN(p.TIME), MIN(p.COMMAND), MIN(p.INFO), MIN(CONCAT(m.LOCK_TYPE, ' ', m.LOCK_MODE)) "
      "FROM information_schema.METADATA_LOCK_INFO m JOIN information_schema.PROCESSLIST p ON p.ID = m.THREAD_ID "
      "WHERE m.LOCK_TYPE = 'Backup lock' AND m.THREAD_ID NOT IN ({}, CONNECTION_ID()) "
      "GROUP BY p.ID ORDER BY 2 DESC LIMIT 5",
      waiter);
}

// Who keeps `waiter`'s statement waiting, for the error line.
std::string blockers(Session& watchdog, unsigned long waiter, innodb::Flavour flavour) {
  std::string failed;
  if (flavour == innodb::Flavour::kMysql) {
    auto rows = watchdog.query(mysql_mdl_holders(waiter));
    if (rows.is_ok() && !rows->empty()) return "blocked by " + describe_threads(*rows);
    if (!rows.is_ok()) failed = rows.status().message();
  }
  auto rows = watchdog.query(running_before(waiter, flavour));
  if (rows.is_ok() && !rows->empty()) return "blocked by " + describe_threads(*rows);
  if (!rows.is_ok()) failed = rows.status().message();
  if (!failed.empty()) return "cannot read who blocks it: " + failed;
  if (flavour == innodb::Flavour::kMariadb) {
    // Without the plugin this fails, which only means the holder cannot be named.
    auto holders = watchdog.query(mariadb_backup_lock_holders(waiter));
    if (holders.is_ok() && !holders->empty()) return "blocked by " + describe_threads(*holders);
  }
  return "no other statement runs, so an idle session holds the lock (in a transaction, under LOCK TABLES, "
         "FLUSH TABLES WITH READ LOCK or BACKUP STAGE; see SHOW PROCESSLIST)";
}

Status interrupted_while(const std::string& sql) {
  return Status::error(ExitCode::kInterrupted, "interrupted by a signal while " + one_line(sql, 80) + " waited for a lock");
}

}  // namespace

namespace {

// Runs `sql` through `run` (on `session`) under the watchdog.
Status run_bounded(Session& session, const LockWait& wait, const std::string& sql, const std::function<Status()>& run) {
  if (interrupted()) return interrupted_while(sql);
  auto watchdog = Session::connect(wait.params);
  if (!watchdog.is_ok()) return watchdog.status().with_context("opening the lock watchdog's connection");
  if (Status s = session.execute("SET SESSION lock_wait_timeout = " +
                                 std::to_string(wait.timeout_seconds + kServerBackstopSeconds));
      !s.is_ok())
    return s;

  const unsigned long waiter = session.thread_id();
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  enum class Verdict { kNone, kTimeout, kInterrupted } verdict = Verdict::kNone;
  std::string why;
  std::thread dog([&] {
    const auto deadline = Clock::now() + std::chrono::seconds(wait.timeout_seconds);
    {
      std::unique_lock lock(mutex);
      while (!done && verdict == Verdict::kNone) {
        if (interrupted())
          verdict = Verdict::kInterrupted;
        else if (Clock::now() >= deadline)
          verdict = Verdict::kTimeout;
        else
          finished.wait_for(lock, kPoll);
      }
      if (done) return;
    }
    // Whatever the statement does meanwhile, the verdict stands: the caller fails and closes
    // the session, so a lock granted at this very moment goes with it.
    if (verdict == Verdict::kTimeout) why = blockers(*watchdog, waiter, wait.flavour);
    if (Status s = watchdog->execute("KILL QUERY " + std::to_string(waiter)); !s.is_ok())
      log_warning("cannot end the waiting {} (thread {}): {}; the server ends it after {} s", one_line(sql, 80), waiter,
                  s.message(), wait.timeout_seconds + kServerBackstopSeconds);
  });
  Status s = run();
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  finished.notify_all();
  dog.join();
  if (verdict == Verdict::kInterrupted) return interrupted_while(sql);
  if (verdict == Verdict::kTimeout)
    return Status::error(ExitCode::kUnsupported,
                         fmt::format("{} waited {} s (--lock-wait-timeout) for a lock and was ended without it; {}",
                                     one_line(sql, 80), wait.timeout_seconds, why));
  return s;
}

}  // namespace

Status run_lock_statement(Session& session, const LockWait& wait, const std::string& sql) {
  return run_bounded(session, wait, sql, [&] { return session.execute(sql); });
}

Result<std::vector<Row>> run_lock_query(Session& session, const LockWait& wait, const std::string& sql) {
  std::vector<Row> rows;
  Status s = run_bounded(session, wait, sql, [&]() -> Status {
    auto r = session.query(sql);
    if (!r.is_ok()) return r.status();
    rows = std::move(r).value();
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  return rows;
}

Status flush_tables_with_read_lock(Session& session, const LockWait& wait, const std::vector<TableName>& tables) {
  std::string sql = "FLUSH TABLES WITH READ LOCK";
  std::string only_these;
  if (!tables.empty()) {
    sql = "FLUSH TABLES ";
    only_these = " AND (m.OBJECT_SCHEMA, m.OBJECT_NAME) IN (";
    for (size_t i = 0; i < tables.size(); ++i) {
      sql += (i ? ", `" : "`") + tables[i].schema + "`.`" + tables[i].name + "`";
      only_these += (i ? ", (" : "(") + quote(tables[i].schema) + ", " + quote(tables[i].name) + ")";
    }
    sql += " WITH READ LOCK";
    only_these += ")";
  }
  const std::string long_users =
      "SELECT t.PROCESSLIST_ID, MAX(t.PROCESSLIST_TIME), ANY_VALUE(t.PROCESSLIST_COMMAND), "
      "ANY_VALUE(t.PROCESSLIST_INFO) FROM performance_schema.metadata_locks m "
      "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
      "WHERE m.OBJECT_TYPE = 'TABLE' AND m.LOCK_STATUS = 'GRANTED' AND t.PROCESSLIST_COMMAND = 'Query' "
      "AND t.PROCESSLIST_TIME >= 1 AND t.PROCESSLIST_ID <> CONNECTION_ID()" +
      only_these + " GROUP BY t.PROCESSLIST_ID ORDER BY 2 DESC LIMIT 5";
  const auto deadline = Clock::now() + std::chrono::seconds(wait.timeout_seconds);
  for (bool logged = false;; logged = true) {
    if (interrupted()) return interrupted_while(sql);
    auto rows = session.query(long_users);
    if (!rows.is_ok()) {
      // An account without SELECT on performance_schema cannot look: the watchdog still bounds
      // the wait, only a statement that outlives it may keep the flushed tables busy.
      log_warning("cannot look for statements that would hold up {}: {}", one_line(sql, 80), rows.status().message());
      break;
    }
    if (rows->empty()) break;
    if (Clock::now() >= deadline)
      return Status::error(ExitCode::kUnsupported,
                           fmt::format("{} was not run: after {} s (--lock-wait-timeout) {} still had a table open "
                                       "that it must flush",
                                       one_line(sql, 80), wait.timeout_seconds, describe_threads(*rows)));
    if (!logged) log_info("waiting for {} to end before {}", describe_threads(*rows), one_line(sql, 80));
    std::this_thread::sleep_for(kFlushPoll);
  }
  const auto left = std::chrono::ceil<std::chrono::seconds>(deadline - Clock::now()).count();
  return run_lock_statement(session, {wait.params, wait.flavour, unsigned(std::max<int64_t>(left, 1))}, sql);
}

}  // namespace mysqlclone
