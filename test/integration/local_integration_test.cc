// `mysqlclone local` against real servers (issue 3, acceptance): a hot copy taken under write
// load starts as a stock server, checks clean, replicates from the recorded position and then
// equals the source table by table; redo overwritten before it was copied, SIGTERM and kill -9
// fail cleanly and leave an unfinished DIR that no server and no `verify` accepts, with the
// source unharmed; bad input gives one error line and the typed exit code.
//
// Every wait is bounded, every background process is a process group killed by its destructor,
// every server is stopped by it::Server. A server that cannot start fails the test (it::Server
// throws); nothing here skips. No timing is asserted.
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/text.h"
#include "test/integration/load.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;
using it::kMiB, it::via_socket;
using it::check_all_tables, it::expect_refused, it::make_replica, it::replica_status, it::source_gtids, it::tables,
    it::wait_caught_up;

// The flavours every test below runs on. Adding one (e.g. "mariadb-11.8") is this one line.

// ConsistencyUnderLoad runs this many times per flavour (the acceptance asks for >= 3).
constexpr int kConsistencyRuns = 3;

// The redo a copy must have carried for the test to count: E - C above this proves the copy was
// taken while the server wrote, and that the stock server's recovery replayed it.
constexpr uint64_t kMinRedoReplayed = 1 * kMiB;

bool is_mariadb(const std::string& flavour) { return flavour.rfind("mariadb", 0) == 0; }

// How the tests connect: the backup account over the socket (it::via_socket) or over TCP.
std::vector<std::string> via_tcp(const it::Server& s, int port = 0, const std::string& password = "mysqlclone") {
  return {"-h", "127.0.0.1", "-P", std::to_string(port ? port : s.port()), "-u", "mysqlclone",
          "--password=" + password};
}

std::vector<std::string> local_args(bool json_output, const std::string& target, const std::vector<std::string>& conn,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a;
  if (json_output) a.push_back("--json");
  a.insert(a.end(), {"local", "--target-dir", target});
  a.insert(a.end(), conn.begin(), conn.end());
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// ------------------------------------------------------------------------ unfinished DIR, source

// -------------------------------------------------------------------------------------- fixtures

class LocalBackup : public ::testing::TestWithParam<std::string> {};

std::string flavour_name(const ::testing::TestParamInfo<std::string>& info) { return it::test_name(info.param); }

class LocalBackupUnderLoad : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

std::string run_name(const ::testing::TestParamInfo<std::tuple<std::string, int>>& info) {
  return it::test_name(std::get<0>(info.param)) + "_run" + std::to_string(std::get<1>(info.param));
}

// ---------------------------------------------------------------------- 1. ConsistencyUnderLoad

TEST_P(LocalBackupUnderLoad, ConsistencyUnderLoad) {
  const auto& [flavour, run] = GetParam();
  const bool mariadb = is_mariadb(flavour);

  // The checkpoint must lag behind the current LSN, so that the copy needs (and the stock
  // server's recovery replays) a long stretch of redo [C, E] rather than just what the load
  // wrote during a sub-second copy. Background flushing is therefore held back: no flushing by
  // dirty-page ratio below innodb_max_dirty_pages_pct (lwm 0), the least I/O capacity, and
  // MySQL: no idle flushing and adaptive flushing only past 70 % of the redo capacity; MariaDB:
  // no adaptive flushing. Checked on this machine: after the prepare below the checkpoint age is
  // ~40 MB on both and stays there under the load (redo capacity 128M, buffer pool 256M: the
  // load never gets near forcing a checkpoint). A copy taken a second after a bulk load on a
  // default server would have the same shape; these settings only make it certain.
  std::vector<std::string> lag{"--set", "innodb_max_dirty_pages_pct_lwm=0", "--set", "innodb_io_capacity=100"};
  if (mariadb) {
    lag.insert(lag.end(), {"--set", "innodb_adaptive_flushing=OFF"});
  } else {
    lag.insert(lag.end(), {"--set", "innodb_idle_flush_pct=0", "--set", "innodb_adaptive_flushing_lwm=70"});
  }
  // MariaDB run 2: a redo log smaller than the span the copy needs, which the copy's own
  // ib_logfile0 holds whole (the stock server recovers it and then resizes its log).
  constexpr uint64_t kSmallLogMiB = 32;
  if (mariadb && run == 2) lag.insert(lag.end(), {"--set", "innodb_log_file_size=" + std::to_string(kSmallLogMiB) + "M"});
  it::Server src(flavour, "16k", lag);
  it::sysbench_prepare(src, "oltp_read_write", 8, 20000);
  const std::string nt = it::create_nontransactional_table(src);
  it::TempDir work;
  const std::string target = work.path() + "/backup";

  // The three runs differ in the way the copy is asked for, all of them must hold: run 1 over
  // the socket at full speed, run 2 over TCP throttled (a longer copy under load: more fuzzy
  // pages, more redo; on MySQL that redo in files of 8 MiB, so it spans several, on MariaDB more
  // than the source's whole log), run 3 over the socket with one copy thread, throttled.
  std::vector<std::string> conn = run == 2 ? via_tcp(src) : via_socket(src);
  std::vector<std::string> extra;
  if (run == 2) extra = {"--max-rate", mariadb ? "10" : "20"};
  if (run == 2 && !mariadb) extra.insert(extra.end(), {"--redo-file-size", "8"});
  if (run == 3) extra = {"--parallel", "1", "--max-rate", "20"};

  // The load: bounded in time (10 min at most), killed when stopped or by the destructors.
  it::Load writer = it::nontransactional_writer(src, 600);
  it::Load oltp = it::sysbench_run(src, "oltp_read_write", 8, 20000, 2, 600);
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 256 * 1024; }))
      << "the load does not write\n"
      << oltp.describe() << "\n"
      << writer.describe();
  ASSERT_TRUE(oltp.running()) << oltp.describe();
  ASSERT_TRUE(writer.running()) << writer.describe();
  ASSERT_GT(std::stoull(src.sql("SELECT COUNT(*) FROM ld.nt;")), 0u) << writer.describe();

  const uint64_t lsn_before = it::current_lsn(src);
  const uint64_t checkpoint_before = it::checkpoint_lsn(src);
  info(flavour + " before the copy: LSN " + std::to_string(lsn_before) + ", checkpoint " +
       std::to_string(checkpoint_before));
  auto r = it::mysqlclone_bounded(local_args(true, target, conn, extra), 900);
  // The load ran for the whole copy. It stops now: what it wrote after the copy's position is
  // for the replication below to bring over, and the checks of DIR (verify, the stock server's
  // start and CHECK TABLE) are no better for a load beside them, only slower.
  EXPECT_TRUE(oltp.running()) << "sysbench ended during the copy: " << oltp.describe();
  EXPECT_TRUE(writer.running()) << "the " << nt << " writer ended during the copy: " << writer.describe();
  writer.stop();
  oltp.stop();
  ASSERT_EQ(r.exit_code, 0) << describe(r) << "\n--- source error log ---\n" << server_errors(src.error_log());
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << "stdout is not one JSON document\n" << describe(r);
  info("local: " + doc.dump());

  EXPECT_EQ(doc.value("command", ""), "local");
  EXPECT_EQ(doc.value("ok", false), true);
  EXPECT_EQ(doc.value("flavour", ""), mariadb ? "mariadb" : "mysql");
  EXPECT_EQ(doc.value("page_size", 0), 16384);
  EXPECT_FALSE(doc.value("server_version", "").empty());
  EXPECT_EQ(fs::weakly_canonical(doc.value("target_dir", "")), fs::weakly_canonical(target));
  EXPECT_GT(doc.value("bytes", uint64_t(0)), 0u);
  ASSERT_TRUE(doc.contains("checkpoint_lsn") && doc["checkpoint_lsn"].is_number_unsigned()) << doc.dump();
  ASSERT_TRUE(doc.contains("end_lsn") && doc["end_lsn"].is_number_unsigned()) << doc.dump();
  const uint64_t c = doc["checkpoint_lsn"], e = doc["end_lsn"];
  // The redo path was exercised: a long stretch of redo was copied (and is replayed below), and
  // it includes what the load wrote while the copy ran.
  ASSERT_GT(e, c) << doc.dump();
  EXPECT_GT(e - c, kMinRedoReplayed) << "E - C = " << (e - c) << ": the copy carried almost no redo";
  EXPECT_GT(e, lsn_before) << "E is not past the LSN read before the copy started";
  EXPECT_EQ(doc.value("redo_bytes", uint64_t(0)), e - c) << doc.dump();
  // The tailer starts at C, so it was behind by about what the server had written since C
  // (less what its first read took, when the server is first asked after it).
  EXPECT_GE(doc.value("redo_peak_lag_bytes", uint64_t(0)), (lsn_before - c) / 2) << doc.dump();
  const json binlog = doc.value("binlog", json::object());
  const std::string binlog_file = binlog.is_object() ? binlog.value("file", "") : "";
  const uint64_t binlog_pos = binlog.is_object() ? binlog.value("position", uint64_t(0)) : 0;
  EXPECT_FALSE(binlog_file.empty()) << doc.dump();
  EXPECT_GT(binlog_pos, 0u) << doc.dump();
  EXPECT_FALSE(doc.value(mariadb ? "gtid_binlog_pos" : "gtid_executed", "").empty()) << doc.dump();
  EXPECT_TRUE(doc.contains("ddl_blocked_ms") && doc.contains("commits_blocked_ms")) << doc.dump();
  // No DDL ran during the copy (the load's statements never build an index): on MySQL the final
  // phase did not read the dictionary's index ids again (ddl_window.h).
  if (!mariadb) {
    EXPECT_EQ(doc.value("concurrent_ddl", json::object()).value("index_builds_found_by", ""), "statement-counters")
        << doc.dump() << "\n" << r.err;
  }
  ASSERT_TRUE(doc.contains("replication") && doc["replication"].contains("statements") &&
              doc["replication"]["statements"].is_array() && !doc["replication"]["statements"].empty())
      << doc.dump();
  EXPECT_EQ(doc["replication"].value("source_port", 0), src.port()) << doc.dump();

  // What DIR holds: the metadata (complete) and the XtraBackup-compatible files.
  const json meta = parse(it::read_file(target + "/mysqlclone.json"));
  ASSERT_TRUE(meta.is_object()) << "no readable mysqlclone.json in " << target;
  EXPECT_EQ(meta.value("state", ""), "complete");
  for (const char* f : {"xtrabackup_binlog_info", "xtrabackup_checkpoints", "backup-my.cnf"})
    EXPECT_FALSE(it::read_file(target + "/" + f).empty()) << f << " missing or empty";
  const std::string binlog_info = it::read_file(target + "/xtrabackup_binlog_info");
  EXPECT_TRUE(contains(binlog_info, binlog_file) && contains(binlog_info, std::to_string(binlog_pos)))
      << "xtrabackup_binlog_info: " << binlog_info;

  if (mariadb && run == 2) {
    EXPECT_GT(e - c, kSmallLogMiB * kMiB) << "the redo span is not larger than the source's innodb_log_file_size";
  }
  // The redo: #ib_redo0, #ib_redo1, ... with no gap, as many as the span fills.
  if (!mariadb) {
    const uint64_t file_size = (run == 2 ? 8 : 1024) * kMiB, per_file = file_size - 2048;
    const uint64_t blocks = (e - e % 512 + 512) - (c - c % 512);  // the block of C through that of E
    const size_t expected = size_t((blocks + per_file - 1) / per_file);
    size_t found = 0;
    while (fs::exists(target + "/#innodb_redo/#ib_redo" + std::to_string(found))) ++found;
    EXPECT_EQ(found, expected) << "redo files for E - C = " << (e - c);
    EXPECT_EQ(it::listing(target + "/#innodb_redo").size(), found) << "other files in #innodb_redo";
    if (run == 2) {
      EXPECT_GE(found, 3u) << "the redo span did not cross three files: E - C = " << (e - c);
    }
  }

  // verify understands a finished copy: complete, every page good.
  auto v = it::mysqlclone_bounded({"verify", target}, 600);
  EXPECT_EQ(v.exit_code, 0) << "verify of the finished copy\n" << describe(v);

  // A stock server starts on DIR as it is (crash recovery at first start).
  it::Server copy(flavour, "16k", {"--datadir", target});
  const std::string check = check_all_tables(copy);
  EXPECT_EQ(check, "") << "CHECK TABLE on the copy";
  info("the copy's own position before replication: " + it::logged_gtids(copy));

  // Make it a replica from the recorded position and wait until it caught up with all the load
  // wrote.
  std::string error;
  const std::string repl_sql = make_replica(copy, doc, error);
  ASSERT_EQ(error, "");
  info("replication set up with:\n" + repl_sql);
  ASSERT_TRUE(it::wait_quiet(src, 60)) << "the source still runs statements 60 s after the load was stopped";
  const std::string gtids = it::logged_gtids(src);
  const std::string lag_error = it::wait_gtids(copy, gtids);
  ASSERT_EQ(lag_error, "");

  // Every user table equals the source's.
  const auto user_tables = tables(src, true);
  ASSERT_EQ(user_tables.size(), 9u) << join(user_tables, ", ");
  EXPECT_EQ(tables(copy, true), user_tables);
  const std::string want = it::checksums(src, user_tables), got = it::checksums(copy, user_tables);
  EXPECT_EQ(got, want) << "CHECKSUM TABLE differs between the copy (got) and the source (want)\n"
                       << it::replica_status(copy);
}

INSTANTIATE_TEST_SUITE_P(Flavours, LocalBackupUnderLoad,
                         ::testing::Combine(::testing::ValuesIn(it::kFlavours), ::testing::Range(1, kConsistencyRuns + 1)),
                         run_name);

// ------------------------------------------------------------------------------- 2. RedoLost

TEST_P(LocalBackup, RedoLost) {
  const std::string& flavour = GetParam();
  const bool mariadb = is_mariadb(flavour);
  // The smallest redo each server accepts: MySQL 8M of innodb_redo_log_capacity; MariaDB 10.11
  // raises anything below 4M of innodb_log_file_size to 4M.
  const std::string setting = mariadb ? "innodb_log_file_size" : "innodb_redo_log_capacity";
  it::Server src(flavour, "16k", {"--set", setting + (mariadb ? "=4M" : "=8M")});
  info(flavour + " " + setting + " = " + trim(src.sql("SELECT @@" + setting + ";")));
  it::sysbench_prepare(src, "oltp_write_only", 4, 20000);
  it::create_nontransactional_table(src);
  it::TempDir work;
  const std::string target = work.path() + "/backup";

  // Heavy writes: sysbench with 4 threads plus 1 MiB blob inserts, i.e. the tiny redo wraps many
  // times a second. The tailer keeps pace with that (--max-rate never slows it), so it is
  // frozen (SIGSTOP) mid-copy while the server writes two redo capacities, then thawed.
  it::Load oltp = it::sysbench_run(src, "oltp_write_only", 4, 20000, 4, 600);
  it::Load blobs = it::blob_writer(src, 600);
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 32 * kMiB; }))
      << "the load does not write fast\n"
      << oltp.describe() << "\n"
      << blobs.describe();
  ASSERT_TRUE(oltp.running()) << oltp.describe();
  ASSERT_TRUE(blobs.running()) << blobs.describe();

  std::vector<std::string> argv{it::mysqlclone_binary()};
  for (const auto& a : local_args(false, target, via_socket(src), {"--max-rate", "1"})) argv.push_back(a);
  it::Background copy(argv);
  ASSERT_TRUE(it::wait_until(120, [&] { return it::tree_bytes(target) > 64 * 1024 || !copy.running(); }))
      << "the copy did not start within 120 s";
  if (copy.running()) {
    const uint64_t capacity = (mariadb ? 4 : 8) * kMiB;
    const uint64_t frozen_at = it::current_lsn(src);
    copy.signal(SIGSTOP);
    const bool lapped = it::wait_until(120, [&] { return it::current_lsn(src) > frozen_at + 2 * capacity; });
    copy.signal(SIGCONT);
    ASSERT_TRUE(lapped) << "the load did not write two redo capacities within 120 s";
  } else {
    // On a machine busy with more than this test, the tailer can fall a whole capacity behind
    // before it is frozen: the same outcome, checked below as it stands.
    info("the copy ended before it was frozen: " + describe(copy.result()));
  }
  ASSERT_TRUE(copy.wait_for(300)) << "the copy did not end within 300 s of SIGCONT";
  const auto r = copy.result();
  const bool loads_ran = oltp.running() && blobs.running();
  oltp.stop();
  blobs.stop();
  EXPECT_TRUE(loads_ran) << oltp.describe() << "\n" << blobs.describe();
  ASSERT_EQ(r.exit_code, 8) << describe(r) << "\n--- source error log ---\n" << server_errors(src.error_log());
  const auto errors = error_lines(r.err);
  ASSERT_EQ(errors.size(), 1u) << describe(r);
  const std::string& line = errors[0];
  info("redo lost: " + line);
  // It names the LSNs involved (two numbers at least) and gives the advice.
  EXPECT_TRUE(contains(lower(line), "lsn")) << line;
  size_t numbers = 0;
  for (size_t i = 0; i < line.size();) {
    if (std::isdigit(static_cast<unsigned char>(line[i]))) {
      size_t j = i;
      while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
      if (j - i >= 5) ++numbers;  // an LSN, not a time stamp's field
      i = j;
    } else {
      ++i;
    }
  }
  EXPECT_GE(numbers, 2u) << "the LSNs involved are not named: " << line;
  EXPECT_TRUE(contains(line, setting)) << "no advice to raise " << setting << ": " << line;
  if (!mariadb) {
    EXPECT_TRUE(contains(line, "--redo-consumer")) << "MySQL: --redo-consumer not offered: " << line;
  }

  ASSERT_TRUE(it::wait_quiet(src, 60));
  it::expect_source_unharmed(src);
  expect_refused(flavour, target);

  // That backup lost its redo: no incremental builds on it and no restore takes it (exit 11,
  // nothing written); nor on a base that is not there (exit 6).
  const auto refused = [&](const std::string& what, std::vector<std::string> args, int code, const std::string& dir) {
    auto c = it::mysqlclone_bounded(args, 300);
    EXPECT_EQ(c.exit_code, code) << what << "\n" << describe(c);
    EXPECT_EQ(error_lines(c.err).size(), 1u) << what << "\n" << describe(c);
    EXPECT_FALSE(fs::exists(dir)) << what << ": " << dir << " was created";
    info(what + ": " + (error_lines(c.err).empty() ? "" : error_lines(c.err)[0]));
  };
  const std::string inc = work.path() + "/inc";
  refused("an incremental on a base whose redo was lost",
          local_args(false, inc, via_socket(src), {"--incremental-from", target}), 11, inc);
  refused("an incremental on a missing base",
          local_args(false, inc, via_socket(src), {"--incremental-from", work.path() + "/none"}), 6, inc);
  refused("a restore of a backup whose redo was lost",
          {"restore", "--backup", target, "--target-dir", work.path() + "/restored"}, 11, work.path() + "/restored");
}

// ------------------------------------------------------- 2b. RedoConsumer through recycled files

// Open descriptors of a process (/proc/PID/fd entries); 0 once it is gone.
size_t open_descriptors(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec))
    ++n;
  return n;
}

// The ids of the #ib_redoN files in use right now.
std::set<uint64_t> redo_file_ids(const it::Server& s) {
  std::set<uint64_t> ids;
  std::error_code ec;
  for (fs::directory_iterator it(s.datadir() + "/#innodb_redo", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename();
    if (name.rfind("#ib_redo", 0) == 0 && name.size() > 8 && name.find_first_not_of("0123456789", 8) == std::string::npos)
      ids.insert(std::stoull(name.substr(8)));
  }
  return ids;
}

// MySQL with the smallest redo it accepts and --redo-consumer: a copy long enough that every
// redo file is recycled several times. Frozen (SIGSTOP) for a while, the tailer holds the
// server back: it writes no more than one capacity past what was copied. The copy succeeds and
// checks clean, and the tailer's descriptors stay bounded by the files present (issue 9,
// defect 2: recycled files were never closed; at EMFILE the tailer idled for good and the
// server's writers waited on it).
TEST(LocalRedoConsumer, RecycledRedoFilesUnderLoadMysql97) {
  const std::string flavour = "mysql-9.7";
  // Loaded with the default redo capacity (a load through 8 MiB of redo crawls from checkpoint to
  // checkpoint), then shrunk to the smallest capacity the server accepts (dynamic since 8.0.30).
  it::Server src(flavour, "16k");
  it::sysbench_prepare(src, "oltp_write_only", 4, 20000);
  src.sql("SET GLOBAL innodb_redo_log_capacity = 8388608;");
  const uint64_t capacity = std::stoull(trim(src.sql("SELECT @@innodb_redo_log_capacity;")));
  ASSERT_EQ(capacity, 8 * kMiB) << "the smallest innodb_redo_log_capacity is not accepted";
  // The resize is done once the server's redo files are the new size (capacity / 32 each).
  ASSERT_TRUE(it::wait_until(120, [&] {
    return trim(src.sql("SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE "
                        "VARIABLE_NAME = 'Innodb_redo_log_resize_status';")) == "OK" &&
           trim(src.sql("SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE "
                        "VARIABLE_NAME = 'Innodb_redo_log_capacity_resized';")) == std::to_string(8 * kMiB);
  })) << "the redo log did not shrink to 8 MiB within 120 s";
  it::TempDir work;
  const std::string target = work.path() + "/backup";

  // sysbench and 1 MiB blob inserts, 4 a second at most: a lap of the redo every 2 s or less,
  // and a stretch of redo [C, E] that recovery replays in seconds.
  it::Load oltp = it::sysbench_run(src, "oltp_write_only", 4, 20000, 2, 600);
  it::Load blobs = it::blob_writer(src, 600, 0.25);
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 4 * kMiB; }))
      << oltp.describe() << "\n"
      << blobs.describe();

  // The data copy (~100 MB) crawls at 4 MiB/s; the redo tailer is never throttled.
  std::vector<std::string> argv{it::mysqlclone_binary()};
  for (const auto& a :
       local_args(true, target, via_socket(src), {"--redo-consumer", "--max-rate", "4", "--parallel", "1"}))
    argv.push_back(a);
  const std::set<uint64_t> ids_before = redo_file_ids(src);
  ASSERT_FALSE(ids_before.empty());
  it::Background copy(argv);
  std::set<uint64_t> ids_seen = ids_before;
  size_t most_fds = 0;
  ASSERT_TRUE(it::wait_until(120, [&] { return it::tree_bytes(target) > 4 * kMiB || !copy.running(); }))
      << "the copy did not start within 120 s";
  ASSERT_TRUE(copy.running()) << describe(copy.result());
  // Frozen, the consumer holds the server's writers back: no more than one capacity past the
  // LSN the tailer had reached (it may have read a little past the LSN asked just before).
  const uint64_t frozen_at = it::current_lsn(src);
  copy.signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  const uint64_t reached_frozen = it::current_lsn(src);
  copy.signal(SIGCONT);
  EXPECT_LT(reached_frozen, frozen_at + capacity + kMiB) << "the server overwrote redo the frozen copy had not read";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(600);
  while (copy.running() && std::chrono::steady_clock::now() < deadline) {
    most_fds = std::max(most_fds, open_descriptors(copy.pid()));
    const auto ids = redo_file_ids(src);
    ids_seen.insert(ids.begin(), ids.end());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(copy.wait_for(5)) << "the copy did not end within 600 s";
  // The loads ran for the whole copy; they stop now (what they wrote after it is for the
  // replication below to bring over).
  const bool load_ran = oltp.running() && blobs.running();
  oltp.stop();
  blobs.stop();
  const auto r = copy.result();
  ASSERT_EQ(r.exit_code, 0) << describe(r) << "\n--- source error log ---\n" << server_errors(src.error_log());
  EXPECT_TRUE(load_ran) << oltp.describe() << "\n" << blobs.describe();
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << describe(r);
  const uint64_t c = doc["checkpoint_lsn"], e = doc["end_lsn"];
  const size_t recycled = ids_seen.size() - ids_before.size();
  info(flavour + ": " + std::to_string(ids_before.size()) + " redo files of " +
       std::to_string(fs::file_size(src.datadir() + "/#innodb_redo/#ib_redo" + std::to_string(*ids_seen.rbegin())) >>
                      10) +
       " KiB");
  info(flavour + " --redo-consumer: E - C = " + std::to_string((e - c) >> 10) + " KiB (" +
       std::to_string((e - c) / capacity) + " capacities), " + std::to_string(recycled) + " redo files recycled (" +
       std::to_string(recycled / ids_before.size()) + " laps of " + std::to_string(ids_before.size()) +
       " files), at most " + std::to_string(most_fds) + " descriptors open");
  EXPECT_GE(recycled, 3 * ids_before.size()) << "the redo files were not all recycled several times during the copy";
  // The server's files plus the copy's own (connections, data files being copied, output):
  // one descriptor per recycled file, as before, would pass this after one lap.
  EXPECT_LT(most_fds, ids_before.size() + 48) << "descriptors grew with the recycled redo files";

  // The copy starts, checks clean, and catches up to equal the source.
  it::Server copy_server(flavour, "16k", {"--datadir", target});
  EXPECT_EQ(check_all_tables(copy_server), "") << "CHECK TABLE on the copy";
  std::string error;
  make_replica(copy_server, doc, error);
  ASSERT_EQ(error, "");
  ASSERT_TRUE(it::wait_quiet(src, 60));
  ASSERT_EQ(it::wait_gtids(copy_server, it::logged_gtids(src)), "");
  const auto user_tables = tables(src, true);
  EXPECT_EQ(it::checksums(copy_server, user_tables), it::checksums(src, user_tables)) << it::replica_status(copy_server);
}

// --------------------------------------------------------------------------- 3. Interruption

TEST_P(LocalBackup, Interruption) {
  const std::string& flavour = GetParam();
  it::Server src(flavour, "16k");
  it::sysbench_prepare(src, "oltp_read_write", 4, 20000);
  it::create_nontransactional_table(src);
  // A light write load, so the redo tailer is busy too when the signal comes.
  it::Load oltp = it::sysbench_run(src, "oltp_write_only", 4, 20000, 1, 600);

  struct Point {
    int signal;
    uint64_t bytes;  // in DIR (besides mysqlclone.json) before the signal
    const char* name;
  };
  // The copy is throttled to 2 MiB/s (the datadir is 40-120 MB): the signal always lands
  // mid-copy, at its very beginning (the first bytes of data in DIR) or 8 MiB into it.
  for (const Point& p : {Point{SIGTERM, 1, "SIGTERM at the first bytes"}, Point{SIGTERM, 8 * kMiB, "SIGTERM at 8 MiB"},
                         Point{SIGKILL, 1, "kill -9 at the first bytes"}, Point{SIGKILL, 8 * kMiB, "kill -9 at 8 MiB"}}) {
    SCOPED_TRACE(p.name);
    it::TempDir work;
    const std::string target = work.path() + "/backup";
    std::vector<std::string> argv{it::mysqlclone_binary()};
    const auto args = local_args(true, target, via_socket(src), {"--max-rate", "2"});
    argv.insert(argv.end(), args.begin(), args.end());
    it::Background proc(argv);
    auto data_bytes = [&] {
      std::error_code ec;
      uint64_t meta = fs::exists(target + "/mysqlclone.json", ec) ? fs::file_size(target + "/mysqlclone.json", ec) : 0;
      uint64_t total = it::tree_bytes(target);
      return total > meta ? total - meta : 0;
    };
    const bool reached = it::wait_until(120, [&] { return data_bytes() >= p.bytes || !proc.running(); });
    ASSERT_TRUE(reached) << "DIR did not reach " << p.bytes << " bytes within 120 s";
    ASSERT_TRUE(proc.running()) << "mysqlclone ended before the signal\n" << describe(proc.result());
    info(std::string(p.name) + ": signal at " + std::to_string(data_bytes()) + " bytes in DIR");
    proc.signal(p.signal);
    ASSERT_TRUE(proc.wait_for(60)) << "mysqlclone still runs 60 s after the signal\n" << describe(proc.result());
    const auto res = proc.result();
    if (p.signal == SIGTERM) {
      EXPECT_EQ(res.exit_code, 9) << describe(res);
      EXPECT_EQ(error_lines(res.err).size(), 1u) << describe(res);
      const json doc = parse(res.out);
      EXPECT_TRUE(doc.is_object() && doc.value("ok", true) == false && doc.value("exit_code", 0) == 9)
          << "no failure document on stdout\n"
          << describe(res);
    } else {
      EXPECT_EQ(res.exit_code, 128 + SIGKILL) << describe(res);
    }
    it::expect_source_unharmed(src);
    EXPECT_TRUE(oltp.running()) << "the source's load died: " << oltp.describe();
    expect_refused(flavour, target);
  }
}

// ----------------------------------------------------------------------------- 4. BadInput

// chattr +i for the life of the object: the one way to make a directory unwritable for root
// (root ignores permission bits; the test runs as root).
class Immutable {
 public:
  explicit Immutable(std::string path) : path_(std::move(path)) {
    auto r = it::run({"chattr", "+i", path_});
    ok_ = r.exit_code == 0;
    error_ = r.err;
  }
  ~Immutable() {
    if (ok_) it::run({"chattr", "-i", path_});
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_, error_;
  bool ok_ = false;
};

// mysqlclone in a private mount namespace where a small tmpfs is mounted on `mountpoint`
// (nothing of it is visible outside the namespace). Root only; the tests run as root.
std::vector<std::string> with_tmpfs(const std::string& mountpoint, const std::string& size) {
  return {"unshare", "-m", "--propagation", "private", "--", "sh", "-c",
          "mount -t tmpfs -o size=" + size + " mysqlclone-it \"$0\" && exec \"$@\"", mountpoint};
}

// A `local` that must fail: once human (exit code, exactly one error line) and once with --json
// (exit code, the failure document). Returns the human error line.
std::string expect_failure(const std::string& what, const std::vector<std::string>& args, int code,
                           const std::vector<std::string>& wrapper = {}) {
  std::string line;
  for (bool json_output : {false, true}) {
    std::vector<std::string> argv = wrapper;
    argv.push_back(it::mysqlclone_binary());
    if (json_output) argv.push_back("--json");
    argv.push_back("local");
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = it::run_bounded(argv, 180);
    const std::string how = what + (json_output ? " (--json)" : "");
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
  }
  info(what + ": " + line);
  return line;
}


TEST_P(LocalBackup, BadInput) {
  const std::string& flavour = GetParam();
  const bool mariadb = is_mariadb(flavour);
  it::Server src(flavour, "16k");
  // A non-InnoDB table: the copy then certainly needs the privileges of its lock too.
  it::create_nontransactional_table(src);
  it::TempDir work;
  const std::string w = work.path();
  const auto sock = [&](const std::string& target) {
    std::vector<std::string> a{"--target-dir", target};
    auto c = via_socket(src);
    a.insert(a.end(), c.begin(), c.end());
    return a;
  };

  {  // DIR exists and is not empty: refused, and what is there stays as it was.
    fs::create_directory(w + "/full");
    std::ofstream(w + "/full/keep.txt") << "precious\n";
    expect_failure("DIR not empty", sock(w + "/full"), 6);
    EXPECT_EQ(it::listing(w + "/full"), std::vector<std::string>{"keep.txt"});
    EXPECT_EQ(it::read_file(w + "/full/keep.txt"), "precious\n");
  }
  {  // DIR inside the server's datadir (also through a symlink): refused before anything is
     // written. It was taken: the copy copied itself, and MySQL then refused to restart ("Multiple
     // files found for the same tablespace ID").
    const std::string line = expect_failure("DIR inside the datadir", sock(src.datadir() + "/backup"), 6);
    EXPECT_TRUE(contains(line, "inside the server's datadir")) << line;
    EXPECT_FALSE(fs::exists(src.datadir() + "/backup"));
    // Relative, from within the datadir (a name that does not exist yet stayed relative).
    expect_failure("DIR inside the datadir, relative", sock("backup-rel"), 6,
                   {"sh", "-c", "cd \"$0\" && exec \"$@\"", src.datadir()});
    EXPECT_FALSE(fs::exists(src.datadir() + "/backup-rel"));
    fs::create_directory_symlink(src.datadir(), w + "/datadir-link");
    expect_failure("DIR inside the datadir, through a symlink", sock(w + "/datadir-link/backup"), 6);
    EXPECT_FALSE(fs::exists(src.datadir() + "/backup"));
    fs::remove(w + "/datadir-link");
  }
  {  // The parent of DIR is missing: nothing is created.
    expect_failure("parent of DIR missing", sock(w + "/missing/backup"), 6);
    EXPECT_FALSE(fs::exists(w + "/missing"));
  }
  {  // DIR exists, is empty, and cannot be written (immutable: root ignores permission bits).
    fs::create_directory(w + "/ro");
    Immutable ro(w + "/ro");
    ASSERT_TRUE(ro.ok()) << "chattr +i failed: " << ro.error();
    expect_failure("DIR not writable", sock(w + "/ro"), 6);
    EXPECT_TRUE(it::listing(w + "/ro").empty());
  }
  {  // DIR cannot be created: its parent is immutable.
    fs::create_directory(w + "/roparent");
    Immutable ro(w + "/roparent");
    ASSERT_TRUE(ro.ok()) << "chattr +i failed: " << ro.error();
    expect_failure("DIR cannot be created (parent not writable)", sock(w + "/roparent/backup"), 6);
    EXPECT_FALSE(fs::exists(w + "/roparent/backup"));
  }
  {  // Not enough space: DIR on a 4 MiB tmpfs (the datadir is tens of MB); the preflight estimate
     // refuses it.
    fs::create_directory(w + "/small");
    const std::string line =
        expect_failure("no space for the copy", sock(w + "/small/backup"), 6, with_tmpfs(w + "/small", "4m"));
    EXPECT_TRUE(contains(lower(line), "space")) << line;
  }
  {  // The disk fills during the copy (another writer takes the room the preflight saw): one
     // error line, exit 6, and mysqlclone.json says "failed" (written over the "in-progress"
     // one: no new file fits). It stayed "in-progress". The fill and the look at the manifest
     // run in the tmpfs's own mount namespace.
    fs::create_directory(w + "/filled");
    const auto a = via_socket(src);
    std::vector<std::string> argv{"unshare", "-m", "--propagation", "private", "--", "sh", "-c",
                                  "mount -t tmpfs -o size=1g mysqlclone-it \"$0\" || exit 99\n"
                                  "\"$@\" & pid=$!\n"
                                  "sleep 2; dd if=/dev/zero of=\"$0/fill\" bs=1M 2>/dev/null\n"
                                  "wait $pid; rc=$?\n"
                                  "grep -o '\"state\": \"[a-z-]*\"' \"$0/backup/mysqlclone.json\"\n"
                                  "exit $rc",
                                  w + "/filled", it::mysqlclone_binary(), "local", "--max-rate", "1", "--target-dir",
                                  w + "/filled/backup"};
    argv.insert(argv.end(), a.begin(), a.end());
    auto r = it::run_bounded(argv, 300);
    EXPECT_EQ(r.exit_code, 6) << describe(r);
    EXPECT_EQ(error_lines(r.err).size(), 1u) << describe(r);
    EXPECT_TRUE(contains(r.err, "No space left on device")) << describe(r);
    EXPECT_TRUE(contains(r.out, "\"state\": \"failed\"")) << describe(r);
  }
  {  // The server's datadir is not readable here (as when mysqlclone does not run on the
     // database host): an empty tmpfs hides it from mysqlclone only.
    expect_failure("datadir not readable here", sock(w + "/notlocal"), 6, with_tmpfs(src.datadir(), "1m"));
    EXPECT_FALSE(fs::exists(w + "/notlocal/mysqlclone.json"));
  }
  // Wrong credentials, over the socket and over TCP; nothing listening.
  {
    std::vector<std::string> a{"--target-dir", w + "/c1"};
    auto c = via_socket(src, "mysqlclone", "wrong");
    a.insert(a.end(), c.begin(), c.end());
    expect_failure("wrong password (socket)", a, 3);
  }
  {
    std::vector<std::string> a{"--target-dir", w + "/c2"};
    auto c = via_tcp(src, 0, "wrong");
    a.insert(a.end(), c.begin(), c.end());
    expect_failure("wrong password (TCP)", a, 3);
  }
  {
    std::vector<std::string> a{"--target-dir", w + "/c3"};
    auto c = via_tcp(src, it::free_port());
    a.insert(a.end(), c.begin(), c.end());
    expect_failure("nothing listening", a, 3);
  }
  {  // An account with SELECT only: every missing privilege is listed at once. Which ones a
     // copy needs is the implementation's choice; these are certain: MySQL needs BACKUP_ADMIN
     // (LOCK INSTANCE FOR BACKUP, performance_schema.log_status) and RELOAD (FLUSH TABLES ... WITH
     // READ LOCK for ld.nt) and, with --lock-ddl=reduced, PROCESS (the dictionary's index ids);
     // MariaDB needs RELOAD (BACKUP STAGE).
    src.sql(
        "CREATE USER 'weak'@'localhost' IDENTIFIED BY 'weak';\n"
        "CREATE USER 'weak'@'%' IDENTIFIED BY 'weak';\n"
        "GRANT SELECT ON *.* TO 'weak'@'localhost', 'weak'@'%';\n");
    std::vector<std::string> a{"--target-dir", w + "/p"};
    auto c = via_socket(src, "weak", "weak");
    a.insert(a.end(), c.begin(), c.end());
    const std::string line = expect_failure("SELECT-only account", a, 4);
    const std::vector<std::string> needed =
        mariadb ? std::vector<std::string>{"RELOAD"} : std::vector<std::string>{"BACKUP_ADMIN", "RELOAD", "PROCESS"};
    for (const auto& priv : needed) EXPECT_TRUE(contains(upper(line), priv)) << priv << " not listed: " << line;
  }
  if (!mariadb) {  // MySQL, --lock-ddl=reduced (the default): PROCESS is asked for before DIR is made,
                  // and one held through a role counts.
    src.sql(
        "CREATE USER 'noproc'@'localhost' IDENTIFIED BY 'noproc';\n"
        "GRANT BACKUP_ADMIN, RELOAD, SELECT, SHOW VIEW, LOCK TABLES, REPLICATION CLIENT, REPLICATION_SLAVE_ADMIN "
        "ON *.* TO 'noproc'@'localhost';\n");
    std::vector<std::string> a{"--target-dir", w + "/noproc"};
    auto c = via_socket(src, "noproc", "noproc");
    a.insert(a.end(), c.begin(), c.end());
    const std::string line = expect_failure("an account without PROCESS", a, 4);
    EXPECT_TRUE(contains(line, "PROCESS") && contains(line, "--lock-ddl=full")) << line;
    EXPECT_FALSE(fs::exists(w + "/noproc"));
    {  // --lock-ddl=full reads no dictionary: it needs no PROCESS.
      std::vector<std::string> full{"local", "--lock-ddl=full", "--target-dir", w + "/noproc-full"};
      full.insert(full.end(), c.begin(), c.end());
      auto r = it::mysqlclone_bounded(full, 300);
      EXPECT_EQ(r.exit_code, 0) << "--lock-ddl=full without PROCESS\n" << describe(r);
    }
    src.sql(
        "CREATE ROLE 'dictionary_reader';\n"
        "GRANT PROCESS ON *.* TO 'dictionary_reader';\n"
        "GRANT 'dictionary_reader' TO 'noproc'@'localhost';\n"
        "SET DEFAULT ROLE 'dictionary_reader' TO 'noproc'@'localhost';\n");
    std::vector<std::string> argv{"local"};
    argv.insert(argv.end(), a.begin(), a.end());
    auto r = it::mysqlclone_bounded(argv, 300);
    EXPECT_EQ(r.exit_code, 0) << "PROCESS through a default role\n" << describe(r);
    // ... and the processlist is taken as seen whole (the final phase may skip the dictionary).
    EXPECT_TRUE(contains(r.err, "statement counters read and no statement")) << describe(r);
    EXPECT_TRUE(fs::exists(w + "/noproc/mysqlclone.json"));
  }
  if (!mariadb) {  // MySQL: LOCK TABLES (FLUSH TABLES t WITH READ LOCK of the non-InnoDB tables)
                  // and SELECT on performance_schema.log_status are asked for before DIR is made.
                  // Without them a copy failed at its end, or at its start naming no GRANT.
    src.sql(
        "CREATE USER 'nolock'@'localhost' IDENTIFIED BY 'nolock';\n"
        "GRANT BACKUP_ADMIN, RELOAD, PROCESS ON *.* TO 'nolock'@'localhost';\n");
    std::vector<std::string> a{"--target-dir", w + "/nolock"};
    auto c = via_socket(src, "nolock", "nolock");
    a.insert(a.end(), c.begin(), c.end());
    const std::string line = expect_failure("an account without LOCK TABLES and SELECT", a, 4);
    EXPECT_TRUE(contains(line, "LOCK TABLES") && contains(line, "SELECT ON performance_schema.log_status")) << line;
    EXPECT_FALSE(fs::exists(w + "/nolock"));
  }
  // Usage errors.
  for (const std::string rate : {"abc", "-1"}) {
    auto a = sock(w + "/u");
    a.insert(a.end(), {"--max-rate", rate});
    expect_failure("--max-rate " + rate, a, 2);
  }
  {
    auto c = via_socket(src);
    expect_failure("no --target-dir", c, 2);
  }
  EXPECT_FALSE(fs::exists(w + "/u"));
  {  // Every option from option files: the connection from [client], the copy's options from
     // [mysqlclone] and [mysqlclone-local] (the command's group wins), the command line over both.
    const std::string cnf = w + "/backup.cnf";
    std::ofstream(cnf) << "[client]\nsocket = " << src.socket() << "\nuser = mysqlclone\npassword = mysqlclone\n"
                       << "[mysqlclone]\nparallel = 3\nquiet\nthreads = 1\n"  // threads: verify's
                       << "[mysqlclone-local]\nparallel = 2\ntarget-dir = " << w << "/fromfile\n"
                       << "loose-no-such-option = 1\n";
    auto r = it::mysqlclone_bounded({"--json", "--defaults-file", cnf, "local"}, 300);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const json doc = parse(r.out);
    EXPECT_EQ(doc.value("parallel", 0), 2) << doc.dump();
    EXPECT_EQ(doc.value("target_dir", ""), w + "/fromfile");
    EXPECT_TRUE(fs::exists(w + "/fromfile/mysqlclone.json"));
    // A value the command line gives is not taken from the file.
    std::ofstream(cnf, std::ios::app) << "max-rate = abc\n";
    const std::string bad = expect_failure("max-rate = abc in the option file", {"--defaults-file", cnf}, 2);
    EXPECT_TRUE(contains(bad, cnf + ":13: option 'max-rate'")) << bad;
    r = it::mysqlclone_bounded({"--json", "--defaults-file", cnf, "local", "--max-rate", "500", "--target-dir",
                                w + "/cli"},
                               300);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
  }
  // Not tested: an unsupported server (MySQL < 8.0.30, MariaDB < 10.8). No such server can run
  // here: the test servers are MySQL 9.7 and MariaDB 10.11/11.8 only.
}

INSTANTIATE_TEST_SUITE_P(Flavours, LocalBackup, ::testing::ValuesIn(it::kFlavours), flavour_name);

}  // namespace
