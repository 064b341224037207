// The small decisions of a backup: what to do with each datadir file, what the metadata files
// say, which statements make the copy a replica, and which targets are refused.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "libclone/command/local/ddl_window.h"
#include "libclone/command/local/incremental_base.h"
#include "libclone/datadir/datadir_files.h"
#include "libclone/command/local/backup_files.h"
#include "libclone/server/preflight.h"
#include "libclone/server/replication.h"
#include "test_datadir.h"

namespace {
using namespace mysqlclone;
using innodb::Flavour;
namespace fs = std::filesystem;

FileAction action(const std::string& path, Flavour f) { return classify_path(path, f).action; }

TEST(DatadirFiles, MysqlRules) {
  const Flavour m = Flavour::kMysql;
  EXPECT_EQ(action("db/t.MYD", m), FileAction::kCopyLocked);
  EXPECT_EQ(action("db/t.MYI", m), FileAction::kCopyLocked);
  EXPECT_EQ(action("db/t_362.sdi", m), FileAction::kCopyLocked);
  EXPECT_EQ(action("mysql/general_log.CSV", m), FileAction::kCopyLocked);
  EXPECT_EQ(action("ib_buffer_pool", m), FileAction::kCopy);
  EXPECT_EQ(action("mysql_upgrade_history", m), FileAction::kCopy);
  for (const char* skipped : {"auto.cnf", "mysqld-auto.cnf", "binlog.000001", "binlog.index", "#ib_16384_0.dblwr",
                              "server-key.pem", "mysqld.pid", "error.log", "mysqld.sock", "ib_logfile0",
                              "db/t.ibd", "ibdata1", "undo_001", "ibtmp1", "db/#sql-1f_2.ibd", "relay-bin.000003"}) {
    auto f = classify_path(skipped, m);
    EXPECT_EQ(f.action, FileAction::kSkip) << skipped;
    EXPECT_TRUE(f.known) << skipped;
  }
  EXPECT_FALSE(classify_path("my-notes.txt", m).known);
}

TEST(DatadirFiles, MariadbRules) {
  const Flavour d = Flavour::kMariadb;
  for (const char* ddl : {"db/t.frm", "db/p.par", "db/t.TRG", "db/x.TRN", "db/db.opt", "db/ext.isl"})
    EXPECT_EQ(action(ddl, d), FileAction::kCopyDdl) << ddl;
  EXPECT_EQ(action("mysql/user.MAD", d), FileAction::kCopyLocked);
  EXPECT_EQ(action("aria_log_control", d), FileAction::kCopyLast);
  EXPECT_EQ(action("aria_log.00000001", d), FileAction::kCopyLast);
  EXPECT_EQ(action("mariadb_upgrade_info", d), FileAction::kCopy);
  for (const char* skipped : {"ib_logfile0", "ddl.log", "ddl_recovery.log", "binlog.000001", "binlog.000001.idx",
                              "multi-master.info", "undo001", "db/t.ibd"})
    EXPECT_EQ(action(skipped, d), FileAction::kSkip) << skipped;
  // .frm is not MySQL's (MySQL 8 has no .frm files; a stray one is not copied as DDL).
  EXPECT_EQ(action("db/t.frm", Flavour::kMysql), FileAction::kSkip);
}

TEST(DatadirFiles, ClassifiesATreeAndListsEveryDirectory) {
  testpages::ScratchDir scratch;
  fs::create_directories(scratch.path / "empty_schema");
  fs::create_directories(scratch.path / "#innodb_redo");
  std::ofstream(scratch.path / "#innodb_redo" / "#ib_redo5") << "x";
  std::ofstream(scratch.path / "db.MYD");
  fs::create_directories(scratch.path / "db");
  std::ofstream(scratch.path / "db" / "t.MYD") << "data";
  auto others = classify_other_files(scratch.path.string(), Flavour::kMysql);
  ASSERT_TRUE(others.is_ok());
  EXPECT_NE(std::find(others->directories.begin(), others->directories.end(), "empty_schema"),
            others->directories.end());
  EXPECT_EQ(std::find(others->directories.begin(), others->directories.end(), "#innodb_redo"),
            others->directories.end());
  bool saw = false;
  for (const auto& f : others->files) saw |= f.rel_path == "db/t.MYD" && f.stamp.size == 4;
  EXPECT_TRUE(saw);
}

// Only ENOENT means a file is gone (and is left out of the copy); any other failure to stat it
// is an error naming it. Tests run as root, so ENOTDIR and ELOOP stand in for EACCES.
TEST(DatadirFiles, RestatTellsAGoneFileFromAnUnreadableOne) {
  testpages::ScratchDir scratch;
  const std::string dir = scratch.path.string();
  fs::create_directories(scratch.path / "db");
  std::ofstream(scratch.path / "db" / "t.MYD") << "data";
  const DatadirFile f = classify_path("db/t.MYD", Flavour::kMysql);
  auto now = restat(dir, f);
  ASSERT_TRUE(now.is_ok()) << now.status().message();
  ASSERT_TRUE(now->has_value());
  EXPECT_EQ((*now)->stamp.size, 4u);

  fs::remove(scratch.path / "db" / "t.MYD");
  auto gone = restat(dir, f);
  ASSERT_TRUE(gone.is_ok()) << gone.status().message();
  EXPECT_FALSE(gone->has_value());

  fs::remove(scratch.path / "db");
  std::ofstream(scratch.path / "db") << "not a directory";
  auto not_dir = restat(dir, f);
  ASSERT_FALSE(not_dir.is_ok());
  EXPECT_EQ(not_dir.status().code(), ExitCode::kSourceIo);
  EXPECT_NE(not_dir.status().message().find(dir + "/db/t.MYD"), std::string::npos) << not_dir.status().message();
  EXPECT_NE(not_dir.status().message().find(std::strerror(ENOTDIR)), std::string::npos) << not_dir.status().message();

  fs::remove(scratch.path / "db");
  fs::create_directory_symlink("db", scratch.path / "db");  // a loop
  auto loop = restat(dir, f);
  ASSERT_FALSE(loop.is_ok());
  EXPECT_NE(loop.status().message().find(std::strerror(ELOOP)), std::string::npos) << loop.status().message();
}

// A stamp vouches for a file only when it is the same file (inode and birth time), of the same
// size and ctime, and that ctime was older than the stamp by more than any timestamp granularity.
TEST(FileStamps, UnchangedOnlyWhenTheSameFileAndSettled) {
  const int64_t s = 1'000'000'000;
  FileStamp then{{1, 42, 7}, 4096, 100 * s, 110 * s};
  EXPECT_TRUE(unchanged_since(then, then));
  FileStamp now = then;
  now.identity.birth_ns = 8;  // the inode reused by a new file
  EXPECT_FALSE(unchanged_since(then, now));
  now = then;
  now.size = 8192;
  EXPECT_FALSE(unchanged_since(then, now));
  now = then;
  now.changed_ns += 1;
  EXPECT_FALSE(unchanged_since(then, now));
  // Changed a moment before the first stat: a write in the same tick, or one begun then and
  // still under way, would not move the ctime.
  FileStamp recent{{1, 42, 7}, 4096, 100 * s + 5'000'000, 100 * s + 30'000'000};
  EXPECT_FALSE(unchanged_since(recent, recent));
  recent.taken_ns = 100 * s + 900'000'000;
  EXPECT_FALSE(unchanged_since(recent, recent));
  recent.taken_ns = 101 * s + 10'000'000;
  EXPECT_TRUE(unchanged_since(recent, recent));
  // Whole seconds: a file system that keeps no finer times.
  FileStamp seconds{{1, 42, 7}, 4096, 100 * s, 101 * s};
  EXPECT_FALSE(unchanged_since(seconds, seconds));
}

TEST(FileStamps, ByPathAndOfTheOpenFileAgree) {
  testpages::ScratchDir scratch;
  const std::string path = (scratch.path / "f").string();
  EXPECT_FALSE(stamp_path(path).value().has_value());
  std::ofstream(path) << "data";
  auto by_path = stamp_path(path);
  ASSERT_TRUE(by_path.is_ok() && by_path->has_value());
  auto file = ReadFile::open(path);
  ASSERT_TRUE(file.is_ok());
  auto of_file = file->stamp();
  ASSERT_TRUE(of_file.is_ok());
  EXPECT_EQ((*by_path)->identity, of_file->identity);
  EXPECT_EQ((*by_path)->size, 4u);
  EXPECT_EQ((*by_path)->changed_ns, of_file->changed_ns);
  std::ofstream(scratch.path / "g") << "data";
  fs::rename(scratch.path / "g", path);  // another file under the name
  EXPECT_NE(stamp_path(path).value()->identity, of_file->identity);
}

// Page 0 read before the DDL lock is not read again under it while its file is unchanged since
// (the stamps are made to look settled: the files here are only just written); a file replaced
// under its name, or written since, is read again.
TEST(DdlWindow, SightReadsAgainOnlyWhatChangedSinceTheEarlierRead) {
  testpages::ScratchDir scratch;
  testpages::make_mysql_datadir(scratch.path);
  const auto fallback = innodb::default_format(16384, Flavour::kMysql);
  auto inv = scan_datadir(scratch.path.string());
  ASSERT_TRUE(inv.is_ok()) << inv.status().message();
  auto reads = read_space_ids(*inv, fallback, 2);
  ASSERT_TRUE(reads.is_ok());
  ASSERT_EQ(reads->size(), 3u);  // ibdata1, mysql.ibd, db/t1.ibd; not ibtmp1
  EXPECT_EQ(reads->at("db/t1.ibd").space_id, 5u);
  for (auto& [path, read] : *reads) read.stamp.taken_ns += 10'000'000'000;
  reads->at("mysql.ibd").space_id = 77;  // what was read is taken, not read again

  auto sight = [&](uint64_t& page0_reads) {
    std::vector<const TablespaceEntry*> entries;
    auto now = sight_tablespaces(*inv, fallback, *reads, entries, page0_reads);
    EXPECT_TRUE(now.is_ok()) << now.status().message();
    std::map<std::string, innodb::SpaceId> ids;
    for (const auto& t : *now) ids[t.rel_paths[0]] = t.space_id.value();
    return ids;
  };
  uint64_t page0_reads = 0;
  auto ids = sight(page0_reads);
  EXPECT_EQ(page0_reads, 0u);
  EXPECT_EQ(ids["mysql.ibd"], 77u);

  // db/t1.ibd re-created under a new space id (a new file), mysql.ibd grown by a page.
  testpages::write_file(scratch.path / "db" / "new.ibd", testpages::tablespace(9, 10));
  fs::rename(scratch.path / "db" / "new.ibd", scratch.path / "db" / "t1.ibd");
  std::ofstream(scratch.path / "mysql.ibd", std::ios::app) << std::string(16384, '\0');
  page0_reads = 0;
  ids = sight(page0_reads);
  EXPECT_EQ(page0_reads, 2u);
  EXPECT_EQ(ids["db/t1.ibd"], 9u);
  EXPECT_EQ(ids["mysql.ibd"], 0xFFFFFFFEu);
  EXPECT_EQ(ids["ibdata1"], 0u);
}

LocalBackupResult sample(Flavour f) {
  LocalBackupResult r;
  r.server.flavour = f;
  r.server.version = {9, 7, 4};
  r.server.version_string = "9.7.4-2";
  r.server.page_size = 16384;
  r.server.data_file_path = "ibdata1:12M:autoextend";
  r.server.redo_capacity = 128 << 20;
  r.server.log_bin = true;
  r.server.log_bin_basename = "/var/lib/mysql/binlog";
  if (f == Flavour::kMysql) r.server.gtid_mode = "ON";
  r.checkpoint_lsn = 1000;
  r.end.lsn = 5000;
  r.end.binlog_file = "binlog.000002";
  r.end.binlog_position = 1234;
  r.end.gtid = f == Flavour::kMysql ? "uuid:1-7" : "0-1-7";
  r.source_host = "db1";
  r.source_port = 3306;
  return r;
}

TEST(Metadata, XtrabackupCompatibleFiles) {
  const auto r = sample(Flavour::kMysql);
  EXPECT_EQ(xtrabackup_binlog_info(r), "binlog.000002\t1234\tuuid:1-7\n");
  const std::string cp = xtrabackup_checkpoints(r);
  EXPECT_NE(cp.find("backup_type = full-backuped\n"), std::string::npos);
  EXPECT_NE(cp.find("to_lsn = 1000\n"), std::string::npos);
  EXPECT_NE(cp.find("last_lsn = 5000\n"), std::string::npos);
  const std::string cnf = backup_my_cnf(r);
  EXPECT_NE(cnf.find("innodb_page_size=16384\n"), std::string::npos);
  EXPECT_NE(cnf.find("innodb_redo_log_capacity=134217728\n"), std::string::npos);
  EXPECT_NE(cnf.find("log_bin=binlog\n"), std::string::npos);
  EXPECT_NE(cnf.find("mysqld 9.7.4"), std::string::npos);
  Manifest m = backup_manifest(r);
  m.state = TargetState::kComplete;
  const auto j = manifest_json(m);
  EXPECT_EQ(j["state"], "complete");
  EXPECT_EQ(j["end_lsn"], 5000);
  EXPECT_EQ(j["gtid_executed"], "uuid:1-7");
}

TEST(Replication, MysqlUsesGtidAutoPosition) {
  auto s = replica_statements({replica_source(sample(Flavour::kMysql))});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_NE(s[0].find("SOURCE_HOST='db1', SOURCE_PORT=3306"), std::string::npos);
  EXPECT_NE(s[0].find("SOURCE_AUTO_POSITION=1"), std::string::npos);
  EXPECT_EQ(s[1], "START REPLICA");
  auto r = sample(Flavour::kMysql);
  r.end.gtid.clear();
  EXPECT_NE(replica_statements({replica_source(r)})[0].find("SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=1234"),
            std::string::npos);
  // Switched to gtid_mode OFF, a server keeps its GTID set: by position all the same.
  r = sample(Flavour::kMysql);
  r.server.gtid_mode = "OFF";
  EXPECT_NE(replica_statements({replica_source(r)})[0].find("SOURCE_AUTO_POSITION=0, SOURCE_LOG_FILE="),
            std::string::npos);
}

TEST(Replication, MariadbSetsGtidSlavePos) {
  auto s = replica_statements({replica_source(sample(Flavour::kMariadb))});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "SET GLOBAL gtid_slave_pos = '0-1-7'");
  EXPECT_NE(s[1].find("MASTER_USE_GTID=slave_pos"), std::string::npos);
  EXPECT_EQ(s[2], "START SLAVE");
}

// A replica of two sources: the default channel by GTID, channel 'two' by file and position.
LocalBackupResult replica_sample(Flavour f, bool log_replica_updates) {
  auto r = sample(f);
  r.server.log_replica_updates = log_replica_updates;
  r.end.gtid_slave_pos = "0-1-7,2-2-3";
  ReplicaChannel one;
  one.source_host = "primary";
  one.source_port = 3307;
  one.gtid = true;
  one.source_log_file = "binlog.000009";
  one.source_log_position = 99;
  ReplicaChannel two = one;
  two.name = "two";
  two.source_port = 3308;
  two.gtid = false;
  two.source_log_position = 777;
  r.end.channels = {one, two};
  return r;
}

TEST(Replication, MysqlReplicaSetsUpEveryChannelAndDropsThemToFollowTheReplica) {
  const auto r = replica_sample(Flavour::kMysql, true);
  const ReplicaSetup setup = replica_setup(r);
  ASSERT_EQ(setup.from_its_source.size(), 4u);
  EXPECT_NE(setup.from_its_source[0].find("SOURCE_HOST='primary', SOURCE_PORT=3307"), std::string::npos);
  EXPECT_NE(setup.from_its_source[0].find("SOURCE_AUTO_POSITION=1 FOR CHANNEL ''"), std::string::npos);
  EXPECT_NE(setup.from_its_source[1].find(
                "SOURCE_AUTO_POSITION=0, SOURCE_LOG_FILE='binlog.000009', SOURCE_LOG_POS=777 FOR CHANNEL 'two'"),
            std::string::npos);
  EXPECT_EQ(setup.from_its_source[2], "START REPLICA FOR CHANNEL ''");
  EXPECT_EQ(setup.from_its_source[3], "START REPLICA FOR CHANNEL 'two'");
  ASSERT_EQ(setup.from_this_server.size(), 3u);
  EXPECT_EQ(setup.from_this_server[0], "RESET REPLICA ALL");
  EXPECT_NE(setup.from_this_server[1].find("SOURCE_HOST='db1'"), std::string::npos);
  EXPECT_EQ(xtrabackup_slave_info(r),
            "SET GLOBAL gtid_purged='uuid:1-7';\n"
            "CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1 FOR CHANNEL '';\n"
            "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000009', SOURCE_LOG_POS=777 FOR CHANNEL 'two';\n");
  const auto cnf = nlohmann::json::parse(mysqld_auto_cnf(r));
  EXPECT_EQ(cnf["mysql_static_variables"]["relay_log_recovery"]["Value"], "ON");
  EXPECT_EQ(cnf["mysql_static_variables"]["skip_replica_start"]["Value"], "ON");
  EXPECT_EQ(mysqld_auto_cnf(sample(Flavour::kMysql)), "");  // not a replica: nothing to persist
  EXPECT_EQ(xtrabackup_slave_info(sample(Flavour::kMysql)), "");
}

TEST(Replication, MariadbReplicaWithoutLogSlaveUpdatesIsNotOfferedAsSource) {
  const auto r = replica_sample(Flavour::kMariadb, false);
  const ReplicaSetup setup = replica_setup(r);
  EXPECT_TRUE(setup.from_this_server.empty());
  EXPECT_NE(setup.not_offered_because.find("log_slave_updates=OFF"), std::string::npos);
  ASSERT_EQ(setup.from_its_source.size(), 5u);
  EXPECT_EQ(setup.from_its_source[0], "SET GLOBAL gtid_slave_pos = '0-1-7,2-2-3'");
  EXPECT_NE(setup.from_its_source[1].find("CHANGE MASTER TO MASTER_HOST='primary'"), std::string::npos);
  EXPECT_NE(setup.from_its_source[2].find("CHANGE MASTER 'two' TO"), std::string::npos);
  EXPECT_NE(setup.from_its_source[2].find("MASTER_USE_GTID=no, MASTER_LOG_FILE='binlog.000009', MASTER_LOG_POS=777"),
            std::string::npos);
  EXPECT_EQ(setup.from_its_source[3], "START SLAVE");
  EXPECT_EQ(setup.from_its_source[4], "START SLAVE 'two'");
  EXPECT_EQ(xtrabackup_slave_info(r),
            "SET GLOBAL gtid_slave_pos = '0-1-7,2-2-3';\n"
            "CHANGE MASTER TO master_use_gtid = slave_pos;\n"
            "CHANGE MASTER 'two' TO MASTER_LOG_FILE='binlog.000009', MASTER_LOG_POS=777;\n");
  EXPECT_EQ(mysqld_auto_cnf(r), "");
  Manifest m = backup_manifest(r);
  EXPECT_EQ(m.sections["replication"]["statements"].size(), 0u);
  EXPECT_EQ(m.sections["replication"]["replica_of"]["channels"].size(), 2u);
  EXPECT_EQ(m.sections["replication"]["replica_of"]["gtid_slave_pos"], "0-1-7,2-2-3");
}

TEST(Replication, ChannelWithoutARecordedPositionNamesWhereItIs) {
  ReplicaChannel c;
  c.name = "x";
  c.source_host = "primary";
  c.source_port = 3307;
  ReplicaSource self;
  self.host = "donor";
  self.port = 3306;
  self.gtid = true;
  const ReplicaSetup setup = make_replica_setup(self, {c}, true);
  ASSERT_EQ(setup.from_its_source.size(), 2u);
  EXPECT_NE(setup.from_its_source[0].find("SOURCE_LOG_FILE='<binlog file from SHOW REPLICA STATUS on the started copy>'"),
            std::string::npos);
  EXPECT_EQ(setup.from_its_source[1], "START REPLICA FOR CHANNEL 'x'");
  const auto j = replica_setup_json(setup);
  EXPECT_FALSE(j["replica_of"]["channels"][0].contains("source_log_file"));
  EXPECT_EQ(j["statements"][0], "RESET REPLICA ALL");
}

TEST(Preflight, TargetChecks) {
  testpages::ScratchDir scratch;
  const std::string fresh = (scratch.path / "new").string();
  EXPECT_TRUE(prepare_target(fresh, 1).is_ok());
  EXPECT_TRUE(fs::is_directory(fresh));
  EXPECT_TRUE(prepare_target(fresh, 1).is_ok());  // exists but empty: fine
  std::ofstream(fresh + "/x") << "x";
  auto not_empty = prepare_target(fresh, 1);
  EXPECT_EQ(not_empty.code(), ExitCode::kPath);
  EXPECT_NE(not_empty.message().find("not empty"), std::string::npos);
  auto no_parent = prepare_target((scratch.path / "a" / "b").string(), 1);
  EXPECT_EQ(no_parent.code(), ExitCode::kPath);
  EXPECT_NE(no_parent.message().find("parent"), std::string::npos);
  auto no_space = prepare_target((scratch.path / "big").string(), uint64_t(1) << 62);
  EXPECT_EQ(no_space.code(), ExitCode::kPath);
  EXPECT_NE(no_space.message().find("free space"), std::string::npos);
}

TEST(Preflight, SupportedServers) {
  ServerInfo info;
  info.flavour = Flavour::kMysql;
  info.version = {8, 0, 29};
  EXPECT_EQ(check_server_supported(info).code(), ExitCode::kUnsupported);
  EXPECT_NE(check_server_supported(info).message().find("8.0.30"), std::string::npos);
  info.version = {8, 0, 30};
  EXPECT_TRUE(check_server_supported(info).is_ok());
  info.redo_enabled = false;
  EXPECT_EQ(check_server_supported(info).code(), ExitCode::kUnsupported);
  info.redo_enabled = true;
  info.redo_checksums = false;
  EXPECT_NE(check_server_supported(info).message().find("innodb_log_checksums"), std::string::npos);
  info = {};
  info.flavour = Flavour::kMariadb;
  info.version = {10, 6, 20};
  EXPECT_NE(check_server_supported(info).message().find("10.8"), std::string::npos);
}

// A datadir `restore` wrote: an incremental's base must be the restored backup, one of its chain,
// or taken after the restore; a base from before it (the history the restore left) is refused,
// whatever the server's LSN says by then.
TEST(IncrementalBase, ABaseFromTheHistoryARestoreLeftIsRefused) {
  const nlohmann::json restored = {{"command", "restore"},
                                   {"finished_at", "2026-12-05T10:00:00Z"},
                                   {"restore",
                                    {{"backup", "/repo/inc1"},
                                     {"backup_started_at", "2026-12-04T09:00:00Z"},
                                     {"chain", {"/repo/full", "/repo/inc1"}}}}};
  auto base = [](const std::string& dir, const std::string& started) {
    mysqlclone::BackupRecord b;
    b.dir = dir;
    b.manifest.document = {{"started_at", started}};
    return b;
  };
  using mysqlclone::check_base_after_restore;
  EXPECT_TRUE(check_base_after_restore(base("/repo/inc1", "2026-12-04T09:00:00Z"), restored).is_ok());
  EXPECT_TRUE(check_base_after_restore(base("/repo/full", "2026-12-03T09:00:00Z"), restored).is_ok());
  EXPECT_TRUE(check_base_after_restore(base("/other/inc1", "2026-12-04T09:00:00Z"), restored).is_ok())
      << "the restored backup, its repository moved";
  EXPECT_TRUE(check_base_after_restore(base("/repo/full2", "2026-12-05T10:00:01Z"), restored).is_ok());
  const mysqlclone::Status left = check_base_after_restore(base("/repo/inc2", "2026-12-04T21:00:00Z"), restored);
  EXPECT_EQ(left.code(), mysqlclone::ExitCode::kPath);
  EXPECT_NE(left.message().find("history the restore left"), std::string::npos) << left.message();
  EXPECT_EQ(check_base_after_restore(base("/repo/x", "2026-12-05T10:00:00Z"), restored).code(),
            mysqlclone::ExitCode::kPath)
      << "the same second as the restore's end is not after it";
  // A datadir no restore wrote (a backup's, a clone's): nothing to check.
  EXPECT_TRUE(check_base_after_restore(base("/repo/inc2", "2026-12-04T21:00:00Z"), {{"command", "local"}}).is_ok());
}

}  // namespace
