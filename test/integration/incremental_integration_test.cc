// Incremental backups and `restore` against real servers (issue 11, acceptance 1 and part of 4):
// under sysbench write load and bank-style transfers (whose invariants every restore must keep),
// full → incremental 1 → incremental 2 with DDL between them (CREATE, DROP, RENAME, TRUNCATE,
// ADD INDEX); incremental 2 and incremental 1 (the middle of the chain)
// are each restored into a fresh DIR, on which the stock server starts, every table checks, the
// copy replicates from the recorded position, catches up and then equals the source table by
// table. This is the end-to-end test of innodb-formats.md §6.4 (threshold = the base's start
// checkpoint; base files as copied + deltas + only the newest backup's redo, one stock recovery).
// Incremental 1 is taken through a stream (`local --stream | extract`); incremental 2 is also
// restored with `--datadir` into a server laid out by its option file
// (system tablespace, undo and redo in directories of their own, another owner), and the copy of
// incremental 1, diverged by replication and writes, is brought back with `--delta` (acceptance 3;
// refused first while its server runs).
// Then the errors: a base of another server, a base newer than the server, a damaged delta page;
// each one error line, its exit code, and nothing written.
//
// One source server per flavour; small data. A server that cannot start fails the test; nothing
// here skips. The server flushes all its pages before incremental 1 (checkpoint_past), so its
// restore needs the deltas; before incremental 2 flushing is held back, so incremental 2's start
// checkpoint lies below incremental 1's end. The load keeps running through every backup, so
// every copy is fuzzy.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
using it::via_socket;

// `local` (an incremental on `base` unless it is empty) into `target`; the result document.
json backup(const it::Server& src, const std::string& target, const std::string& base,
            const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"--json", "local", "--target-dir", target};
  for (const auto& a : via_socket(src)) args.push_back(a);
  if (!base.empty()) args.insert(args.end(), {"--incremental-from", base});
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = it::mysqlclone_bounded(args, 600);
  EXPECT_EQ(r.exit_code, 0) << describe(r) << "\n--- source error log ---\n" << server_errors(src.error_log());
  const json doc = parse(r.out);
  EXPECT_TRUE(doc.is_object() && doc.value("ok", false)) << describe(r);
  info("local" + (base.empty() ? std::string() : " --incremental-from " + base) + ": " +
       (doc.is_object() ? doc.value("incremental", json()).dump() + " C=" + std::to_string(doc.value("checkpoint_lsn", 0ull)) +
                              " E=" + std::to_string(doc.value("end_lsn", 0ull))
                        : r.err));
  return doc;
}

// The same incremental through a stream: `local --stream --compress=zstd | extract`; the document
// is DIR/mysqlclone.json as the stream carried it.
json backup_through_stream(const it::Server& src, const std::string& target, const std::string& base) {
  const std::string bin = quoted(it::mysqlclone_binary());
  auto r = it::run_bounded({"bash", "-c",
                            "set -o pipefail; " + bin + " --quiet local --stream --compress=zstd -S " + quoted(src.socket()) +
                                " -u mysqlclone -pmysqlclone --incremental-from " + quoted(base) + " | " + bin +
                                " --quiet extract --target-dir " + quoted(target)},
                           600);
  EXPECT_EQ(r.exit_code, 0) << describe(r) << "\n--- source error log ---\n" << server_errors(src.error_log());
  const json doc = parse(it::read_file(target + "/mysqlclone.json"));
  EXPECT_TRUE(doc.is_object() && doc.value("state", "") == "complete") << describe(r);
  info("local --stream --incremental-from " + base + " | extract: " +
       (doc.is_object() ? doc.value("incremental", json()).dump() : r.err));
  return doc;
}

json restore(const std::string& backup_dir, const std::string& target) {
  auto r = it::mysqlclone_bounded({"--json", "restore", "--backup", backup_dir, "--target-dir", target}, 600);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  const json doc = parse(r.out);
  EXPECT_TRUE(doc.is_object() && doc.value("ok", false)) << describe(r);
  return doc;
}

// A command that must fail with `code`, one error line, and leave `target` uncreated.
std::string expect_refusal(const std::string& what, const std::vector<std::string>& args, int code,
                           const std::string& target) {
  auto r = it::mysqlclone_bounded(args, 300);
  EXPECT_EQ(r.exit_code, code) << what << "\n" << describe(r);
  const auto errors = error_lines(r.err);
  EXPECT_EQ(errors.size(), 1u) << what << ": not exactly one error line\n" << describe(r);
  EXPECT_FALSE(fs::exists(target)) << what << ": " << target << " was created";
  const std::string line = errors.empty() ? "" : errors[0];
  info(what + ": " + line);
  return line;
}

// A backup's data as the stock server first shows it: its user tables and their checksums.
struct BackupData {
  std::vector<std::string> tables;
  std::string checksums;
};

// A datadir restored from a backup whose data is `want`: the server starts on it, every table
// checks, the bank's invariants hold and every table equals the backup's.
void expect_backup_data(const std::string& flavour, const std::string& dir, const BackupData& want,
                        const std::vector<std::string>& server_args = {}) {
  std::vector<std::string> args{"--datadir", dir};
  args.insert(args.end(), server_args.begin(), server_args.end());
  it::Server copy(flavour, "16k", args);
  EXPECT_EQ(it::check_all_tables(copy), "") << "CHECK TABLE on " << dir;
  EXPECT_EQ(it::bank_invariants(copy), "") << "the bank's invariants on " << dir;
  EXPECT_EQ(it::tables(copy, true), want.tables) << dir;
  EXPECT_EQ(it::checksums(copy, want.tables), want.checksums) << "CHECKSUM TABLE on " << dir << " differs from the backup's";
}

// The restored DIR: verify passes, the stock server starts, every table checks, it replicates
// from the position the restore reports up to the source's end and then equals the source.
// Returns the data it had at the backup's consistency point, before replication moved it on.
BackupData expect_good_restore(const it::Server& src, const std::string& what, const std::string& dir, const json& doc) {
  SCOPED_TRACE(what);
  BackupData at_backup;
  const json meta = parse(it::read_file(dir + "/mysqlclone.json"));
  EXPECT_TRUE(meta.is_object()) << "no readable mysqlclone.json in " << dir;
  if (!meta.is_object()) return at_backup;
  EXPECT_EQ(meta.value("state", ""), "complete");
  for (const char* f : {"xtrabackup_binlog_info", "xtrabackup_checkpoints", "backup-my.cnf"})
    EXPECT_FALSE(it::read_file(dir + "/" + f).empty()) << f << " missing or empty";
  EXPECT_TRUE(contains(it::read_file(dir + "/xtrabackup_checkpoints"), "full-backuped"));
  auto v = it::mysqlclone_bounded({"--json", "verify", dir}, 600);
  EXPECT_EQ(v.exit_code, 0) << "verify of the restored DIR\n" << describe(v);
  // Its pages, as of any datadir: it was taken for an incremental (deltas only, no page read).
  EXPECT_GT(parse(v.out).value("pages", json::object()).value("valid", 0ull), 100u) << v.out;

  it::Server copy(src.flavour(), "16k", {"--datadir", dir});
  EXPECT_EQ(it::check_all_tables(copy), "") << "CHECK TABLE on the restored copy";
  // At the backup's own consistency point, before replication moves it on.
  EXPECT_EQ(it::bank_invariants(copy), "") << "the bank's invariants on the restored copy";
  at_backup.tables = it::tables(copy, true);
  at_backup.checksums = it::checksums(copy, at_backup.tables);
  std::string error;
  const std::string sql = it::make_replica(copy, doc, error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(it::wait_caught_up(copy, it::source_gtids(src)), "");
  const auto user_tables = it::tables(src, true);
  EXPECT_EQ(it::tables(copy, true), user_tables);
  EXPECT_EQ(it::checksums(copy, user_tables), it::checksums(src, user_tables))
      << "CHECKSUM TABLE differs between the restored copy and the source\n"
      << it::replica_status(copy);
  return at_backup;
}

// `restore --delta` onto `dir`, a restored copy of `backup` whose server has since replicated and
// been written to (acceptance 3): refused while that server runs, nothing changed; once it is
// stopped, the files still right are kept, only the blocks that differ in the others are
// written, what the backup lacks is removed, and the server starts on the backup's data.
void expect_delta_restore(const std::string& flavour, const std::string& backup, const std::string& dir,
                          const BackupData& want) {
  SCOPED_TRACE("restore --delta onto " + dir);
  {
    it::Server diverged(flavour, "16k", {"--datadir", dir});
    diverged.sql("CREATE DATABASE diverged;\n"
                 "CREATE TABLE diverged.t (id INT PRIMARY KEY) ENGINE=InnoDB;\n"
                 "INSERT INTO diverged.t VALUES (1), (2);\n"
                 "DROP TABLE ddl.trunc;\n"
                 "UPDATE bank.account SET balance = balance + 1;\n");
    const std::string before = it::read_file(dir + "/mysqlclone.json");
    const std::string line = expect_refusal("restore onto a running server",
                                            {"restore", "--backup", backup, "--datadir", dir, "--delta"}, 6, dir + "/none");
    EXPECT_TRUE(contains(line, "running server")) << line;
    EXPECT_EQ(it::read_file(dir + "/mysqlclone.json"), before) << "the refused restore changed " << dir;
  }
  // A file of the host's, not the data's (kept by --delta), with an owner of its own: the restore
  // gives what it writes to the datadir's owner, and leaves this one's alone.
  const std::string host_file = dir + "/host-owned.err";
  std::ofstream(host_file) << "the host's\n";
  ASSERT_EQ(::chown(host_file.c_str(), 1234, 1234), 0);
  auto r = it::mysqlclone_bounded({"--json", "restore", "--backup", backup, "--datadir", dir, "--delta"}, 600);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  struct stat st {};
  EXPECT_EQ(::stat(host_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid_t(1234)) << host_file << " changed hands";
  fs::remove(host_file);
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << describe(r);
  info("restore --delta: " + std::to_string(doc.value("written_bytes", 0ull)) + " bytes written, " +
       std::to_string(doc.value("kept_files", 0ull)) + " of " +
       std::to_string(doc.value("files", 0ull)) + " files kept (" + std::to_string(doc.value("kept_bytes", 0ull)) +
       " of " + std::to_string(doc.value("bytes", 0ull)) + " bytes), " +
       std::to_string(doc.value("removed_files", 0ull)) + " removed");
  EXPECT_GT(doc.value("kept_files", 0ull), 0u) << "nothing was kept: " << doc.dump();
  EXPECT_LT(doc.value("kept_files", 0ull), doc.value("files", 0ull)) << "nothing was rewritten: " << doc.dump();
  EXPECT_GT(doc.value("written_bytes", 0ull), 0u) << doc.dump();
  EXPECT_LT(doc.value("written_bytes", 0ull), doc.value("bytes", 0ull)) << "every byte was rewritten: " << doc.dump();
  EXPECT_GE(doc.value("removed_files", 0ull), 1u) << doc.dump();
  EXPECT_FALSE(fs::exists(dir + "/diverged")) << "a database the backup lacks is still there";
  expect_backup_data(flavour, dir, want);
}

// `restore --datadir` into a new server's datadir laid out by its option file: the system
// tablespace, undo tablespaces and redo each in a directory of their own, everything given to
// another owner; the server started with that layout has the backup's data.
void expect_layout_restore(const std::string& flavour, const std::string& backup, const std::string& base,
                           const BackupData& want) {
  SCOPED_TRACE("restore --datadir with a layout into " + base);
  const bool mariadb = flavour.rfind("mariadb", 0) == 0;
  fs::create_directories(base);
  const std::string sys = base + "/sys", undo = base + "/undo", redo = base + "/redo", data = base + "/data";
  {
    std::ofstream cnf(base + "/my.cnf");
    cnf << "[mysqld]\ndatadir=" << data << "\ninnodb_data_home_dir=" << sys << "\ninnodb_undo_directory=" << undo
        << "\ninnodb_log_group_home_dir=" << redo << "\n";
  }
  auto r = it::mysqlclone_bounded({"--json", "--defaults-file", base + "/my.cnf", "restore", "--backup", backup,
                                   "--datadir", data, "--owner", "nobody:nogroup"},
                                  600);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(fs::exists(sys + "/ibdata1")) << it::listing(base).size();
  EXPECT_FALSE(fs::exists(data + "/ibdata1"));
  EXPECT_TRUE(fs::exists(mariadb ? redo + "/ib_logfile0" : redo + "/#innodb_redo"));
  if (!mariadb) {
    EXPECT_TRUE(fs::exists(undo + "/undo_001"));
  }
  struct stat st {};
  EXPECT_EQ(::stat((data + "/mysqlclone.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid_t(65534)) << "mysqlclone.json is not nobody's";
  EXPECT_EQ(::stat((sys + "/ibdata1").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid_t(65534)) << "ibdata1 is not nobody's";
  expect_backup_data(flavour, data, want,
                     {"--set", "innodb-data-home-dir=" + sys, "--set", "innodb-undo-directory=" + undo, "--set",
                      "innodb-log-group-home-dir=" + redo});
}

// Makes the server flush every dirty page until its checkpoint is past `lsn` (the previous
// backup's end): the next backup's start checkpoint then lies past everything the previous one
// carried in its redo, so only the deltas can bring those changes to a restore — one case that
// proves innodb-formats.md §6.4 (with a checkpoint that stood still, the newest redo alone would).
void checkpoint_past(const it::Server& s, uint64_t lsn) {
  s.sql("SET GLOBAL innodb_max_dirty_pages_pct = 0;");
  const bool moved = it::wait_until(120, [&] { return it::checkpoint_lsn(s) > lsn; });
  s.sql("SET GLOBAL innodb_max_dirty_pages_pct = 90;");
  ASSERT_TRUE(moved) << "the checkpoint did not pass LSN " << lsn << " within 120 s";
}

// An incremental of MySQL by page tracking: it says so, and what it read of the files the base
// holds (the listed pages) is far less than their size (what a scan reads); tablespaces new since
// the base are read whole either way.
void expect_read_by_page_list(const std::string& dir, const json& doc) {
  const json inc = doc.value("incremental", json::object());
  EXPECT_EQ(inc.value("pages_found_by", ""), "page-tracking") << doc.dump();
  uint64_t delta_file_bytes = 0, whole_bytes = 0;
  for (const auto& f : parse(it::read_file(dir + "/mysqlclone.json")).value("files", json::array())) {
    if (f.contains("delta_of"))
      delta_file_bytes += f.value("file_bytes", 0ull);
    else if (f.contains("space_id"))
      whole_bytes += f.value("bytes", 0ull);
  }
  const uint64_t read_of_deltas = inc.value("scanned_bytes", 0ull) - whole_bytes;
  info(dir + " by page tracking: read " + std::to_string(read_of_deltas) + " bytes of the " +
       std::to_string(delta_file_bytes) + " bytes of tablespace files the base holds (" +
       std::to_string(inc.value("tracked_pages", 0ull)) + " pages listed)");
  EXPECT_GT(inc.value("tracked_pages", 0ull), 0u) << doc.dump();
  EXPECT_LT(read_of_deltas, delta_file_bytes / 2) << doc.dump();
}

class Incremental : public ::testing::TestWithParam<std::string> {};

TEST_P(Incremental, ChainUnderLoadWithDdl) {
  const std::string& flavour = GetParam();
  const bool mariadb = flavour.rfind("mariadb", 0) == 0;
  it::Server src(flavour, "16k");
  it::sysbench_prepare(src, "oltp_read_write", 4, 10000);
  it::create_bank(src);
  src.sql("CREATE DATABASE ddl;\n"
          "CREATE TABLE ddl.keep (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB;\n"
          "CREATE TABLE ddl.dropme (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB;\n"
          "CREATE TABLE ddl.trunc (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB;\n"
          "CREATE TABLE ddl.idx (id INT PRIMARY KEY, v VARCHAR(80), n INT) ENGINE=InnoDB;\n"
          "INSERT INTO ddl.keep SELECT id, SHA2(id, 256) FROM sbtest.sbtest1 WHERE id <= 2000;\n"
          "INSERT INTO ddl.dropme SELECT * FROM ddl.keep; INSERT INTO ddl.trunc SELECT * FROM ddl.keep;\n"
          "INSERT INTO ddl.idx SELECT id, v, id % 97 FROM ddl.keep;\n");
  it::TempDir work;
  const std::string w = work.path();

  it::Load oltp = it::sysbench_run(src, "oltp_read_write", 4, 10000, 2, 900);
  it::Load bank = it::bank_transfers(src, 900);  // its invariants must hold in every restore
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 256 * 1024; })) << oltp.describe();

  // MySQL: the full backup starts page tracking (component_mysqlbackup), and incremental 2, whose
  // base's start checkpoint is past the start of tracking, reads only the pages it lists.
  const json full = backup(src, w + "/full", "", mariadb ? std::vector<std::string>{} : std::vector<std::string>{"--page-tracking"});
  ASSERT_EQ(full.value("backup_type", ""), "full");
  if (mariadb) {  // refused before anything is made
    std::vector<std::string> args{"local", "--target-dir", w + "/tracked"};
    for (const auto& a : via_socket(src)) args.push_back(a);
    args.push_back("--page-tracking");
    expect_refusal("--page-tracking on MariaDB", args, 2, w + "/tracked");
    args.back() = "--redo-file-size=64";  // MySQL's redo files; it was taken and meant nothing
    expect_refusal("--redo-file-size on MariaDB", args, 2, w + "/tracked");
  }

  src.sql("CREATE TABLE ddl.created (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB;\n"
          "INSERT INTO ddl.created SELECT * FROM ddl.keep;\n"
          "DROP TABLE ddl.dropme;\n"
          "RENAME TABLE ddl.keep TO ddl.renamed;\n"
          "UPDATE ddl.renamed SET v = CONCAT(v, 'x') WHERE id % 10 = 0;\n"
          "TRUNCATE TABLE ddl.trunc;\n"
          "INSERT INTO ddl.trunc SELECT id, v FROM ddl.renamed WHERE id <= 500;\n"
          "ALTER TABLE ddl.idx ADD INDEX n_idx (n);\n"
          "UPDATE ddl.idx SET n = n + 1 WHERE id % 7 = 0;\n");
  // A new general tablespace (MySQL); a page-compressed table (MariaDB: its pages are stored
  // compressed with holes punched, its LSN stays readable in the page header).
  if (mariadb)
    src.sql("CREATE TABLE ddl.pc (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB PAGE_COMPRESSED=1;\n"
            "INSERT INTO ddl.pc SELECT * FROM ddl.created;\n");
  else
    src.sql("CREATE TABLESPACE gts ADD DATAFILE 'gts.ibd';\n"
            "CREATE TABLE ddl.gt (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB TABLESPACE gts;\n"
            "INSERT INTO ddl.gt SELECT * FROM ddl.created;\n");
  checkpoint_past(src, full.value("end_lsn", 0ull));
  // Incremental 1 goes through a compressed stream and extract, as a stream to another host would.
  const json inc1 = backup_through_stream(src, w + "/inc1", w + "/full");
  ASSERT_EQ(inc1.value("backup_type", ""), "incremental");
  const json i1 = inc1.value("incremental", json::object());
  EXPECT_EQ(i1.value("threshold_lsn", 0ull), full.value("checkpoint_lsn", 1ull));
  EXPECT_GT(inc1.value("checkpoint_lsn", 0ull), full.value("end_lsn", 0ull));
  EXPECT_GT(i1.value("delta_files", 0ull), 0u) << inc1.dump();
  // ddl.created and ddl.trunc (TRUNCATE gives it a new space id) at least.
  EXPECT_GE(i1.value("whole_tablespace_files", 0ull), 2u) << inc1.dump();
  // MySQL: tracking started by the full backup (which waited for the checkpoint to pass its
  // start) covers [full's start checkpoint, ours]: only the listed pages are read.
  if (!mariadb) expect_read_by_page_list(w + "/inc1", inc1);

  src.sql("CREATE TABLE ddl.created2 (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB;\n"
          "INSERT INTO ddl.created2 SELECT * FROM ddl.created;\n"
          "DROP TABLE ddl.created;\n"
          "RENAME TABLE ddl.renamed TO ddl.renamed2;\n"
          "TRUNCATE TABLE ddl.trunc;\n"
          "INSERT INTO ddl.trunc VALUES (1, 'one');\n"
          "ALTER TABLE ddl.idx ADD INDEX v_idx (v);\n"
          "DELETE FROM ddl.idx WHERE id % 5 = 0;\n");
  if (mariadb) {
    src.sql("UPDATE ddl.pc SET v = CONCAT('y', v) WHERE id % 3 = 0;");
  } else {
    // An undo tablespace truncated (MySQL gives it a new space id under the same file name: the
    // incremental must copy it whole, restore must not lay it over the base's file) and a new one.
    src.sql("UPDATE ddl.gt SET v = CONCAT('y', v) WHERE id % 3 = 0;\n"
            "CREATE UNDO TABLESPACE undo_x ADD DATAFILE 'undo_x.ibu';\n"
            "ALTER UNDO TABLESPACE innodb_undo_001 SET INACTIVE;\n");
    const auto undo_state = [&] {
      return trim(src.sql("SELECT STATE FROM information_schema.INNODB_TABLESPACES WHERE NAME = 'innodb_undo_001';"));
    };
    EXPECT_TRUE(it::wait_until(120, [&] { return undo_state() == "empty"; }))
        << "innodb_undo_001 was not truncated within 120 s: " << undo_state();
    src.sql("ALTER UNDO TABLESPACE innodb_undo_001 SET ACTIVE;");
  }
  // Now the other case: flushing held back (as in ConsistencyUnderLoad), so incremental 2's start
  // checkpoint lies below incremental 1's end: pages incremental 1 copied carry changes newer than
  // the checkpoint incremental 2's redo starts from, and must still come out right.
  src.sql(mariadb ? "SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0, GLOBAL innodb_io_capacity = 100, "
                    "GLOBAL innodb_adaptive_flushing = OFF;"
                  : "SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0, GLOBAL innodb_io_capacity = 100, "
                    "GLOBAL innodb_idle_flush_pct = 0, GLOBAL innodb_adaptive_flushing_lwm = 70;");
  const json inc2 = backup(src, w + "/inc2", w + "/inc1");
  ASSERT_EQ(inc2.value("backup_type", ""), "incremental");
  // The whole chain was taken under the load. It stops now: what it wrote after the backups is
  // for the replication of the restores below to bring over, and the checks of the chain are no
  // better for a load beside them, only slower.
  const bool load_ran = oltp.running(), bank_ran = bank.running();
  oltp.stop();
  bank.stop();
  EXPECT_TRUE(load_ran) << "sysbench ended during the chain: " << oltp.describe();
  EXPECT_TRUE(bank_ran) << "the bank transfers ended during the chain: " << bank.describe();
  ASSERT_TRUE(it::wait_quiet(src, 60));
  EXPECT_EQ(inc2.value("incremental", json::object()).value("threshold_lsn", 0ull), inc1.value("checkpoint_lsn", 1ull));
  EXPECT_LT(inc2.value("checkpoint_lsn", 0ull), inc1.value("end_lsn", 0ull))
      << "the checkpoint was not held back: incremental 2 does not cover a base copied past its start checkpoint";
  // ddl.created2 and ddl.trunc; MySQL also undo_x and the truncated innodb_undo_001 (new space ids).
  const json i2 = inc2.value("incremental", json::object());
  EXPECT_GE(i2.value("whole_tablespace_files", 0ull), mariadb ? 2u : 4u) << inc2.dump();
  if (mariadb) {
    EXPECT_EQ(i2.value("pages_found_by", ""), "scan");
  } else {
    // Its threshold is incremental 1's start checkpoint, held back since: the server may not have
    // tracked past it yet and then refuses the list (error 3803); the incremental scans and says
    // why. Either way its restore below must be right (an ADD INDEX, written without redo, came
    // after the threshold).
    if (i2.value("pages_found_by", "") == "scan") {
      EXPECT_TRUE(contains(i2.value("page_tracking", ""), "not used")) << inc2.dump();
    } else {
      EXPECT_EQ(i2.value("pages_found_by", ""), "page-tracking") << inc2.dump();
    }
  }
  {  // verify checks an incremental by its SHA-256s and every delta page.
    auto v = it::mysqlclone_bounded({"verify", w + "/inc2"}, 300);
    EXPECT_EQ(v.exit_code, 0) << describe(v);
  }
  // An incremental alone is no datadir: the stock server must not start on it. (On a copy: a
  // MariaDB server that fails to start has already written to the Aria log.)
  {
    fs::copy(w + "/inc2", w + "/inc2-try", fs::copy_options::recursive);
    auto a = it::try_start_stock_server(flavour, w + "/inc2-try");
    EXPECT_FALSE(a.started) << "a stock server started on the incremental " << w << "/inc2";
    fs::remove_all(w + "/inc2-try");
  }

  {  // The newest backup of the chain.
    const json doc = restore(w + "/inc2", w + "/r2");
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(doc.value("end_lsn", 0ull), inc2.value("end_lsn", 1ull));
    EXPECT_EQ(doc.value("restore", json::object()).value("chain", json::array()).size(), 3u) << doc.dump();
    EXPECT_GT(doc.value("delta_pages", 0ull), 0u);
    const BackupData data = expect_good_restore(src, "restore of incremental 2", w + "/r2", doc);
    expect_layout_restore(flavour, w + "/inc2", w + "/lay", data);
  }
  {  // The middle of the chain: replicates through the DDL taken after it.
    const json doc = restore(w + "/inc1", w + "/r1");
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(doc.value("end_lsn", 0ull), inc1.value("end_lsn", 1ull));
    const BackupData data = expect_good_restore(src, "restore of incremental 1", w + "/r1", doc);
    expect_delta_restore(flavour, w + "/inc1", w + "/r1", data);
  }

  // A damaged page in a delta: restore refuses before it writes anything.
  std::string largest;
  uintmax_t largest_size = 0;
  for (const auto& e : fs::recursive_directory_iterator(w + "/inc2"))
    if (e.path().extension() == ".delta" && e.file_size() > largest_size) {
      largest = e.path();
      largest_size = e.file_size();
    }
  ASSERT_GT(largest_size, 2u * 16384) << "no delta with pages in inc2";
  it::flip_byte(largest, 2 * 16384 + 100);  // inside the first page after the first chunk block
  {
    auto v = it::mysqlclone_bounded({"verify", w + "/inc2"}, 300);
    EXPECT_EQ(v.exit_code, 11) << "verify of an incremental with a damaged delta\n" << describe(v);
  }
  const std::string line = expect_refusal("a damaged delta page",
                                          {"restore", "--backup", w + "/inc2", "--target-dir", w + "/bad"}, 11, w + "/bad");
  EXPECT_TRUE(contains(line, fs::path(largest).filename().string())) << line;
  it::flip_byte(largest, 2 * 16384 + 100);

  // A sound delta that is not the one the backup wrote (its recorded SHA-256 says another): verify
  // and restore refuse it, restore before it writes anything.
  {
    const std::string manifest = w + "/inc2/mysqlclone.json";
    const std::string original = it::read_file(manifest);
    json doc = parse(original);
    const std::string rel = fs::relative(largest, w + "/inc2").string();
    size_t changed = 0;
    for (json& f : doc["files"])
      if (f.value("path", "") == rel) {
        f["sha256"] = std::string(64, '0');
        ++changed;
      }
    ASSERT_EQ(changed, 1u) << rel << " not listed in " << manifest;
    std::ofstream(manifest, std::ios::trunc) << doc.dump(2);
    auto v = it::mysqlclone_bounded({"verify", w + "/inc2"}, 300);
    EXPECT_EQ(v.exit_code, 11) << "verify of an incremental whose delta is not the recorded one\n" << describe(v);
    EXPECT_TRUE(contains(v.out + v.err, "SHA-256")) << describe(v);
    const std::string refused = expect_refusal("a delta that is not the recorded one",
                                               {"restore", "--backup", w + "/inc2", "--target-dir", w + "/bad"}, 11,
                                               w + "/bad");
    EXPECT_TRUE(contains(refused, "its SHA-256 is not the one its backup records")) << refused;
    std::ofstream(manifest, std::ios::trunc) << original;
  }

  // A damaged whole file is found only while it is copied, after DIR exists: DIR is then marked
  // failed and no server starts on it.
  const std::string whole = w + "/inc2/ddl/created2.ibd";
  ASSERT_TRUE(fs::exists(whole));
  it::flip_byte(whole, 3 * 16384 + 200);
  {
    auto r = it::mysqlclone_bounded({"restore", "--backup", w + "/inc2", "--target-dir", w + "/midway"}, 300);
    EXPECT_EQ(r.exit_code, 11) << describe(r);
    EXPECT_EQ(error_lines(r.err).size(), 1u) << describe(r);
    EXPECT_TRUE(contains(r.err, "created2.ibd")) << describe(r);
    it::expect_refused(flavour, w + "/midway");
  }
  it::flip_byte(whole, 3 * 16384 + 200);

  // The redo in the server's format is listed with its SHA-256 like the data: a damaged byte in
  // it is found by verify, and by restore while it copies it (DIR then marked failed). It was
  // neither: the server recovered up to the damage, silently, and lost the rest.
  const std::string redo = mariadb ? w + "/inc2/ib_logfile0" : w + "/inc2/#innodb_redo/#ib_redo0";
  ASSERT_TRUE(fs::exists(redo)) << redo;
  it::flip_byte(redo, 8192 + 100);
  {
    auto v = it::mysqlclone_bounded({"verify", w + "/inc2"}, 300);
    EXPECT_EQ(v.exit_code, 11) << "verify of an incremental with a damaged redo byte\n" << describe(v);
    EXPECT_TRUE(contains(v.out, fs::relative(redo, w + "/inc2").string())) << describe(v);
    auto r = it::mysqlclone_bounded({"restore", "--backup", w + "/inc2", "--target-dir", w + "/redo-damaged"}, 300);
    EXPECT_EQ(r.exit_code, 11) << describe(r);
    EXPECT_EQ(error_lines(r.err).size(), 1u) << describe(r);
    it::expect_refused(flavour, w + "/redo-damaged");
  }
  it::flip_byte(redo, 8192 + 100);

  // A base of another server: a stock server on the restored copy of incremental 1.
  {
    it::Server other(flavour, "16k", {"--datadir", w + "/r1"});
    std::vector<std::string> args{"local", "--target-dir", w + "/foreign"};
    for (const auto& a : via_socket(other)) args.push_back(a);
    args.insert(args.end(), {"--incremental-from", w + "/full"});
    const std::string foreign = expect_refusal("a base of another server", args, 6, w + "/foreign");
    EXPECT_TRUE(contains(foreign, "another server")) << foreign;
  }

  // A base newer than the server: the source itself, restored from the full backup (as after a
  // disaster), is behind incremental 2. MySQL keeps its identity (auto.cnf) as a restore in place would.
  src.stop();
  fs::rename(src.datadir(), w + "/old-datadir");
  restore(w + "/full", src.datadir());
  if (!mariadb) fs::copy_file(w + "/old-datadir/auto.cnf", src.datadir() + "/auto.cnf");
  src.start();
  std::vector<std::string> args{"local", "--target-dir", w + "/newer"};
  for (const auto& a : via_socket(src)) args.push_back(a);
  args.insert(args.end(), {"--incremental-from", w + "/inc2"});
  const std::string newer = expect_refusal("a base newer than the server", args, 6, w + "/newer");
  EXPECT_TRUE(contains(newer, "newer than the server")) << newer;

  // Once the server's LSN has moved past incremental 2 again, only the restore's record in the
  // datadir (its mysqlclone.json) tells that incremental 2 is of the history the restore left.
  const uint64_t inc2_end = parse(it::read_file(w + "/inc2/mysqlclone.json")).value("end_lsn", 0ull);
  ASSERT_GT(inc2_end, 0u);
  {
    it::Load redo = it::blob_writer(src, 300);
    ASSERT_TRUE(it::wait_until(300, [&] { return it::current_lsn(src) > inc2_end; })) << redo.describe();
    redo.stop();
  }
  args[2] = w + "/left";
  const std::string left = expect_refusal("a base of the history a restore left", args, 6, w + "/left");
  EXPECT_TRUE(contains(left, "history the restore left")) << left;
}

INSTANTIATE_TEST_SUITE_P(Flavours, Incremental, ::testing::ValuesIn(it::kFlavours),
                         [](const ::testing::TestParamInfo<std::string>& info) { return it::test_name(info.param); });

}  // namespace
