// Replicas as sources (issue 15, acceptance): `mysqlclone local` (and, on MySQL, `remote`) pointed
// at a replica while it applies a primary's write load (sysbench and bank transfers). Per flavour
// one primary, a second primary and a replica of both serve every check, in two phases:
//
// 1. GTIDs, two channels (MySQL multi-source, MariaDB named connections), log_replica_updates ON:
//    both channels are recorded (mysqlclone.json, xtrabackup_slave_info); the stock server starts on
//    the copy with no [ERROR]; the printed statements, run as they are (account filled in), make
//    the copy catch up with both primaries, and (a second start of the same copy) with the replica
//    itself; every table's CHECKSUM equals the primary's and the bank's invariants hold. MySQL: a
//    `remote` clone from the replica donor, the same checks.
// 2. File and position (MySQL gtid_mode OFF; MariaDB MASTER_USE_GTID=no), one channel,
//    --safe-replica-backup (the applier is stopped, reported and running again after, also after
//    a SIGTERM or a SIGKILL while it is stopped); MariaDB with
//    log_slave_updates OFF: replicating from the replica is not offered and the output says why;
//    MariaDB with a MyISAM writer on the primary as well (its applier must stop before BACKUP
//    STAGE FLUSH holds it), whose table the copy has equal too.
//
// Every wait is bounded; a server that cannot start fails the test (it::Server throws).
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/load.h"
#include "test/integration/text.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;

constexpr unsigned kTables = 2, kRows = 5000;  // sysbench: a few MB
constexpr unsigned kLoadSeconds = 600;         // an upper bound: every load is stopped by the test

std::vector<std::string> strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& s : j)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// A fingerprint of the bank's accounts: it moves with every transfer the replica applies.
std::string applied(const it::Server& replica) { return replica.sql("SELECT SUM(id * balance) FROM bank.account;"); }

// The primary's write load while a copy is taken; stopped (and the primary quiet) by finish().
struct PrimaryLoad {
  it::Load oltp, bank;
  PrimaryLoad(const it::Server& p)
      : oltp(it::sysbench_run(p, "oltp_read_write", kTables, kRows, 2, kLoadSeconds)),
        bank(it::bank_transfers(p, kLoadSeconds)) {}
  std::string finish(const it::Server& p) {
    const bool ran = oltp.running() && bank.running();
    oltp.stop();
    bank.stop();
    if (!ran) return "a load ended before it was stopped:\n" + oltp.describe() + "\n" + bank.describe();
    return it::wait_quiet(p, 60) ? "" : "the primary still runs statements 60 s after the load was stopped";
  }
};

// Waits until the replica applies what the primary writes now.
void expect_applying(const it::Server& replica) {
  const std::string before = applied(replica);
  EXPECT_TRUE(it::wait_until(30, [&] { return applied(replica) != before; }))
      << "the replica applies nothing\n" << it::replica_status(replica);
}

// A stock server started on a copy: no [ERROR] line in its log, and no applier running (it never
// replicates by itself).
void expect_clean_start(const it::Server& copy, const std::string& what) {
  const std::string log = copy.error_log();
  EXPECT_EQ(log.find("[ERROR]"), std::string::npos) << what << ": the copy's log has errors:\n" << server_errors(log);
  EXPECT_EQ(it::running_appliers(copy), 0u) << what << ": the copy replicates by itself\n" << it::replica_status(copy);
}

// The copy equals `primary` table by table and the bank's invariants hold on it.
void expect_equal(const it::Server& copy, const it::Server& primary, const std::string& what,
                  unsigned more_tables = 0) {
  const auto names = it::user_tables(primary);
  // sysbench's, bank.account and bank.ledger, and the ones the caller made
  ASSERT_EQ(names.size(), kTables + 2 + more_tables) << join(names, ", ");
  EXPECT_EQ(it::checksums(copy, names), it::checksums(primary, names))
      << what << ": CHECKSUM TABLE differs between the copy and the primary\n" << it::replica_status(copy);
  EXPECT_EQ(it::bank_invariants(copy), "") << what;
}

// `mysqlclone --json local` of `replica` into target.
json local_copy(const it::Server& replica, const std::string& target, const std::vector<std::string>& extra = {}) {
  // Over TCP: the statements for replicating from the replica name the address connected to.
  std::vector<std::string> args{"--json", "local", "--target-dir", target, "-h", "127.0.0.1", "-P",
                                std::to_string(replica.port()), "-u", "mysqlclone", "-pmysqlclone"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = it::mysqlclone_bounded(args, 600);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  const json doc = parse(r.out);
  EXPECT_TRUE(doc.is_object()) << describe(r);
  return doc.is_object() ? doc : json::object();
}

class ReplicaAsSource : public ::testing::TestWithParam<std::string> {};

TEST_P(ReplicaAsSource, CopiesStartCleanAndFollowTheirSources) {
  const std::string& flavour = GetParam();
  const bool mariadb = flavour.rfind("mariadb", 0) == 0;
  const auto t0 = std::chrono::steady_clock::now();
  it::Server primary(flavour, "16k");
  // MariaDB multi-source by GTID wants one domain per source.
  it::Server second(flavour, "16k", mariadb ? std::vector<std::string>{"--set", "gtid_domain_id=2"}
                                            : std::vector<std::string>{});
  const std::vector<std::string> logs_updates{"--set", mariadb ? "log_slave_updates=ON" : "log_replica_updates=ON"};
  it::Server replica(flavour, "16k", logs_updates);
  const std::string account = "SOURCE_USER='repl', SOURCE_PASSWORD='repl', GET_SOURCE_PUBLIC_KEY=1";
  const auto source_of = [&](const it::Server& s, const std::string& channel) {
    const std::string port = std::to_string(s.port());
    return mariadb ? "CHANGE MASTER '" + channel + "' TO MASTER_HOST='127.0.0.1', MASTER_PORT=" + port +
                         ", MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos;\n"
                   : "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT=" + port + ", " + account +
                         ", SOURCE_AUTO_POSITION=1 FOR CHANNEL '" + channel + "';\n";
  };
  replica.sql(source_of(primary, "") + source_of(second, "second") + (mariadb ? "START ALL SLAVES;\n" : "START REPLICA;\n"));
  second.sql("CREATE DATABASE two;\nCREATE TABLE two.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;\n"
             "INSERT INTO two.t VALUES (1, 'one'), (2, 'two');\n");
  it::sysbench_prepare(primary, "oltp_read_write", kTables, kRows);
  it::create_bank(primary);
  ASSERT_EQ(it::wait_gtids(replica, it::logged_gtids(primary)), "");
  it::TempDir work;

  // ---- 1. GTIDs, two channels, while the replica applies ----
  {
    PrimaryLoad load(primary);
    expect_applying(replica);
    const std::string target = work.path() + "/gtid";
    const json doc = local_copy(replica, target);
    ASSERT_TRUE(doc.contains("replication")) << doc.dump();
    const json repl = doc["replication"];
    info("replication of the GTID copy: " + repl.dump());
    const json meta = parse(it::read_file(target + "/mysqlclone.json"));
    ASSERT_TRUE(meta.is_object());
    EXPECT_EQ(meta.value("replication", json()), repl) << "mysqlclone.json and --json differ";
    const json channels = repl.value("replica_of", json::object()).value("channels", json::array());
    ASSERT_EQ(channels.size(), 2u) << repl.dump();
    std::map<std::string, json> by_name;
    for (const auto& c : channels) by_name[c.value("name", "?")] = c;
    ASSERT_TRUE(by_name.count("") && by_name.count("second")) << repl.dump();
    EXPECT_EQ(by_name[""].value("source_port", 0), primary.port());
    EXPECT_EQ(by_name["second"].value("source_port", 0), second.port());
    for (const auto& [name, c] : by_name) {
      EXPECT_TRUE(c.value("gtid", false)) << c.dump();
      EXPECT_FALSE(c.value("source_log_file", "").empty()) << c.dump();
      EXPECT_GT(c.value("source_log_position", uint64_t(0)), 0u) << c.dump();
    }
    const std::string slave_info = it::read_file(target + "/xtrabackup_slave_info");
    EXPECT_TRUE(contains(slave_info, mariadb ? "CHANGE MASTER 'second' TO" : "FOR CHANNEL 'second'")) << slave_info;
    EXPECT_TRUE(contains(slave_info, mariadb ? "SET GLOBAL gtid_slave_pos" : "SET GLOBAL gtid_purged")) << slave_info;
    const auto from_source = strings(repl["replica_of"].value("statements", json()));
    const auto from_replica = strings(repl.value("statements", json()));
    ASSERT_FALSE(from_replica.empty()) << "log_replica_updates is ON: replicating from the replica must be offered";
    auto v = it::mysqlclone_bounded({"verify", target}, 300);
    EXPECT_EQ(v.exit_code, 0) << "verify of the copy of the replica\n" << describe(v);
    fs::copy(target, work.path() + "/gtid-b", fs::copy_options::recursive);

    const std::string remote_dir = work.path() + "/remote";
    json rrepl;
    if (!mariadb) {
      // `remote` from the replica donor while it applies.
      auto r = it::mysqlclone_bounded({"--json", "remote", "--from", "mysqlclone@127.0.0.1:" + std::to_string(replica.port()),
                                       "--password=mysqlclone", "--target-dir", remote_dir},
                                      600);
      ASSERT_EQ(r.exit_code, 0) << describe(r);
      const json rdoc = parse(r.out);
      rrepl = rdoc.value("replication", json::object());
      info("replication of the remote clone: " + rrepl.dump());
      EXPECT_EQ(rrepl.value("replica_of", json::object()).value("channels", json::array()).size(), 2u) << rrepl.dump();
    }
    // Every copy was taken under the load. It stops now: what it wrote after the copies'
    // positions is for the replication below to bring over, and the stock servers' starts on
    // the copies are no better for a load beside them, only slower.
    ASSERT_EQ(load.finish(primary), "");
    std::unique_ptr<it::Server> clone_copy;
    if (!mariadb) {
      clone_copy = std::make_unique<it::Server>(flavour, "16k", std::vector<std::string>{"--datadir", remote_dir});
      expect_clean_start(*clone_copy, "remote");
      EXPECT_EQ(it::run_replica_statements(*clone_copy, strings(rrepl["replica_of"].value("statements", json()))), "");
    }

    // (a) the copy follows the replica's sources.
    it::Server copy(flavour, "16k", {"--datadir", target});
    expect_clean_start(copy, "GTID copy");
    ASSERT_EQ(it::run_replica_statements(copy, from_source), "");
    const std::string want = it::logged_gtids(primary) + "," + it::logged_gtids(second);
    ASSERT_EQ(it::wait_gtids(copy, want), "");
    expect_equal(copy, primary, "GTID copy following the primary");
    EXPECT_EQ(it::checksums(copy, {"two.t"}), it::checksums(second, {"two.t"}));
    if (clone_copy) {
      ASSERT_EQ(it::wait_gtids(*clone_copy, want), "");
      expect_equal(*clone_copy, primary, "remote clone following the primary");
      EXPECT_EQ(it::checksums(*clone_copy, {"two.t"}), it::checksums(second, {"two.t"}));
    }

    // (b) the same copy, started again elsewhere, follows the replica itself.
    it::Server copy_b(flavour, "16k", {"--datadir", work.path() + "/gtid-b"});
    expect_clean_start(copy_b, "GTID copy (b)");
    ASSERT_EQ(it::run_replica_statements(copy_b, from_replica), "");
    ASSERT_EQ(it::wait_gtids(replica, want), "");
    ASSERT_EQ(it::wait_gtids(copy_b, it::logged_gtids(replica)), "");
    expect_equal(copy_b, primary, "GTID copy following the replica");
  }

  // ---- 2. file and position, one channel, --safe-replica-backup ----
  if (mariadb) {
    replica.restart({"--set", "log_slave_updates=OFF"});
    replica.sql("STOP ALL SLAVES;\nRESET SLAVE 'second' ALL;\nCHANGE MASTER TO MASTER_USE_GTID=no;\nSTART SLAVE;\n");
  } else {
    replica.sql("STOP REPLICA;\nRESET REPLICA ALL FOR CHANNEL 'second';\n"
                "CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=0 FOR CHANNEL '';\n");
    for (const char* mode : {"ON_PERMISSIVE", "OFF_PERMISSIVE", "OFF"})
      for (const it::Server* s : {&primary, &replica}) s->sql(std::string("SET GLOBAL gtid_mode = ") + mode + ";\n");
    replica.sql("START REPLICA;\n");
  }
  {
    // MariaDB: a MyISAM writer on the primary too. The replica's applier applies its inserts all
    // through the copy, and from BACKUP STAGE FLUSH on each would wait for the backup's locks: the
    // appliers stop before FLUSH (stopped after it, STOP SLAVE waited for the held applier, which
    // waited for the backup, and the copy never ended).
    std::optional<it::Load> myisam;
    if (mariadb) {
      primary.sql("CREATE DATABASE my;\nCREATE TABLE my.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(60)) "
                  "ENGINE=MyISAM;\n");
      myisam.emplace(it::sql_loop(primary, "MyISAM writer into my.t",
                                  "  echo \"INSERT INTO my.t (v) VALUES (REPEAT('m', 1 + $i % 50));\"\n"
                                  "  echo \"DO SLEEP(0.002);\"",
                                  kLoadSeconds));
    }
    PrimaryLoad load(primary);
    expect_applying(replica);
    if (!mariadb) {
      // SIGTERM while the applier is stopped (MySQL stops it for the whole copy): mysqlclone ends
      // with exit code 9 and the applier runs again.
      it::Background run({it::mysqlclone_binary(), "local", "--target-dir", work.path() + "/interrupted", "-S",
                          replica.socket(), "-u", "mysqlclone", "-pmysqlclone", "--safe-replica-backup", "--max-rate",
                          "5"});
      ASSERT_TRUE(it::wait_until(60, [&] { return it::running_appliers(replica) == 0; }))
          << "the applier was never stopped\n" << run.err();
      run.signal(SIGTERM);
      ASSERT_TRUE(run.wait_for(60)) << run.err();
      EXPECT_EQ(run.exit_code(), 9) << run.err();
      EXPECT_EQ(it::running_appliers(replica), 1u) << run.err() << "\n" << it::replica_status(replica);
      // SIGKILL: no cleanup of ours runs; the guard process starts the applier again.
      it::Background killed({it::mysqlclone_binary(), "local", "--target-dir", work.path() + "/killed", "-S",
                             replica.socket(), "-u", "mysqlclone", "-pmysqlclone", "--safe-replica-backup",
                             "--max-rate", "5"});
      ASSERT_TRUE(it::wait_until(60, [&] { return it::running_appliers(replica) == 0; }))
          << "the applier was never stopped\n" << killed.err();
      killed.signal(SIGKILL);
      ASSERT_TRUE(killed.wait_for(60)) << killed.err();
      EXPECT_TRUE(it::wait_until(30, [&] { return it::running_appliers(replica) == 1; }))
          << "the applier stays stopped after a SIGKILL\n" << killed.err() << "\n" << it::replica_status(replica);
    }
    const std::string target = work.path() + "/position";
    auto r = it::mysqlclone_bounded({"local", "--target-dir", target, "-S", replica.socket(), "-u", "mysqlclone",
                                     "-pmysqlclone", "--safe-replica-backup"},
                                    600);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    info("human output of the file/position copy:\n" + r.out);
    EXPECT_TRUE(contains(r.out, "applier was stopped")) << r.out;
    EXPECT_TRUE(it::wait_until(30, [&] { return it::running_appliers(replica) >= 1; }))
        << "the replica's applier does not run after the copy\n" << it::replica_status(replica);
    const json repl = parse(it::read_file(target + "/mysqlclone.json")).value("replication", json::object());
    EXPECT_GE(repl.value("applier_stopped", json::object()).value("ms", -1), 0) << repl.dump();
    const json channels = repl.value("replica_of", json::object()).value("channels", json::array());
    ASSERT_EQ(channels.size(), 1u) << repl.dump();
    EXPECT_FALSE(channels[0].value("gtid", true)) << repl.dump();
    EXPECT_TRUE(repl["replica_of"].value("positions_exact", false)) << "the applier was stopped: " << repl.dump();
    if (mariadb) {
      EXPECT_TRUE(strings(repl.value("statements", json())).empty()) << repl.dump();
      EXPECT_TRUE(contains(r.out, "not offered") && contains(r.out, "log_slave_updates=OFF")) << r.out;
    }
    // The load stops (as in 1.); the copy replicates everything it wrote after the copy's position.
    if (myisam) {
      EXPECT_TRUE(myisam->running()) << myisam->describe();
      myisam->stop();
    }
    ASSERT_EQ(load.finish(primary), "");
    // MySQL: the copy's binlog holds anonymous transactions now.
    it::Server copy(flavour, "16k",
                    mariadb ? std::vector<std::string>{"--datadir", target}
                            : std::vector<std::string>{"--datadir", target, "--set", "gtid-mode=OFF"});
    expect_clean_start(copy, "file/position copy");
    ASSERT_EQ(it::run_replica_statements(copy, strings(repl["replica_of"].value("statements", json()))), "");
    ASSERT_EQ(it::wait_binlog_end(copy, primary), "");
    expect_equal(copy, primary, "file/position copy following the primary", myisam ? 1 : 0);  // my.t too
  }
  info(flavour + ": the whole replica suite took " +
       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count()) +
       " s");
}

INSTANTIATE_TEST_SUITE_P(Flavours, ReplicaAsSource, ::testing::Values("mysql-9.7", "mariadb-10.11", "mariadb-11.8"),
                         [](const auto& info) { return it::test_name(info.param); });

}  // namespace
