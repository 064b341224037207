// `mysqlclone remote` against a real MySQL 9.7 donor (issue 4, acceptance): a clone pulled over
// TLS while the donor is under sysbench load, with 1 and 3 data connections, with and without
// protocol compression, starts as a stock mysqld with no extra step, checks clean, has the MyISAM
// table back empty (the Clone plugin's documented behaviour), replicates from the donor with GTID
// auto-position and then equals the donor table by table. Errors (no clone plugin, no
// BACKUP_ADMIN, wrong password, TLS required but refused, DIR not empty, the donor's session
// killed mid-clone, SIGTERM mid-clone, a MariaDB donor): the typed exit code, one error line,
// and a DIR that a stock mysqld refuses.
//
// Every wait is bounded, every background process is a process group killed by its destructor,
// every server is stopped by it::Server. A server that cannot start fails the test (it::Server
// throws); nothing here skips. No timing is asserted. The cases of a test share one donor (a
// ctest entry per test, each its own process): a donor costs ~5 s to make.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/text.h"
#include "test/integration/load.h"
#include "test/integration/remote.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;
using it::remote_args, it::command_line, it::gtid_executed, it::processlist, it::expect_donor_clean,
    it::innodb_user_tables, it::check_all_tables, it::replica_status, it::data_bytes, it::expect_unfinished,
    it::wait_mid_clone, it::fixed1, it::kSessionsQuery;

const std::string& kFlavour = it::kRemoteFlavour;
// The donor's sysbench data: small, so the suite stays fast (~100 MiB of tables).
constexpr unsigned kTables = 8;
constexpr unsigned kRows = 20000;
constexpr int kMyIsamRows = 500;
using it::kMiB;
// Bounds on one clone (they take ~1 s here; a hang must not eat the suite's time).
constexpr double kLoadedCloneSeconds = 180;
constexpr double kIdleCloneSeconds = 120;
const std::string kInstallPlugin = "INSTALL PLUGIN clone SONAME 'mysql_clone.so'";

// ------------------------------------------------------------------------------------ helpers





// ----------------------------------------------------------------------------- the command line



// -------------------------------------------------------------------------------- donor state


// What the donor counts about connections. All of mysqlclone's connections are TCP and the tests'
// own are over the socket (never TLS), so during a clone the TLS handshakes are mysqlclone's.
// (performance_schema's statement/clone/server count is no measure of COM_CLONEs: seen 1 for 4
// clone connections, the stock recipient's included.)
struct Counters {
  uint64_t connections = 0;  // every connection attempt, the query's own included
  uint64_t ssl_accepts = 0;  // TLS handshakes accepted
};

Counters counters(const it::Server& s) {
  const auto lines = split_lines(s.sql(
      "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Connections';\n"
      "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Ssl_accepts';\n"));
  if (lines.size() != 2) throw std::runtime_error("unexpected counters: " + join(lines, "|"));
  return {std::stoull(lines[0]), std::stoull(lines[1])};
}




// ------------------------------------------------------------------------------- table contents





// ------------------------------------------------------------------------------ refused DIRs


// A failed clone leaves no DIR a stock mysqld starts on: either no DIR at all, or one that the
// stock mysqld of the donor's version refuses.
void expect_refused(const std::string& what, const std::string& target) {
  if (!fs::exists(target)) {
    info(what + ": DIR not created");
    return;
  }
  info(what + ": DIR left with [" + join(it::listing(target), " ") + "]; starting a stock mysqld on it");
  auto a = it::try_start_stock_server(kFlavour, target);
  EXPECT_FALSE(a.started) << what << ": a stock " << kFlavour << " STARTED on " << target << "; its error log:\n"
                          << tail(a.error_log);
  if (!a.started) info(what + ": stock mysqld refused: " + trim(server_errors(a.error_log)).substr(0, 600));
}


// A `remote` that must fail before any data moves: once human (exit code, exactly one error line)
// and once with --json (exit code, the failure document), each into its own DIR, each DIR refused.
// Returns the human error line.
std::string expect_failure(const std::string& what, const it::Server& donor, const std::string& target,
                           const std::vector<std::string>& extra, int code, const std::string& user = "mysqlclone",
                           const std::string& password = "mysqlclone") {
  std::string line;
  for (bool json_output : {false, true}) {
    const std::string dir = json_output ? target + "-json" : target;
    const auto args = remote_args(donor, dir, extra, json_output, user, password);
    auto r = it::mysqlclone_bounded(args, 180);
    const std::string how = what + (json_output ? " (--json)" : "") + ": " + command_line(args);
    EXPECT_EQ(r.exit_code, code) << how << "\n" << describe(r);
    const auto errors = error_lines(r.err);
    EXPECT_EQ(errors.size(), 1u) << how << ": not exactly one error line\n" << describe(r);
    if (json_output) {
      const json doc = parse(r.out);
      EXPECT_TRUE(doc.is_object() && doc.value("ok", true) == false && doc.value("exit_code", 0) == code &&
                  !doc.value("error", "").empty())
          << how << ": no failure document on stdout\n"
          << describe(r);
    } else if (!errors.empty()) {
      line = errors[0];
    }
    expect_refused(how, dir);
  }
  info(what + ": " + line);
  return line;
}

// ------------------------------------------------------------------- 1. clones under load

// The donor: sysbench tables, a MyISAM table with rows, a schema without tables.
void prepare_donor(const it::Server& donor) {
  it::sysbench_prepare(donor, "oltp_read_write", kTables, kRows);
  const std::string nt = it::create_nontransactional_table(donor);
  donor.sql("INSERT INTO " + nt +
            " (n, v) WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < " +
            std::to_string(kMyIsamRows) + ") SELECT i, REPEAT(CHAR(97 + i % 26), 20 + i % 200) FROM seq;\n"
            "CREATE DATABASE empty_schema;\n");
  const std::string n = trim(donor.sql("SELECT COUNT(*) FROM " + nt + ";"));
  if (n != std::to_string(kMyIsamRows)) throw std::runtime_error(nt + " has " + n + " rows on the donor");
}

struct Way {
  int parallel;
  bool compress;
};

std::string way_name(const Way& w) {
  return "--parallel " + std::to_string(w.parallel) + (w.compress ? " --compress" : " (no compression)");
}

// One clone of the loaded donor into a fresh DIR, the way `w` says, and everything the acceptance
// asks of the result.
void clone_under_load(const it::Server& donor, const Way& w) {
  const auto t0 = std::chrono::steady_clock::now();
  // The load: bounded in time (10 min at most), stopped below or killed by its destructor.
  it::Load oltp = it::sysbench_run(donor, "oltp_read_write", kTables, kRows, 2, 600);
  const uint64_t lsn0 = it::current_lsn(donor);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(donor) > lsn0 + 256 * 1024; }))
      << "the load does not write\n"
      << oltp.describe();
  ASSERT_TRUE(oltp.running()) << oltp.describe();

  it::TempDir work;
  const std::string target = work.path() + "/clone";
  std::vector<std::string> extra{"--parallel", std::to_string(w.parallel)};
  if (w.compress) extra.push_back("--compress");
  const auto args = remote_args(donor, target, extra);

  const std::string gtids_before = gtid_executed(donor);
  const Counters c0 = counters(donor);
  auto r = it::mysqlclone_bounded(args, kLoadedCloneSeconds);
  const Counters c1 = counters(donor);  // at once: nothing else connects meanwhile
  const double clone_seconds = it::seconds_since(t0);
  // The load ran for the whole clone. It stops now: what it wrote after the clone's snapshot is
  // for the replication below to bring over, and the checks of DIR (the stock server's start,
  // CHECK TABLE) are no better for a load beside them, only slower.
  const bool load_ran = oltp.running();
  oltp.stop();
  EXPECT_TRUE(load_ran) << "sysbench ended during the clone: " << oltp.describe();
  ASSERT_EQ(r.exit_code, 0) << command_line(args) << "\n"
                            << describe(r) << "\n--- donor error log ---\n"
                            << server_errors(donor.error_log());
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << "stdout is not one JSON document\n" << describe(r);
  info("remote " + way_name(w) + ": " + doc.dump());
  EXPECT_EQ(doc.value("ok", false), true) << doc.dump();
  EXPECT_EQ(doc.value("command", ""), "remote") << doc.dump();
  EXPECT_EQ(fs::weakly_canonical(doc.value("target_dir", "")), fs::weakly_canonical(target)) << doc.dump();
  ASSERT_TRUE(doc.contains("donor") && doc["donor"].is_object()) << doc.dump();
  const std::string donor_version = trim(donor.sql("SELECT VERSION();"));  // 9.7.4-2
  EXPECT_TRUE(contains(doc["donor"].dump(), donor_version.substr(0, donor_version.find('-'))))
      << "the donor's version " << donor_version << " is not in \"donor\": " << doc["donor"].dump();

  // How mysqlclone talked to the donor: every connection over TLS (the default ssl-mode is
  // REQUIRED), and as many data connections as --parallel asks plus at most one auxiliary one
  // (the stock recipient's kind, for KILL). That each data connection carries data is checked
  // mid-clone in RemoteCloneErrors.SigtermMidClone.
  const uint64_t connections = c1.connections - c0.connections - 1;  // minus c1's own
  const uint64_t tls = c1.ssl_accepts - c0.ssl_accepts;
  info(way_name(w) + ": " + std::to_string(connections) + " connection(s) to the donor, " + std::to_string(tls) +
       " over TLS");
  EXPECT_EQ(tls, connections) << "not every connection of mysqlclone to the donor used TLS";
  EXPECT_GE(connections, uint64_t(w.parallel)) << "fewer connections than --parallel " << w.parallel;
  EXPECT_LE(connections, uint64_t(w.parallel) + 1) << "more connections than --parallel " << w.parallel << " + 1";
  expect_donor_clean(donor, way_name(w));

  // DIR's own record of the clone.
  const json meta = parse(it::read_file(target + "/mysqlclone.json"));
  EXPECT_TRUE(meta.is_object() && meta.value("state", "") == "complete")
      << "DIR/mysqlclone.json missing, unreadable or not complete: " << it::read_file(target + "/mysqlclone.json");
  // DIR is finished: no in-progress marker for the stock server to refuse.
  EXPECT_FALSE(fs::exists(target + "/#clone/#status_in_progress"))
      << "#clone/#status_in_progress left in a finished DIR: [" << join(it::listing(target + "/#clone"), " ") << "]";
  info(way_name(w) + ": #clone holds [" + join(it::listing(target + "/#clone"), " ") + "]");

  // A stock mysqld of the donor's root starts on DIR as it is (recovery at first start).
  it::Server copy(kFlavour, "16k", {"--datadir", target});
  const auto t_up = std::chrono::steady_clock::now();

  // The stock server's post-clone fix-ups ran: the MyISAM table exists and is empty, the schema
  // without tables exists, the snapshot's binlog coordinates are recorded.
  EXPECT_EQ(copy.sql("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ld' AND TABLE_NAME = 'nt';"),
            "MyISAM\n");
  EXPECT_EQ(copy.try_sql("SELECT COUNT(*) FROM ld.nt;\n", 60).out, "0\n")
      << "the MyISAM table ld.nt is not there and empty on the copy";
  EXPECT_EQ(copy.sql("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'empty_schema';"), "1\n");
  // The snapshot's binlog coordinates as the stock server recorded them at first start in
  // #clone/#status_recovery (start us, end us, binlog file, position, GTID set). Read before
  // anything queries performance_schema.clone_status: the clone plugin (loaded on the copy) folds
  // the file into its status then, and deletes it.
  const std::string recovery = it::read_file(target + "/#clone/#status_recovery");
  const auto rec = split_lines(recovery);
  info(way_name(w) + ": #status_recovery: " + join(rec, " | "));
  std::string binlog_file, binlog_pos;
  if (rec.size() >= 4) {
    // Seen both ways: "./binlog.000002" and "binlog.000002".
    const std::string f = rec[2].rfind("./", 0) == 0 ? rec[2].substr(2) : rec[2];
    if (f.rfind("binlog.", 0) == 0 && !rec[3].empty() && rec[3] != "0" &&
        rec[3].find_first_not_of("0123456789") == std::string::npos) {
      binlog_file = f;
      binlog_pos = rec[3];
    }
  }
  EXPECT_FALSE(binlog_file.empty()) << "no binlog coordinates in #clone/#status_recovery: '" << recovery
                                    << "'; #clone holds [" << join(it::listing(target + "/#clone"), " ") << "]";
  // Where mysqlclone's --json says to read them when the clone plugin is loaded on the copy (and
  // where a stock recipient's DIR shows them): performance_schema.clone_status.
  const std::string clone_status =
      copy.sql("SELECT STATE, BINLOG_FILE, BINLOG_POSITION FROM performance_schema.clone_status;");
  info(way_name(w) + ": clone_status on the copy: " + trim(clone_status));
  if (!binlog_file.empty()) {
    EXPECT_EQ(clone_status, "Completed\t" + binlog_file + "\t" + binlog_pos + "\n")
        << "performance_schema.clone_status on the copy does not show the snapshot's binlog coordinates "
           "(a stock recipient's DIR does; --json points there: "
        << doc.value("binlog_position", json()).dump() << "); #clone now holds ["
        << join(it::listing(target + "/#clone"), " ") << "]";
  }

  const std::string check = check_all_tables(copy);
  EXPECT_EQ(check, "") << "CHECK TABLE on the copy";

  // The copy's GTID state is the snapshot's: everything the donor had before the clone began, and
  // nothing the donor does not have.
  const std::string gtids_copy = gtid_executed(copy);
  info(way_name(w) + ": the copy's gtid_executed: " + gtids_copy);
  EXPECT_FALSE(gtids_copy.empty());
  if (rec.size() >= 5) {  // the GTID set recorded with the coordinates is the copy's
    EXPECT_EQ(copy.sql("SELECT GTID_SUBSET('" + rec[4] + "', '" + gtids_copy + "'), GTID_SUBSET('" + gtids_copy +
                       "', '" + rec[4] + "');"),
              "1\t1\n")
        << "#status_recovery: " << rec[4] << "\ncopy: " << gtids_copy;
  }
  EXPECT_EQ(donor.sql("SELECT GTID_SUBSET('" + gtids_before + "', '" + gtids_copy + "'), GTID_SUBSET('" +
                      gtids_copy + "', @@GLOBAL.gtid_executed);"),
            "1\t1\n")
      << "donor before the clone: " << gtids_before << "\ncopy: " << gtids_copy;

  // A replica of the donor with GTID auto-position; the copy catches up with all the load wrote.
  auto repl = it::start_replica_of(copy, donor);
  ASSERT_EQ(repl.exit_code, 0) << describe(repl);
  ASSERT_TRUE(it::wait_quiet(donor, 60)) << "the donor still runs statements 60 s after the load was stopped";
  const std::string gtids = gtid_executed(donor);
  auto wait = copy.try_sql("SELECT WAIT_FOR_EXECUTED_GTID_SET('" + gtids + "', 180);\n", 240);
  ASSERT_TRUE(wait.exit_code == 0 && wait.out == "0\n")
      << "the copy did not catch up with " << gtids << ": " << describe(wait) << "\n"
      << it::replica_status(copy);

  // Every InnoDB user table equals the donor's.
  const auto names = innodb_user_tables(donor);
  ASSERT_EQ(names.size(), size_t(kTables)) << join(names, ", ");
  EXPECT_EQ(innodb_user_tables(copy), names);
  const std::string want = it::checksums(donor, names), got = it::checksums(copy, names);
  EXPECT_EQ(got, want) << "CHECKSUM TABLE differs between the copy (got) and the donor (want)\n" << it::replica_status(copy);
  copy.try_sql("STOP REPLICA;\n", 60);
  info(way_name(w) + ": clone " + fixed1(clone_seconds) + " s (load start included), copy up to checksums " +
       fixed1(it::seconds_since(t_up)) + " s, in all " + fixed1(it::seconds_since(t0)) + " s");
}

int failures_so_far() {
  const ::testing::TestResult* r = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < r->total_part_count(); ++i) n += r->GetTestPartResult(i).failed() ? 1 : 0;
  return n;
}

TEST(RemoteClone, UnderLoadFourWays) {
  it::Server donor(kFlavour, "16k", {it::kClonePlugin});
  prepare_donor(donor);
  info("donor " + trim(donor.sql("SELECT VERSION();")) + " on port " + std::to_string(donor.port()) + ", " +
       std::to_string(it::tree_bytes(donor.datadir()) / kMiB) + " MiB in its datadir");
  for (const Way& w : {Way{1, false}, Way{3, false}, Way{1, true}, Way{3, true}}) {
    SCOPED_TRACE(way_name(w));
    const int before = failures_so_far();
    // A failing way (a server that does not start throws) must not hide the others.
    try {
      clone_under_load(donor, w);
    } catch (const std::exception& e) {
      ADD_FAILURE() << way_name(w) << ": " << e.what();
    }
    const int failed = failures_so_far() - before;
    info(way_name(w) + (failed ? ": FAILED (" + std::to_string(failed) + " failure(s))" : ": passed"));
  }
}

// Page sizes other than 16K change extent sizes (the end-of-clone alignment) and page-compressed
// sizes; the stock mysqld of the same page size must start on the result with equal tables.
TEST(RemoteClone, OtherPageSizes) {
  for (const std::string page_size : {"4k", "64k"}) {
    SCOPED_TRACE(page_size);
    it::Server donor(kFlavour, page_size, {it::kClonePlugin});
    donor.sql(
        "SET SESSION cte_max_recursion_depth = 100000;\nCREATE DATABASE ps;\n"
        "CREATE TABLE ps.t (id INT PRIMARY KEY, v TEXT);\n"
        "INSERT INTO ps.t WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 20000) "
        "SELECT i, REPEAT(CHAR(97 + i % 26), 50 + i % 900) FROM seq;\n");
    // ROW_FORMAT=COMPRESSED exists up to 16K pages only.
    if (page_size == "4k") donor.sql("CREATE TABLE ps.z ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=2 AS SELECT * FROM ps.t;\n");
    it::TempDir work;
    const std::string target = work.path() + "/clone";
    auto r = it::mysqlclone_bounded(remote_args(donor, target, {"--parallel", "2"}), kIdleCloneSeconds);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    it::Server copy(kFlavour, page_size, {"--datadir", target});
    EXPECT_EQ(check_all_tables(copy), "") << "CHECK TABLE on the " << page_size << " copy";
    const auto names = innodb_user_tables(donor);
    ASSERT_EQ(names.size(), page_size == "4k" ? 2u : 1u) << join(names, ", ");
    EXPECT_EQ(it::checksums(copy, names), it::checksums(donor, names));
  }
}

// ---------------------------------------------------------------------------------- 2. errors

TEST(RemoteClone, DonorWithoutClonePlugin) {
  it::Server donor(kFlavour, "16k", {it::kNoClonePlugin});
  it::TempDir work;
  const std::string line = expect_failure("donor without the clone plugin", donor, work.path() + "/noplugin", {}, 5);
  EXPECT_TRUE(contains(line, kInstallPlugin)) << "the one-line fix \"" << kInstallPlugin << "\" is not given: " << line;

  // The fix it gives works: the same command then succeeds.
  donor.sql(kInstallPlugin + ";\n");
  auto r = it::mysqlclone_bounded(remote_args(donor, work.path() + "/fixed"), kIdleCloneSeconds);
  EXPECT_EQ(r.exit_code, 0) << "after " << kInstallPlugin << "\n" << describe(r);
  expect_donor_clean(donor, "after the fix");
}

TEST(RemoteClone, DonorWithoutTls) {
  it::Server donor(kFlavour, "16k", {it::kClonePlugin, it::kNoTls});
  // The donor really has no TLS: a client that requires it is refused (checked here too, not
  // only by server.sh).
  auto probe = donor.try_client({"--protocol=TCP", "-h", "127.0.0.1", "-P", std::to_string(donor.port()), "-u",
                                 "mysqlclone", "-pmysqlclone", "--ssl-mode=REQUIRED", "-N", "-B"},
                                "SELECT 1;\n", 60);
  ASSERT_NE(probe.exit_code, 0) << describe(probe);
  ASSERT_TRUE(contains(probe.err, "SSL is required but the server doesn't support it")) << describe(probe);

  it::TempDir work;
  const auto refused = [&](const std::string& what, const std::string& dir, const std::vector<std::string>& extra) {
    const std::string line = expect_failure(what, donor, work.path() + "/" + dir, extra, 3);
    EXPECT_TRUE(contains(lower(line), "tls") || contains(lower(line), "ssl"))
        << what << ": TLS/SSL not mentioned: " << line;
  };
  // The default ssl-mode is REQUIRED. First with the donor's caching_sha2_password cache cold (a
  // plain-text login would need the RSA key exchange), then warm: after one successful login of
  // mysqlclone the donor accepts the fast scramble over plain text, so only the client's own
  // insistence on TLS stands between the default and a plain-text clone.
  refused("TLS required (default), cold auth cache", "cold", {});
  auto warm = donor.try_client({"--protocol=TCP", "-h", "127.0.0.1", "-P", std::to_string(donor.port()), "-u",
                                "mysqlclone", "-pmysqlclone", "--ssl-mode=DISABLED", "--get-server-public-key", "-N",
                                "-B"},
                               "SELECT 1;\n", 60);
  ASSERT_EQ(warm.exit_code, 0) << "a plain-text login of mysqlclone\n" << describe(warm);
  refused("TLS required (default), warm auth cache", "default", {});
  refused("--ssl-mode REQUIRED", "required", {"--ssl-mode", "REQUIRED"});
  refused("--ssl-mode VERIFY_CA", "verify", {"--ssl-mode", "VERIFY_CA", "--ssl-ca", donor.datadir() + "/ca.pem"});
  expect_donor_clean(donor, "TLS refused");

  // Plain text only when asked explicitly: then the clone goes through (default --parallel), and
  // a stock mysqld starts on it.
  const std::string target = work.path() + "/plain";
  const auto args = remote_args(donor, target, {"--ssl-mode", "DISABLED"});
  auto r = it::mysqlclone_bounded(args, kIdleCloneSeconds);
  ASSERT_EQ(r.exit_code, 0) << command_line(args) << "\n" << describe(r);
  info("--ssl-mode DISABLED: " + parse(r.out).value("connections", json()).dump() + " connection(s)");
  expect_donor_clean(donor, "--ssl-mode DISABLED");
  it::Server copy(kFlavour, "16k", {"--datadir", target});
  EXPECT_EQ(check_all_tables(copy), "") << "CHECK TABLE on the plain-text copy";
  info("--ssl-mode DISABLED: the copy started and checks clean");
}

TEST(RemoteClone, MariaDbDonorIsUnsupported) {
  // MariaDB has no Clone protocol: said plainly (the 11.8 test server has TLS, so the default
  // ssl-mode REQUIRED gets as far as the server's identity).
  it::Server donor("mariadb-11.8", "16k");
  it::TempDir work;
  const std::string line = expect_failure("MariaDB donor", donor, work.path() + "/mariadb", {}, 5);
  EXPECT_TRUE(contains(lower(line), "mariadb")) << "MariaDB not named: " << line;
}


class RemoteCloneErrors : public ::testing::Test {
 protected:
  // The cases' shared donor: the clone plugin, TLS, the test accounts and no data of its own.
  it::Server donor_{kFlavour, "16k", {it::kClonePlugin}};
  it::TempDir work_;
};

TEST_F(RemoteCloneErrors, Preflight) {
  const std::string w = work_.path();
  {  // An account without BACKUP_ADMIN (everything else a backup account has).
    donor_.sql(
        "SET SESSION sql_log_bin = 0;\n"
        "CREATE USER 'nobackup'@'%' IDENTIFIED BY 'nobackup';\n"
        "CREATE USER 'nobackup'@'localhost' IDENTIFIED BY 'nobackup';\n"
        "GRANT SELECT, RELOAD, PROCESS, SHOW VIEW, LOCK TABLES, REPLICATION CLIENT ON *.* "
        "TO 'nobackup'@'%', 'nobackup'@'localhost';\n");
    const std::string line = expect_failure("user without BACKUP_ADMIN", donor_, w + "/priv", {}, 4, "nobackup", "nobackup");
    EXPECT_TRUE(contains(line, "BACKUP_ADMIN")) << "BACKUP_ADMIN not named: " << line;
  }
  {
    expect_failure("wrong password", donor_, w + "/password", {}, 3, "mysqlclone", "wrong");
  }
  {  // DIR exists and is not empty: refused, and what is there stays as it was.
    fs::create_directory(w + "/full");
    std::ofstream(w + "/full/keep.txt") << "precious\n";
    const auto args = remote_args(donor_, w + "/full", {}, false);
    auto r = it::mysqlclone_bounded(args, 180);
    EXPECT_EQ(r.exit_code, 6) << command_line(args) << "\n" << describe(r);
    EXPECT_EQ(error_lines(r.err).size(), 1u) << describe(r);
    if (!error_lines(r.err).empty()) info("DIR not empty: " + error_lines(r.err)[0]);
    EXPECT_EQ(it::listing(w + "/full"), std::vector<std::string>{"keep.txt"});
    EXPECT_EQ(it::read_file(w + "/full/keep.txt"), "precious\n");
  }
  expect_donor_clean(donor_, "preflight errors");
  // The donor still serves a clone at once (nothing left holding its one clone slot).
  auto r = it::mysqlclone_bounded(remote_args(donor_, w + "/after"), kIdleCloneSeconds);
  EXPECT_EQ(r.exit_code, 0) << "a clone after the failures\n" << describe(r);
}

TEST_F(RemoteCloneErrors, SigtermMidClone) {
  const std::string target = work_.path() + "/sigterm";
  std::vector<std::string> argv{it::mysqlclone_binary()};
  const auto args = remote_args(donor_, target, {"--max-rate", "5"});
  argv.insert(argv.end(), args.begin(), args.end());
  it::Background proc(argv);
  std::string why;
  ASSERT_TRUE(wait_mid_clone(proc, target, why)) << command_line(args) << "\n" << why;
  // The default --parallel is 4: four connections carry data at once (each past 256 KiB sent).
  const std::string busy = "SELECT COUNT(*) FROM (" + kSessionsQuery + ") x WHERE bytes_sent > 262144;";
  const bool four = it::wait_until(30, [&] { return !proc.running() || donor_.sql(busy) == "4\n"; });
  const std::string sessions = processlist(donor_);
  EXPECT_TRUE(four && proc.running()) << "not 4 data connections carrying data (the default --parallel) "
                                      << "(id, host, command, time, state, bytes sent):\n"
                                      << sessions;
  ASSERT_TRUE(proc.running()) << "mysqlclone ended before it could be interrupted\n" << describe(proc.result());
  info("mysqlclone's sessions on the donor (id, host, command, time, state, bytes sent):\n" + sessions +
       "SIGTERM at " + std::to_string(data_bytes(target)) + " bytes in DIR");
  proc.signal(SIGTERM);
  ASSERT_TRUE(proc.wait_for(60)) << "mysqlclone still runs 60 s after SIGTERM\n" << describe(proc.result());
  const auto res = proc.result();
  EXPECT_EQ(res.exit_code, 9) << describe(res);
  const auto errors = error_lines(res.err);
  EXPECT_EQ(errors.size(), 1u) << describe(res);
  if (!errors.empty()) info("SIGTERM: " + errors[0]);
  const json doc = parse(res.out);
  EXPECT_TRUE(doc.is_object() && doc.value("ok", true) == false && doc.value("exit_code", 0) == 9)
      << "no failure document on stdout\n"
      << describe(res);
  expect_donor_clean(donor_, "SIGTERM");
  expect_unfinished("SIGTERM", target);
  // The donor serves the next clone at once.
  auto r = it::mysqlclone_bounded(remote_args(donor_, work_.path() + "/after"), kIdleCloneSeconds);
  EXPECT_EQ(r.exit_code, 0) << "a clone after the SIGTERM\n" << describe(r);
}

TEST_F(RemoteCloneErrors, DonorSessionKilledMidClone) {
  const std::string target = work_.path() + "/killed";
  std::vector<std::string> argv{it::mysqlclone_binary()};
  // One data connection: the one the donor streams the clone on is then certain.
  const auto args = remote_args(donor_, target, {"--max-rate", "5", "--parallel", "1"});
  argv.insert(argv.end(), args.begin(), args.end());
  it::Background proc(argv);
  std::string why;
  ASSERT_TRUE(wait_mid_clone(proc, target, why)) << command_line(args) << "\n" << why;
  // The clone session: of mysqlclone's sessions (all of them show Command "clone", State
  // "starting"), the one the donor streams the data on, i.e. the one that sent the most bytes.
  const std::string sessions = processlist(donor_);
  const std::string id = trim(donor_.sql("SELECT PROCESSLIST_ID FROM (" + kSessionsQuery +
                                         ") x WHERE bytes_sent > 1048576 ORDER BY bytes_sent DESC LIMIT 1;"));
  ASSERT_FALSE(id.empty()) << "no clone session of mysqlclone on the donor:\n" << sessions;
  info("mysqlclone's sessions on the donor (id, host, command, time, state, bytes sent):\n" + sessions + "KILL " + id + " at " + std::to_string(data_bytes(target)) +
       " bytes in DIR");
  donor_.sql("KILL " + id + ";\n");
  ASSERT_TRUE(proc.wait_for(120)) << "mysqlclone still runs 120 s after KILL " << id << " on the donor\n"
                                  << describe(proc.result());
  const auto res = proc.result();
  EXPECT_EQ(res.exit_code, 10) << describe(res);
  const auto errors = error_lines(res.err);
  EXPECT_EQ(errors.size(), 1u) << describe(res);
  if (!errors.empty()) info("KILL: " + errors[0]);
  const json doc = parse(res.out);
  EXPECT_TRUE(doc.is_object() && doc.value("ok", true) == false && doc.value("exit_code", 0) == 10)
      << "no failure document on stdout\n"
      << describe(res);
  expect_donor_clean(donor_, "KILL");
  expect_unfinished("KILL", target);
}

// SIGKILL (what an OOM kill or a lost host does) once the donor streams its redo, the clone's
// last stage: nothing of ours runs to mark DIR failed, and the hand-over has not happened, so DIR
// must still be refused by the stock mysqld and by `verify`.
TEST_F(RemoteCloneErrors, SigkillDuringRedoStage) {
  // The REDO COPY stage sends the redo written during PAGE COPY: a writer adding 1 MiB rows all
  // through the clone makes it last seconds at 5 MiB/s. The table exists before the clone (the
  // clone's backup lock blocks DDL).
  donor_.sql("CREATE DATABASE IF NOT EXISTS redo_stage;\n"
             "CREATE TABLE redo_stage.big (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB);\n");
  const std::string target = work_.path() + "/redo-stage";
  std::vector<std::string> argv{it::mysqlclone_binary()};
  const auto args = remote_args(donor_, target, {"--max-rate", "5", "--parallel", "1"});
  argv.insert(argv.end(), args.begin(), args.end());
  it::Background proc(argv);
  std::atomic<bool> stop_writing{false};
  std::thread writer([&] {
    for (int i = 0; i < 600 && !stop_writing; ++i) {  // bounded: 600 rows at most
      donor_.sql("INSERT INTO redo_stage.big (b) SELECT REPEAT('r', 1048576);\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  struct StopWriter {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~StopWriter() {
      stop = true;
      thread.join();
    }
  } stop_writer{stop_writing, writer};
  std::string why;
  ASSERT_TRUE(wait_mid_clone(proc, target, why)) << command_line(args) << "\n" << why;
  // The redo stage has begun once a redo file exists in DIR (the donor announces them in it).
  const std::string redo_dir = target + "/#innodb_redo";
  const bool in_redo = it::wait_until(120, [&] {
    if (!proc.running()) return true;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(redo_dir, ec))
      if (e.path().filename().string().rfind("#ib_redo", 0) == 0) return true;
    return false;
  });
  ASSERT_TRUE(in_redo && proc.running()) << "the clone did not reach its redo stage while still running; DIR holds ["
                                         << join(it::listing(target), " ") << "]\n"
                                         << (proc.running() ? std::string() : describe(proc.result()));
  info("SIGKILL in the redo stage at " + std::to_string(data_bytes(target)) + " bytes in DIR");
  proc.signal(SIGKILL);
  ASSERT_TRUE(proc.wait_for(30)) << "mysqlclone still runs 30 s after SIGKILL";
  expect_unfinished("SIGKILL in the redo stage", target);
  if (fs::exists(target + "/mysqlclone.json")) {
    const json meta = parse(it::read_file(target + "/mysqlclone.json"));
    EXPECT_EQ(meta.value("state", ""), "in-progress") << "DIR/mysqlclone.json after SIGKILL";
  }
}

}  // namespace
