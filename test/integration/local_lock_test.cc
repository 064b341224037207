// `mysqlclone local` never waits for a lock without bound (issue 9, defect 3): each lock
// statement that is held up by another session ends after --lock-wait-timeout with exit 5 and one
// error line naming the blocking thread, and at once on SIGTERM with exit 9; either way nothing of
// ours stays on the server, the target is left failed, and a writer that queued behind our
// waiting statement never stalls longer than the timeout.
//
// Real blockers, each checked by hand to make exactly that statement wait:
//   MySQL LOCK INSTANCE FOR BACKUP: an ALTER TABLE that holds the backup lock (intention
//     exclusive) while it waits for a transaction that read the table;
//   MySQL FLUSH TABLES WITH READ LOCK (global, as with an encoded MyISAM file name): a session
//     idle under LOCK TABLES ... WRITE; writers queue behind the pending global read lock;
//   MySQL, the same FLUSH with a long SELECT running: never sent (a flush once sent would make
//     every later statement on the table wait for the SELECT, even after it was ended);
//   MySQL FLUSH TABLES lk.m WITH READ LOCK (MyISAM data): a session idle under LOCK TABLES lk.m;
//   MariaDB BACKUP STAGE BLOCK_DDL: a long write to a MyISAM table; MyISAM writers queue behind;
//   MariaDB BACKUP STAGE START: another backup's session, idle after its own BACKUP STAGE START.
//
// One server per flavour serves all its cases; a server that cannot start fails the test.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "libclone/server/session.h"
#include "test/integration/harness.h"
#include "test/integration/load.h"
#include "test/integration/text.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using mysqlclone::Session;
using namespace it::text;

constexpr unsigned kTimeout = 3;         // --lock-wait-timeout of the timeout cases
constexpr double kStallSlack = 2.0;      // what a writer may stall beyond it (a loaded test host)
constexpr double kSignalSeconds = 2.0;   // SIGTERM to exit, at most



// A root session over the server's socket (the test's own sessions: blockers and writers).
std::unique_ptr<Session> root_session(const it::Server& s) {
  mysqlclone::ConnectionParams p;
  p.user = "root";
  p.socket = s.socket();
  auto session = Session::connect(p);
  if (!session.is_ok()) throw std::runtime_error("cannot connect to " + s.flavour() + ": " + session.status().message());
  return std::make_unique<Session>(std::move(session).value());
}

void must(const mysqlclone::Status& s) {
  if (!s.is_ok()) throw std::runtime_error(s.message());
}

// A statement that blocks (an ALTER waiting for a lock, a long SELECT) on its own session and
// thread; stop() ends it with KILL QUERY should it still run.
class Blocking {
 public:
  Blocking(const it::Server& s, std::string sql) : server_(s), session_(root_session(s)) {
    id_ = session_->thread_id();
    thread_ = std::thread([this, sql = std::move(sql)] { (void)session_->execute(sql); });
  }
  ~Blocking() { stop(); }
  unsigned long id() const { return id_; }
  void stop() {
    if (!thread_.joinable()) return;
    (void)root_session(server_)->execute("KILL QUERY " + std::to_string(id_));
    thread_.join();
  }

 private:
  const it::Server& server_;
  std::unique_ptr<Session> session_;
  unsigned long id_ = 0;
  std::thread thread_;
};

// INSERTs into `table` one after another, timing each: the longest is how long the server's
// writers stalled.
class Writer {
 public:
  Writer(const it::Server& s, std::string table) : server_(s), session_(root_session(s)) {
    must(session_->execute("SET SESSION lock_wait_timeout = 60"));
    thread_ = std::thread([this, sql = "INSERT INTO " + table + " (v) VALUES (1)"] {
      while (!stop_) {
        const auto t = Clock::now();
        if (auto s = session_->execute(sql); !s.is_ok()) {
          std::lock_guard lock(mutex_);
          error_ = s.message();
          break;
        }
        const double took = it::seconds_since(t);
        std::lock_guard lock(mutex_);
        longest_ = std::max(longest_, took);
        ++done_;
      }
      exited_ = true;
    });
  }
  ~Writer() { stop(); }
  unsigned long done() {
    std::lock_guard lock(mutex_);
    return done_;
  }
  // Stops it; a writer still stuck after 10 s is ended with KILL QUERY.
  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    if (!it::wait_until(10, [&] { return exited_.load(); }))
      (void)root_session(server_)->execute("KILL QUERY " + std::to_string(session_->thread_id()));
    thread_.join();
  }
  double longest() {
    std::lock_guard lock(mutex_);
    return longest_;
  }
  std::string error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  const it::Server& server_;
  std::unique_ptr<Session> session_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, exited_{false};
  std::mutex mutex_;
  double longest_ = 0;
  unsigned long done_ = 0;
  std::string error_;
};

std::string processlist(const it::Server& s) {
  const std::string table = s.is_mariadb() ? "information_schema.PROCESSLIST" : "performance_schema.processlist";
  return s.try_sql("SELECT ID, USER, COMMAND, TIME, STATE, LEFT(INFO, 100) FROM " + table + ";", 30).out;
}

// Whether thread `id` waits in a state starting with `state` (e.g. "Waiting for table metadata").
bool thread_waits(const it::Server& s, unsigned long id, const std::string& state) {
  const std::string table = s.is_mariadb() ? "information_schema.PROCESSLIST" : "performance_schema.processlist";
  return contains(s.sql("SELECT STATE FROM " + table + " WHERE ID = " + std::to_string(id) + ";"), state);
}

// Whether a statement of the backup account waits for a lock (the backup reached its lock).
bool backup_waits(const it::Server& s) {
  const std::string table = s.is_mariadb() ? "information_schema.PROCESSLIST" : "performance_schema.processlist";
  return trim(s.sql("SELECT COUNT(*) FROM " + table + " WHERE USER = 'mysqlclone' AND STATE LIKE 'Waiting for%';")) !=
         "0";
}

std::vector<std::string> local_args(const it::Server& s, const std::string& target, unsigned timeout,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"local", "--target-dir", target, "-S", s.socket(), "-u", "mysqlclone", "-pmysqlclone",
                                "--lock-wait-timeout", std::to_string(timeout)};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string target_state(const std::string& target) {
  auto meta = parse(it::read_file(target + "/mysqlclone.json"));
  return meta.is_object() ? meta.value("state", "") : "";
}

// After the backup ended: none of its sessions is left, so none of its locks is; and the
// server takes a global read lock and a DDL within 5 s once the test's blockers are gone.
void expect_nothing_held(const it::Server& s) {
  EXPECT_TRUE(it::wait_until(5, [&] { return it::sessions_of(s, "mysqlclone") == 0; }))
      << "sessions of mysqlclone are left\n" << processlist(s);
  auto r = s.try_sql(
      "SET SESSION lock_wait_timeout = 5;\n"
      "FLUSH TABLES WITH READ LOCK;\nUNLOCK TABLES;\n"
      "CREATE TABLE lk.probe (id INT PRIMARY KEY) ENGINE=InnoDB;\nDROP TABLE lk.probe;\n",
      60);
  EXPECT_EQ(r.exit_code, 0) << "locks and DDL after the backup ended\n" << describe(r) << "\n" << processlist(s);
}

std::string thread(unsigned long id) { return "thread " + std::to_string(id) + " "; }

// The timeout case: `local` ends after kTimeout with exit 5 and one error line that says all of
// `says` (the statement, the blocking thread); the writer resumes at once and never stalled
// longer than the timeout.
void expect_timeout(const it::Server& s, Writer& writer, const std::vector<std::string>& says,
                    const std::vector<std::string>& extra = {}) {
  it::TempDir dir;
  const std::string target = dir.path() + "/copy";
  const auto started = Clock::now();
  auto r = it::mysqlclone_bounded(local_args(s, target, kTimeout, extra), 120);
  const double took = it::seconds_since(started);
  info(s.flavour() + ": local ended after " + std::to_string(took) + " s: " + trim(join(error_lines(r.err), " | ")));
  EXPECT_EQ(r.exit_code, 5) << describe(r) << "\n" << processlist(s);
  const auto errors = error_lines(r.err);
  ASSERT_EQ(errors.size(), 1u) << describe(r);
  for (const std::string& what : says) EXPECT_TRUE(contains(errors[0], what)) << "no '" << what << "' in\n" << errors[0];
  EXPECT_NE(target_state(target), "complete");
  const unsigned long written = writer.done();
  EXPECT_TRUE(it::wait_until(kStallSlack, [&] { return writer.done() > written; }))
      << "the writer did not resume after the backup ended\n" << processlist(s);
  EXPECT_TRUE(writer.error().empty()) << writer.error();
  info(s.flavour() + ": the writer's longest INSERT took " + std::to_string(writer.longest()) + " s");
  EXPECT_LE(writer.longest(), kTimeout + kStallSlack) << "writers stalled longer than --lock-wait-timeout";
}

// The signal case: `local` waits (with a long timeout) until SIGTERM, then exits 9 at once.
void expect_sigterm_ends_wait(const it::Server& s, const std::vector<std::string>& extra = {}) {
  it::TempDir dir;
  const std::string target = dir.path() + "/copy";
  std::vector<std::string> argv{it::mysqlclone_binary()};
  for (const auto& a : local_args(s, target, 600, extra)) argv.push_back(a);
  it::Background backup(argv);
  ASSERT_TRUE(it::wait_until(60, [&] { return backup_waits(s) || !backup.running(); }))
      << "the backup never waited for its lock\n" << processlist(s);
  ASSERT_TRUE(backup.running()) << describe(backup.result());
  const auto sent = Clock::now();
  backup.signal(SIGTERM);
  const bool ended = backup.wait_for(30);
  const double took = it::seconds_since(sent);
  info(s.flavour() + ": SIGTERM to exit: " + std::to_string(took) + " s");
  ASSERT_TRUE(ended) << "still running 30 s after SIGTERM\n" << processlist(s);
  EXPECT_EQ(backup.exit_code(), 9) << describe(backup.result());
  EXPECT_LE(took, kSignalSeconds);
  EXPECT_EQ(error_lines(backup.err()).size(), 1u) << backup.err();
  EXPECT_EQ(target_state(target), "failed") << it::read_file(target + "/mysqlclone.json");
}

// ------------------------------------------------------------------------------------ servers

// One server per flavour for all its cases, started by the first and stopped after the last.
class LockTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { server_.reset(); }
  const it::Server& server(const std::string& flavour, const std::string& setup) {
    if (server_ && server_->flavour() != flavour) server_.reset();
    if (!server_) {
      server_ = std::make_unique<it::Server>(flavour, "16k");
      server_->sql(setup);
    }
    return *server_;
  }
  static std::unique_ptr<it::Server> server_;
};
std::unique_ptr<it::Server> LockTest::server_;

const char* const kMysqlSetup =
    "CREATE DATABASE lk;\n"
    "CREATE TABLE lk.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;\n"
    "INSERT INTO lk.t (v) VALUES (1);\n"
    "CREATE TABLE lk.w (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;\n"
    "CREATE TABLE lk.h (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;\n";

const char* const kMariadbSetup =
    "CREATE DATABASE lk;\n"
    "CREATE TABLE lk.m (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=MyISAM;\n"
    "INSERT INTO lk.m (v) VALUES (1);\n"
    "CREATE TABLE lk.w (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=MyISAM;\n";

class LocalLockMysql : public LockTest {
 protected:
  const it::Server& mysql() { return server("mysql-9.7", kMysqlSetup); }
};

class LocalLockMariadb : public LockTest {
 protected:
  const it::Server& mariadb() { return server("mariadb-10.11", kMariadbSetup); }
};

// A MyISAM table with data while it lives: MySQL's local then takes FLUSH TABLES lk.`name` WITH
// READ LOCK, or the global read lock when the file name is encoded (`m-x` is m@002dx.MYD).
struct MyisamTable {
  MyisamTable(const it::Server& s, std::string quoted) : server(s), name("lk." + std::move(quoted)) {
    s.sql("CREATE TABLE " + name + " (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=MyISAM;\nINSERT INTO " + name +
          " (v) VALUES (1);\n");
  }
  ~MyisamTable() { (void)server.try_sql("DROP TABLE " + name + ";\n", 60); }
  const it::Server& server;
  std::string name;
};

// An ALTER TABLE lk.t that waits for a transaction which read lk.t, holding the backup lock.
struct PendingDdl {
  explicit PendingDdl(const it::Server& s) : reader(root_session(s)) {
    must(reader->execute("BEGIN"));
    must(reader->execute("SELECT * FROM lk.t"));
    alter = std::make_unique<Blocking>(s, "ALTER TABLE lk.t COMMENT = 'blocked'");
    if (!it::wait_until(10, [&] { return thread_waits(s, alter->id(), "Waiting for table metadata lock"); }))
      throw std::runtime_error("the ALTER never waited\n" + processlist(s));
  }
  ~PendingDdl() {
    (void)reader->execute("ROLLBACK");
    alter->stop();
  }
  std::unique_ptr<Session> reader;
  std::unique_ptr<Blocking> alter;
};

// What is copied again under the locks (--lock-ddl=reduced): the first copy of a MyISAM table
// nobody writes, taken before DDL is blocked, is kept; with myisam_use_mmap=ON its data file is
// copied again all the same (writes through a mapping move its change time only now and then).
void copied_again_only_when_it_may_have_changed(const it::Server& s) {
  MyisamTable idle(s, "idle");
  // Closed (the lock's own FLUSH TABLES would write an open table's index header), then left for
  // longer than a change time takes to settle (1 s).
  s.sql("FLUSH TABLES;\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto copied_again = [&](const std::string& target) {
    auto r = it::mysqlclone_bounded(local_args(s, target, 60), 300);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    std::set<std::string> again;
    const auto meta = parse(it::read_file(target + "/mysqlclone.json"));
    for (const auto& name : meta.value("copied_again_under_lock", nlohmann::json::array())) again.insert(name);
    info(s.flavour() + ": copied again under the locks: " + meta.value("copied_again_under_lock", nlohmann::json()).dump());
    return again;
  };
  it::TempDir dir;
  const auto unmapped = copied_again(dir.path() + "/unmapped");
  EXPECT_EQ(unmapped.count("lk/idle.MYD"), 0u);
  EXPECT_EQ(unmapped.count("lk/idle.MYI"), 0u);
  s.sql("SET GLOBAL myisam_use_mmap = ON;\nFLUSH TABLES;\n");
  const auto mapped = copied_again(dir.path() + "/mapped");
  s.sql("SET GLOBAL myisam_use_mmap = OFF;\nFLUSH TABLES;\n");
  EXPECT_EQ(mapped.count("lk/idle.MYD"), 1u);
  EXPECT_EQ(mapped.count("lk/idle.MYI"), 0u);
}

// ------------------------------------------------------------------------------------- MySQL

// --lock-ddl=full: the instance lock comes first.
TEST_F(LocalLockMysql, InstanceLockTimesOutNamingTheDdl) {
  const it::Server& s = mysql();
  Writer writer(s, "lk.w");
  {
    PendingDdl ddl(s);
    expect_timeout(s, writer, {"LOCK INSTANCE FOR BACKUP", thread(ddl.alter->id())}, {"--lock-ddl", "full"});
  }
  writer.stop();
  expect_nothing_held(s);
}

TEST_F(LocalLockMysql, SigtermEndsInstanceLockWait) {
  const it::Server& s = mysql();
  {
    PendingDdl ddl(s);
    expect_sigterm_ends_wait(s, {"--lock-ddl", "full"});
  }
  expect_nothing_held(s);
}

// --lock-ddl=reduced (the default): the first wait is the dictionary's index ids, read before
// the copy: the view opens every table and queues behind the waiting ALTER like any reader.
TEST_F(LocalLockMysql, IndexIdsReadTimesOutNamingTheDdl) {
  const it::Server& s = mysql();
  Writer writer(s, "lk.w");
  {
    PendingDdl ddl(s);
    expect_timeout(s, writer, {"INFORMATION_SCHEMA.INNODB_INDEXES", thread(ddl.alter->id())});
  }
  writer.stop();
  expect_nothing_held(s);
}

TEST_F(LocalLockMysql, SigtermEndsIndexIdsReadWait) {
  const it::Server& s = mysql();
  {
    PendingDdl ddl(s);
    expect_sigterm_ends_wait(s);
  }
  expect_nothing_held(s);
}

TEST_F(LocalLockMysql, GlobalReadLockTimesOutAndWritersResume) {
  const it::Server& s = mysql();
  MyisamTable encoded(s, "`m-x`");
  Writer writer(s, "lk.w");
  {
    auto holder = root_session(s);
    must(holder->execute("LOCK TABLES lk.h WRITE"));  // then idle: the global read lock waits
    expect_timeout(s, writer, {"FLUSH TABLES WITH READ LOCK", thread(holder->thread_id())});
    EXPECT_GT(writer.longest(), kTimeout - 1.0) << "the writer never queued behind the read lock: no test";
  }
  writer.stop();
  expect_nothing_held(s);
}

TEST_F(LocalLockMysql, GlobalReadLockIsNotSentWhileALongSelectRuns) {
  const it::Server& s = mysql();
  MyisamTable encoded(s, "`m-x`");
  Writer writer(s, "lk.w");
  {
    Blocking select(s, "SELECT SLEEP(60) FROM lk.t");
    // Long by then: local only holds off for statements running a second or more.
    ASSERT_TRUE(it::wait_until(10, [&] {
      return std::atoi(s.sql("SELECT TIME FROM performance_schema.processlist WHERE ID = " +
                             std::to_string(select.id()) + ";").c_str()) >= 2;
    })) << processlist(s);
    expect_timeout(s, writer, {"FLUSH TABLES WITH READ LOCK was not run", thread(select.id())});
  }
  writer.stop();
  EXPECT_LT(writer.longest(), 1.0) << "a writer stalled although the flush was never sent";
  expect_nothing_held(s);
}

TEST_F(LocalLockMysql, SigtermEndsGlobalReadLockWait) {
  const it::Server& s = mysql();
  MyisamTable encoded(s, "`m-x`");
  {
    auto holder = root_session(s);
    must(holder->execute("LOCK TABLES lk.h WRITE"));
    expect_sigterm_ends_wait(s);
  }
  expect_nothing_held(s);
}

// The usual case: a read lock on the MyISAM tables only, held up by a session idle under LOCK
// TABLES on one of them. Writers of other tables never wait.
TEST_F(LocalLockMysql, TableReadLockTimesOut) {
  const it::Server& s = mysql();
  MyisamTable m(s, "m");
  Writer writer(s, "lk.w");
  {
    auto holder = root_session(s);
    must(holder->execute("LOCK TABLES lk.m WRITE"));
    expect_timeout(s, writer, {"FLUSH TABLES `lk`.`m` WITH READ LOCK", thread(holder->thread_id())});
  }
  writer.stop();
  EXPECT_LT(writer.longest(), kStallSlack) << "a writer of another table stalled";
  expect_nothing_held(s);
}

TEST_F(LocalLockMysql, OnlyFilesThatMayHaveChangedAreCopiedAgainUnderTheLocks) {
  copied_again_only_when_it_may_have_changed(mysql());
}

// ----------------------------------------------------------------------------------- MariaDB

TEST_F(LocalLockMariadb, BlockDdlTimesOutAndWritersResume) {
  const it::Server& s = mariadb();
  Writer writer(s, "lk.w");
  {
    Blocking write(s, "INSERT INTO lk.m (v) SELECT SLEEP(60)");
    ASSERT_TRUE(it::wait_until(10, [&] { return thread_waits(s, write.id(), "User sleep"); })) << processlist(s);
    expect_timeout(s, writer, {"BACKUP STAGE BLOCK_DDL", thread(write.id())});
    EXPECT_GT(writer.longest(), kTimeout - 1.0) << "the writer never queued behind BLOCK_DDL: no test";
  }
  writer.stop();
  expect_nothing_held(s);
}

// BACKUP STAGE START waits for another backup, whose session is idle between its stages: the
// processlist cannot name it, the metadata_lock_info plugin can.
TEST_F(LocalLockMariadb, StartTimesOutBehindAnotherBackup) {
  const it::Server& s = mariadb();
  Writer writer(s, "lk.w");
  {
    auto other = root_session(s);
    must(other->execute("BACKUP STAGE START"));
    {
      it::TempDir dir;
      auto r = it::mysqlclone_bounded(local_args(s, dir.path() + "/copy", kTimeout), 120);
      EXPECT_EQ(r.exit_code, 5) << describe(r);
      const auto errors = error_lines(r.err);
      ASSERT_EQ(errors.size(), 1u) << describe(r);
      info(s.flavour() + " without metadata_lock_info: " + errors[0]);
      EXPECT_TRUE(contains(errors[0], "BACKUP STAGE START")) << errors[0];
      EXPECT_TRUE(contains(errors[0], "idle session")) << errors[0];
    }
    s.sql("INSTALL SONAME 'metadata_lock_info';");
    expect_timeout(s, writer, {"BACKUP STAGE START", thread(other->thread_id())});
    s.sql("UNINSTALL SONAME 'metadata_lock_info';");
  }
  writer.stop();
  expect_nothing_held(s);
}

TEST_F(LocalLockMariadb, SigtermEndsBlockDdlWait) {
  const it::Server& s = mariadb();
  {
    Blocking write(s, "INSERT INTO lk.m (v) SELECT SLEEP(60)");
    ASSERT_TRUE(it::wait_until(10, [&] { return thread_waits(s, write.id(), "User sleep"); })) << processlist(s);
    expect_sigterm_ends_wait(s);
  }
  expect_nothing_held(s);
}

TEST_F(LocalLockMariadb, OnlyFilesThatMayHaveChangedAreCopiedAgainUnderTheLocks) {
  copied_again_only_when_it_may_have_changed(mariadb());
}

}  // namespace
