// `mysqlclone local --stream` and `extract` against real servers (issue 10, acceptance 1a/1b and
// the stream part of 2): under sysbench write load plus a MyISAM/Aria writer, (a) a plain stream
// piped into extract and (b) a zstd-compressed, encrypted stream written to a file and extracted
// later each give a DIR that the stock server starts on, that checks clean, replicates from the
// recorded position and then equals the source table by table. A stream cut short (in the
// middle, and just before its end record, when every data byte has arrived) fails extract with
// exit 11 and leaves a DIR that nothing starts on; a terminal as stdout is refused before
// anything runs.
//
// One server per flavour serves every case, with little data: the suite stays lean. A server
// that cannot start fails the test (it::Server throws); nothing here skips.
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


std::string local_stream(const it::Server& src, const std::string& extra) {
  return quoted(it::mysqlclone_binary()) + " --quiet local --stream -S " + quoted(src.socket()) +
         " -u mysqlclone -pmysqlclone " + extra;
}

// extract of `stream_file` cut to `bytes`: exit 11 with one error line, and DIR refused by all.
void expect_cut_refused(const std::string& flavour, const it::TempDir& work, const std::string& stream_file,
                        uint64_t bytes, const std::string& key_file, const std::string& name, bool try_start) {
  SCOPED_TRACE(name);
  const std::string cut = work.path() + "/" + name + ".mcs";
  fs::copy_file(stream_file, cut);
  fs::resize_file(cut, bytes);
  const std::string dir = work.path() + "/" + name;
  auto r = it::mysqlclone_bounded({"extract", "--target-dir", dir, "--encrypt-key-file", key_file, cut}, 300);
  EXPECT_EQ(r.exit_code, 11) << describe(r);
  const auto errors = error_lines(r.err);
  ASSERT_EQ(errors.size(), 1u) << describe(r);
  EXPECT_TRUE(contains(errors[0], "cut short")) << errors[0];
  info("cut at " + std::to_string(bytes) + ": " + errors[0]);
  if (try_start) {
    it::expect_refused(flavour, dir);
  } else {
    const json meta = parse(it::read_file(dir + "/mysqlclone.json"));
    EXPECT_EQ(meta.is_object() ? meta.value("state", "") : "", "failed");
  }
}

class StreamUnderLoad : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamUnderLoad, PipedAndEncryptedStreamsExtractIntoReplicas) {
  const std::string& flavour = GetParam();
  it::Server src(flavour, "16k");
  it::sysbench_prepare(src, "oltp_read_write", 4, 5000);
  const std::string nt = it::create_nontransactional_table(src);
  it::TempDir work;
  const std::string key = work.path() + "/key";
  it::make_key_file(key);

  // A terminal as stdout: refused before it even connects. So is a closed stdout (`>&-`), whose
  // descriptor the connection to the server took: the stream went into it.
  it::expect_terminal_refused(local_stream(src, ""));
  auto closed = it::run_bounded({"sh", "-c", local_stream(src, "") + " >&-"}, 60);
  EXPECT_EQ(closed.exit_code, 2) << describe(closed);
  EXPECT_TRUE(contains(closed.err, "which is closed")) << describe(closed);
  EXPECT_EQ(it::sessions_of(src, "mysqlclone"), 0u);

  it::Load writer = it::nontransactional_writer(src, 600);
  it::Load oltp = it::sysbench_run(src, "oltp_read_write", 4, 5000, 2, 600);
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 256 * 1024; }))
      << "the load does not write\n" << oltp.describe() << "\n" << writer.describe();

  // (a) local --stream | extract.
  const std::string piped = work.path() + "/piped";
  auto a = it::run_bounded({"bash", "-c",
                            "set -o pipefail; " + local_stream(src, "2>" + quoted(work.path() + "/a.err")) + " | " +
                                quoted(it::mysqlclone_binary()) + " --json extract --target-dir " + quoted(piped)},
                           900);
  ASSERT_EQ(a.exit_code, 0) << describe(a) << "\n--- local's stderr ---\n" << it::read_file(work.path() + "/a.err");
  const json doc_a = parse(a.out);
  ASSERT_TRUE(doc_a.is_object()) << describe(a);
  info("piped: " + std::to_string(doc_a.value("data_bytes", 0ull)) + " data bytes in " +
       std::to_string(doc_a.value("stream_bytes", 0ull)) + " stream bytes");

  // (b) --compress=zstd --encrypt-key-file into a file, then extract.
  const std::string file = work.path() + "/backup.mcs";
  auto b = it::run_bounded(
      {"bash", "-c", local_stream(src, "--compress=zstd --encrypt-key-file " + quoted(key) + " > " + quoted(file))},
      900);
  ASSERT_EQ(b.exit_code, 0) << describe(b);
  EXPECT_TRUE(oltp.running()) << "sysbench ended during the copies: " << oltp.describe();
  EXPECT_TRUE(writer.running()) << "the " << nt << " writer ended during the copies: " << writer.describe();
  const std::string encrypted = work.path() + "/encrypted";
  auto x = it::mysqlclone_bounded({"--json", "extract", "--target-dir", encrypted, "--encrypt-key-file", key, file}, 900);
  ASSERT_EQ(x.exit_code, 0) << describe(x);
  const json doc_b = parse(x.out);
  ASSERT_TRUE(doc_b.is_object()) << describe(x);
  EXPECT_TRUE(doc_b.value("encrypted", false));
  const uint64_t stream_bytes = fs::file_size(file);
  info("zstd + AES-256-GCM: " + std::to_string(doc_b.value("data_bytes", 0ull)) + " data bytes in " +
       std::to_string(stream_bytes) + " stream bytes");
  EXPECT_LT(stream_bytes, doc_b.value("data_bytes", 0ull)) << "zstd did not shrink the copy";
  const std::string key_text = trim(it::read_file(key));
  EXPECT_FALSE(contains(it::read_file(file), key_text)) << "the key is in the stream";
  EXPECT_FALSE(contains(it::read_file(encrypted + "/mysqlclone.json"), key_text)) << "the key is in the metadata";

  writer.stop();
  oltp.stop();
  ASSERT_TRUE(it::wait_quiet(src, 60)) << "the source still runs statements 60 s after the load was stopped";
  const std::string gtids = it::source_gtids(src);
  it::expect_good_copy(src, "piped stream", piped, doc_a, gtids);
  it::expect_good_copy(src, "compressed, encrypted stream file", encrypted, doc_b, gtids);

  // Damage: cut in the middle, and 100 bytes short (inside the final manifest, every data byte
  // already there). Neither extracts, and the later one never starts.
  expect_cut_refused(flavour, work, file, stream_bytes / 2, key, "cut_middle", false);
  expect_cut_refused(flavour, work, file, stream_bytes - 100, key, "cut_tail", true);
}

INSTANTIATE_TEST_SUITE_P(Flavours, StreamUnderLoad, ::testing::ValuesIn(it::kFlavours),
                         [](const ::testing::TestParamInfo<std::string>& info) { return it::test_name(info.param); });

}  // namespace
