// `mysqlclone remote --stream` (issue 10, acceptance 1e): the Clone-protocol recipient writes a
// compressed, encrypted stream instead of a directory, from a MySQL 9.7 donor under sysbench
// write load; `extract` turns it into a DIR that the stock mysqld starts on,
// that checks clean, replicates from the snapshot's GTID position, catches up and then equals
// the donor table by table. Also: a terminal as stdout is refused before the donor is touched,
// and the stream cut in half fails extract (exit 11) with a DIR the stock mysqld refuses.
//
// One donor serves every case. A server that cannot start fails the test.
#include <filesystem>

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

std::string remote_stream(const it::Server& donor, const std::string& extra) {
  return quoted(it::mysqlclone_binary()) + " --quiet --json remote --stream --from mysqlclone@127.0.0.1:" +
         std::to_string(donor.port()) + " --password=mysqlclone " + extra;
}

TEST(RemoteStream, MysqlDonorUnderLoadIntoAnEncryptedStreamThenExtract) {
  it::Server donor(it::kRemoteFlavour, "16k", {it::kClonePlugin});
  it::sysbench_prepare(donor, "oltp_read_write", 4, 5000);
  // No MyISAM writer: the Clone protocol carries InnoDB only (a MyISAM table comes back empty,
  // as with CLONE INSTANCE), so a replica of the copy could not apply the writer's updates.
  it::TempDir work;
  const std::string key = work.path() + "/key";
  it::make_key_file(key);

  // A terminal as stdout: refused before it connects.
  it::expect_terminal_refused(remote_stream(donor, ""));
  it::expect_donor_clean(donor, "a terminal as stdout");

  it::Load oltp = it::sysbench_run(donor, "oltp_read_write", 4, 5000, 2, 600);
  const uint64_t lsn0 = it::current_lsn(donor);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(donor) > lsn0 + 256 * 1024; }))
      << "the load does not write\n" << oltp.describe();

  const std::string file = work.path() + "/clone.mcs";
  const std::string err = work.path() + "/remote.err";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = it::run_bounded({"bash", "-c",
                            remote_stream(donor, "--parallel 3 --compress --encrypt-key-file " + quoted(key)) + " > " +
                                quoted(file) + " 2> " + quoted(err)},
                           900);
  const std::string remote_err = it::read_file(err);
  ASSERT_EQ(r.exit_code, 0) << describe(r) << "\n--- stderr ---\n" << remote_err;
  const json doc = parse(remote_err);  // --json with --stream: the document on stderr
  ASSERT_TRUE(doc.is_object()) << remote_err;
  EXPECT_EQ(doc.value("command", ""), "remote");
  EXPECT_EQ(doc.value("stream", ""), "stdout");
  const uint64_t stream_bytes = fs::file_size(file);
  EXPECT_EQ(doc.value("stream_bytes", 0ull), stream_bytes);
  info("remote --stream: " + std::to_string(doc.value("bytes", 0ull)) + " bytes cloned into " +
       std::to_string(stream_bytes) + " stream bytes, " + it::fixed1(it::seconds_since(t0)) + " s");
  it::expect_donor_clean(donor, "after remote --stream");
  // The load ran for the whole clone. It stops now: what it wrote after the clone's snapshot is
  // for the replication below to bring over, and extracting and checking the clone are no better
  // for a load beside them, only slower.
  EXPECT_TRUE(oltp.running()) << "sysbench ended during the clone: " << oltp.describe();
  oltp.stop();
  EXPECT_FALSE(contains(it::read_file(file), trim(it::read_file(key)))) << "the key is in the stream";

  const std::string dir = work.path() + "/clone";
  auto x = it::mysqlclone_bounded({"--json", "extract", "--target-dir", dir, "--encrypt-key-file", key, file}, 600);
  ASSERT_EQ(x.exit_code, 0) << describe(x);
  const json extracted = parse(x.out);
  ASSERT_TRUE(extracted.is_object()) << describe(x);
  EXPECT_EQ(extracted.value("source_command", ""), "remote");
  EXPECT_TRUE(extracted.value("encrypted", false));
  EXPECT_LT(stream_bytes, extracted.value("data_bytes", 0ull)) << "zstd did not shrink the clone";
  const json meta = parse(it::read_file(dir + "/mysqlclone.json"));
  EXPECT_TRUE(meta.is_object() && meta.value("state", "") == "complete") << it::read_file(dir + "/mysqlclone.json");
  EXPECT_FALSE(fs::exists(dir + "/#clone/#status_in_progress")) << "the extracted clone is not handed over";

  {
    it::Server copy(it::kRemoteFlavour, "16k", {"--datadir", dir});
    EXPECT_EQ(it::check_all_tables(copy), "") << "CHECK TABLE on the copy";
    auto repl = it::start_replica_of(copy, donor);
    ASSERT_EQ(repl.exit_code, 0) << describe(repl);
    ASSERT_TRUE(it::wait_quiet(donor, 60)) << "the donor still runs statements 60 s after the load was stopped";
    const std::string gtids = it::gtid_executed(donor);
    auto wait = copy.try_sql("SELECT WAIT_FOR_EXECUTED_GTID_SET('" + gtids + "', 180);\n", 240);
    ASSERT_TRUE(wait.exit_code == 0 && wait.out == "0\n")
        << "the copy did not catch up with " << gtids << ": " << describe(wait) << "\n" << it::replica_status(copy);
    const auto names = it::innodb_user_tables(donor);
    ASSERT_EQ(names.size(), 4u) << join(names, ", ");
    EXPECT_EQ(it::innodb_user_tables(copy), names);
    EXPECT_EQ(it::checksums(copy, names), it::checksums(donor, names))
        << "CHECKSUM TABLE differs between the copy and the donor\n" << it::replica_status(copy);
    copy.try_sql("STOP REPLICA;\n", 60);
  }

  // The stream cut in half: extract refuses it, and its DIR never starts.
  const std::string cut = work.path() + "/cut.mcs";
  fs::copy_file(file, cut);
  fs::resize_file(cut, stream_bytes / 2);
  const std::string cut_dir = work.path() + "/cut";
  auto c = it::mysqlclone_bounded({"extract", "--target-dir", cut_dir, "--encrypt-key-file", key, cut}, 300);
  EXPECT_EQ(c.exit_code, 11) << describe(c);
  EXPECT_EQ(error_lines(c.err).size(), 1u) << describe(c);
  it::expect_unfinished("a cut clone stream", cut_dir);
}

}  // namespace
