// `mysqlclone remote` without the donor's backup lock (issue 14, part 1): a clone of a real MySQL
// 9.7 donor under sysbench load and a DDL loop (CREATE, ALTER ... ADD COLUMN, RENAME, DROP,
// TRUNCATE every second on tables of several sizes) succeeds, applies the donor's DDL
// descriptors, starts as a stock mysqld, checks clean, replicates from its position and then
// equals the donor table by table, the DDL tables included; the DDL loop is never blocked more
// than 1 s. A `remote` killed with SIGKILL at 10 points across the clone never leaves the
// donor's DDL blocked: after each, DDL on the donor succeeds within 1 s. And `--block-ddl` keeps
// the old behaviour: the donor's DDL waits while the clone runs.
//
// Every wait is bounded, every background process is a process group killed by its destructor,
// every server is stopped by it::Server. A server that cannot start fails the test (it::Server
// throws); nothing here skips.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/load.h"
#include "test/integration/remote.h"
#include "test/integration/text.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;

constexpr unsigned kDonorTables = 4;
constexpr unsigned kDonorRows = 20000;

// The donor: sysbench tables and the DDL loop's tables of several sizes (it::prepare_ddl_tables).
void prepare_ddl_donor(const it::Server& donor) {
  it::sysbench_prepare(donor, "oltp_read_write", kDonorTables, kDonorRows);
  it::prepare_ddl_tables(donor, it::kMysqlDdl);
}

// DDL on the donor now, in one session that waits at most 1 s for any lock: a CREATE, an
// in-place rebuild and a DROP. Returns "" when all succeeded within 1 s (server clock), else why.
std::string ddl_probe(const it::Server& donor, const std::string& table) {
  auto r = donor.try_sql("SET SESSION lock_wait_timeout = 1;\nSELECT UNIX_TIMESTAMP(SYSDATE(6));\n"
                         "CREATE TABLE " + table + " (id INT PRIMARY KEY, v INT);\n"
                         "ALTER TABLE " + table + " ADD COLUMN w INT, ALGORITHM=INPLACE;\n"
                         "DROP TABLE " + table + ";\nSELECT UNIX_TIMESTAMP(SYSDATE(6));\n",
                         60);
  if (r.exit_code != 0) return "DDL failed: " + describe(r);
  const auto lines = split_lines(r.out);
  if (lines.size() != 2) return "unexpected output: " + r.out;
  const double took = std::stod(lines[1]) - std::stod(lines[0]);
  if (took > 1.0) return "DDL took " + it::fixed1(took) + " s";
  return "";
}

// ---------------------------------------------------------------- 1. a clone under a DDL loop

TEST(RemoteDdl, CloneUnderLoadAndDdlLoop) {
  it::Server donor(it::kRemoteFlavour, "16k", {it::kClonePlugin});
  prepare_ddl_donor(donor);
  donor.sql("CREATE DATABASE kp;\n");
  it::Load oltp = it::sysbench_run(donor, "oltp_read_write", kDonorTables, kDonorRows, 1, 600);
  // lock_wait_timeout = 1: a metadata or backup lock held longer ends the loop.
  it::Load ddl = it::ddl_loop(donor, it::kMysqlDdl, 600, 1);
  ASSERT_EQ(it::wait_for_ddl_yardstick(ddl), "");
  ASSERT_TRUE(oltp.running()) << oltp.describe();

  it::TempDir work;
  const std::string target = work.path() + "/clone";
  // Throttled so that the clone spans many rounds of the loop (~100 MiB at 8 MiB/s).
  const auto args = it::remote_args(donor, target, {"--parallel", "2", "--max-rate", "8"});
  const double clone_begin = it::now_epoch();
  auto r = it::mysqlclone_bounded(args, 300);
  const double clone_end = it::now_epoch();
  EXPECT_TRUE(ddl.running()) << "the DDL loop failed during the clone (a lock held > 1 s?)\n" << ddl.describe();
  ASSERT_EQ(r.exit_code, 0) << it::command_line(args) << "\n"
                            << describe(r) << "\n--- donor error log ---\n"
                            << server_errors(donor.error_log());
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << describe(r);
  info("remote under DDL: " + it::fixed1(clone_end - clone_begin) + " s; concurrent_ddl " +
       doc.value("concurrent_ddl", json()).dump());
  for (const auto& line : split_lines(r.err))
    if (contains(line, "clone stage")) info(line);
  // The loop ran DDL through the clone, and the clone saw it: files created, renamed, deleted.
  ASSERT_TRUE(doc.contains("concurrent_ddl") && doc["concurrent_ddl"].is_object()) << doc.dump();
  for (const char* k : {"created", "renamed", "deleted"})
    EXPECT_GT(doc["concurrent_ddl"].value(k, 0), 0) << k << ": " << doc.dump();
  it::expect_donor_clean(donor, "remote under DDL");

  // Never blocked more than 1 s: no statement of the loop during the clone took more than 1 s
  // over the slowest one before it.
  const it::DdlWindow w = it::ddl_window(it::ddl_timings(ddl.output()), clone_begin, clone_end);
  info(w.describe("clone"));
  EXPECT_GE(w.n_during, 10u) << "the DDL loop hardly ran during the clone";
  EXPECT_LE(w.during.seconds, w.before.seconds + 1.0) << "a DDL statement was blocked during the clone: " << w.during.what;

  // The loads stop (what they wrote after the clone's snapshot is for the replication below to
  // bring over); the stock mysqld starts on DIR and everything checks.
  ddl.stop();
  oltp.stop();
  it::Server copy(it::kRemoteFlavour, "16k", {"--datadir", target});
  EXPECT_EQ(it::check_all_tables(copy), "") << "CHECK TABLE on the copy";
  auto repl = it::start_replica_of(copy, donor);
  ASSERT_EQ(repl.exit_code, 0) << describe(repl);
  ASSERT_TRUE(it::wait_quiet(donor, 60)) << "the donor still runs statements 60 s after the loads were stopped";
  const std::string gtids = it::gtid_executed(donor);
  auto wait = copy.try_sql("SELECT WAIT_FOR_EXECUTED_GTID_SET('" + gtids + "', 180);\n", 240);
  ASSERT_TRUE(wait.exit_code == 0 && wait.out == "0\n")
      << "the copy did not catch up with " << gtids << ": " << describe(wait) << "\n"
      << it::replica_status(copy);
  const auto names = it::innodb_user_tables(donor);
  EXPECT_EQ(it::innodb_user_tables(copy), names);
  size_t ddl_tables = 0;
  for (const auto& n : names) ddl_tables += n.rfind("`ddl`.", 0) == 0 ? 1 : 0;
  info("comparing " + std::to_string(names.size()) + " InnoDB tables, " + std::to_string(ddl_tables) +
       " of them the DDL loop's");
  EXPECT_EQ(it::checksums(copy, names), it::checksums(donor, names))
      << "CHECKSUM TABLE differs between the copy and the donor\n"
      << it::replica_status(copy);
}

// ----------------------------------------------------------- 2. SIGKILL never blocks the donor

// A throttled `remote --parallel 2` under light load, killed with SIGKILL at 10 points: right
// after it starts, at 8 points through its file copy, and once each in its page and redo copy
// stages. After each, DDL on the donor succeeds within 1 s, the guard has ended the clone's
// sessions on the donor, and DIR is not a finished clone.
TEST(RemoteDdl, SigkillNeverLeavesDonorDdlBlocked) {
  it::Server donor(it::kRemoteFlavour, "16k", {it::kClonePlugin});
  it::sysbench_prepare(donor, "oltp_read_write", kDonorTables, kDonorRows);
  donor.sql("CREATE DATABASE kp;\n");
  it::Load oltp = it::sysbench_run(donor, "oltp_read_write", kDonorTables, kDonorRows, 1, 900);
  it::TempDir work;
  const std::vector<std::string> extra{"--parallel", "2", "--max-rate", "10"};

  // How long the whole clone takes here: the file-copy points are spread over it.
  const auto t0 = std::chrono::steady_clock::now();
  auto full = it::mysqlclone_bounded(it::remote_args(donor, work.path() + "/full", extra), 300);
  const double full_seconds = it::seconds_since(t0);
  ASSERT_EQ(full.exit_code, 0) << describe(full);
  it::expect_donor_clean(donor, "the reference clone");
  info("reference clone: " + it::fixed1(full_seconds) + " s");

  struct Point {
    std::string name;
    double after_seconds;  // < 0: at the stage named by `stage` in mysqlclone's log
    std::string stage;
  };
  std::vector<Point> points{{"at start", 0, ""}};
  for (int k = 1; k <= 8; ++k)
    points.push_back({"file copy " + std::to_string(k) + "/9", full_seconds * k / 10.0, ""});
  points.push_back({"page copy", -1, "clone stage: PAGE COPY"});
  points.push_back({"redo copy", -1, "clone stage: REDO COPY"});

  int n = 0;
  for (const auto& p : points) {
    SCOPED_TRACE(p.name);
    ++n;
    const std::string target = work.path() + "/kill" + std::to_string(n);
    std::vector<std::string> argv{it::mysqlclone_binary()};
    const auto args = it::remote_args(donor, target, extra);
    argv.insert(argv.end(), args.begin(), args.end());
    it::Background proc(argv);
    const auto started = std::chrono::steady_clock::now();
    bool reached;
    if (p.after_seconds > 0) {
      reached = it::wait_until(p.after_seconds, [&] { return !proc.running(); }) == false;
    } else if (p.stage.empty()) {
      reached = it::wait_until(30, [&] { return !proc.running() || fs::exists(target + "/#clone/#status_in_progress"); }) &&
                proc.running();
    } else {
      reached = it::wait_until(120, [&] { return !proc.running() || contains(proc.err(), p.stage); }) &&
                proc.running();
    }
    ASSERT_TRUE(reached) << "mysqlclone ended before the kill point\n" << describe(proc.result());
    proc.signal(SIGKILL);
    ASSERT_TRUE(proc.wait_for(30)) << "mysqlclone still runs 30 s after SIGKILL";
    const std::string why = ddl_probe(donor, "kp.t" + std::to_string(n));
    EXPECT_EQ(why, "") << "DDL on the donor after SIGKILL " << p.name;
    info("SIGKILL " + p.name + " after " + it::fixed1(it::seconds_since(started)) + " s, " +
         std::to_string(it::data_bytes(target)) + " bytes in DIR: donor DDL " + (why.empty() ? "free" : why));
    // Not a finished clone: either no DIR yet, or one marked unfinished that `verify` refuses.
    if (fs::exists(target)) {
      EXPECT_TRUE(fs::exists(target + "/#clone/#status_in_progress")) << "DIR holds [" << join(it::listing(target), " ") << "]";
      auto v = it::mysqlclone_bounded({"verify", target}, 120);
      EXPECT_EQ(v.exit_code, 11) << "verify of the killed clone\n" << describe(v);
    }
    // Left alone, the donor would keep the abandoned clone for clone_donor_timeout_after_network_
    // failure (5 min), holding in-place rebuilds when it sits in its page copy stage (seen: the
    // probe's ALTER waited over 60 s). mysqlclone's guard ends it: no session of it stays.
    EXPECT_TRUE(it::wait_until(10, [&] { return it::sessions_of(donor, "mysqlclone") == 0; }))
        << "the guard did not end the killed clone's sessions on the donor:\n"
        << it::processlist(donor);
    it::end_donor_sessions(donor);
  }
  // The full check of DIR (a stock mysqld refuses it as unfinished) once, on the last one.
  it::expect_unfinished("SIGKILL in the redo copy", work.path() + "/kill" + std::to_string(n));
}

// ------------------------------------------------------------------------ 3. --block-ddl

// --block-ddl asks the donor for its backup lock: DDL on the donor waits while the clone runs.
TEST(RemoteDdl, BlockDdlHoldsTheDonorsBackupLock) {
  it::Server donor(it::kRemoteFlavour, "16k", {it::kClonePlugin});
  it::sysbench_prepare(donor, "oltp_read_write", kDonorTables, kDonorRows);
  donor.sql("CREATE DATABASE kp;\n");
  it::TempDir work;
  const std::string target = work.path() + "/blocked";
  std::vector<std::string> argv{it::mysqlclone_binary()};
  const auto args = it::remote_args(donor, target, {"--block-ddl", "--max-rate", "5", "--parallel", "1"});
  argv.insert(argv.end(), args.begin(), args.end());
  it::Background proc(argv);
  std::string why;
  ASSERT_TRUE(it::wait_mid_clone(proc, target, why)) << it::command_line(args) << "\n" << why;
  const std::string blocked = ddl_probe(donor, "kp.blocked");
  EXPECT_TRUE(contains(blocked, "Lock wait timeout")) << "DDL on the donor during a --block-ddl clone: '" << blocked << "'";
  ASSERT_TRUE(proc.wait_for(300)) << "the clone did not end";
  EXPECT_EQ(proc.result().exit_code, 0) << describe(proc.result());
  EXPECT_EQ(ddl_probe(donor, "kp.after"), "") << "DDL after the --block-ddl clone";
  it::expect_donor_clean(donor, "--block-ddl");
}

}  // namespace
