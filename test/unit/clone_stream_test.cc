// The clone RPC on one connection (clone_stream.h) against a scripted donor: a Transport that
// hands out prepared response packets in order and records every command sent.
#include "libclone/command/remote/clone_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/unit/test_datadir.h"

#include "test/unit/clone_bytes.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::text;
using mysqlclone::test::read_all;
using mysqlclone::test::expect_code;
using namespace mysqlclone;
using namespace mysqlclone::clone;
namespace fs = std::filesystem;
using test::Bytes;

using test::Writer;

// Response packets: the code byte, then the body.
Bytes packet(uint8_t code, const Bytes& body = {}) { return Writer().u8(code).raw(body).b; }
Bytes complete() { return packet(99); }
Bytes error(int32_t code, const std::string& message) {
  return packet(100, Writer().le32(static_cast<uint32_t>(code)).str(message).b);
}
Bytes plugin_v1(const std::string& name) { return packet(4, Writer().le_string(name).b); }
Bytes plugin_v2(const std::string& name, const std::string& so) {
  return packet(7, Writer().le_string(name).le_string(so).b);
}
Bytes collation(const std::string& name) { return packet(6, Writer().le_string(name).b); }
Bytes config(uint8_t code, const std::string& key, const std::string& value) {
  return packet(code, Writer().le_string(key).le_string(value).b);
}

// InnoDB descriptors (big-endian).
Writer header(uint32_t type, uint32_t length) {
  Writer w;
  w.be32(100).be32(length).be32(type);
  return w;
}
Bytes locator(uint64_t clone_id = 0x1122334455667788ULL, uint64_t snapshot_id = 42) {
  return header(1, 34).be64(clone_id).be64(snapshot_id).be32(0).u8(1).u8(0).b;
}
Bytes locs(uint32_t protocol, const std::vector<std::pair<uint8_t, Bytes>>& locators) {
  Writer w;
  w.le32(protocol);
  for (const auto& [engine, bytes] : locators) w.u8(engine).le32(static_cast<uint32_t>(bytes.size())).raw(bytes);
  return packet(1, w.b);
}
Bytes task_desc(uint32_t task) { return header(2, 24).be32(task).be32(0).be32(0).b; }
Bytes state_desc(SnapshotState state, uint16_t flags, uint64_t estimate = 0, uint64_t disk_estimate = 0) {
  return header(3, 46)
      .be32(static_cast<uint32_t>(state))
      .be32(0)
      .be32(3)
      .be32(2)
      .be64(estimate)
      .be64(disk_estimate)
      .be16(flags)
      .b;
}
Bytes file_desc(SnapshotState state, uint32_t index, const std::string& name, uint64_t size,
                uint32_t fsp_flags = kNotATablespace, uint16_t flags = 0) {
  const uint32_t name_length = name.empty() ? 0 : static_cast<uint32_t>(name.size() + 1);
  Writer w = header(4, 62 + name_length + ((flags & kFileFlagHasKey) ? 64 : 0));
  w.be32(static_cast<uint32_t>(state))
      .be64(size)
      .be64(size)
      .be32(fsp_flags)
      .be32(4096)
      .be16(flags)
      .be32(7)
      .be32(index)
      .be32(1)
      .be32(1)
      .be32(name_length);
  if (name_length) w.str(name).u8(0);
  if (flags & kFileFlagHasKey) w.raw(Bytes(64, 0xEE));
  return w.b;
}
Bytes data_desc(SnapshotState state, uint32_t index, uint32_t length, uint64_t offset, uint64_t file_size = 0) {
  return header(5, 52)
      .be32(static_cast<uint32_t>(state))
      .be32(0)
      .be32(1)
      .be32(0)
      .be32(index)
      .be32(length)
      .be64(offset)
      .be64(file_size)
      .b;
}
// COM_RES_DATA_DESC: engine (InnoDB 12) · locator index · descriptor.
Bytes desc(const Bytes& descriptor, uint8_t locator_index = 0, uint8_t engine = 12) {
  return packet(2, Writer().u8(engine).u8(locator_index).raw(descriptor).b);
}
Bytes data(const Bytes& bytes) { return packet(3, bytes); }

// ---- the scripted donor --------------------------------------------------------------------------

class ScriptedDonor : public Transport {
 public:
  struct Sent {
    Command command;
    Bytes body;
  };

  explicit ScriptedDonor(std::vector<Bytes> script = {}) : script_(script.begin(), script.end()) {}

  Status send(Command command, std::span<const uint8_t> body) override {
    sent.push_back({command, Bytes(body.begin(), body.end())});
    return send_result;
  }
  Result<std::span<const uint8_t>> receive() override {
    // Every test ends its script with COMPLETE or ERROR; reading past it is a failure of the code.
    if (script_.empty()) return Status::error(ExitCode::kNetwork, "scripted donor: connection closed");
    current_ = std::move(script_.front());
    script_.pop_front();
    ++received;
    return std::span<const uint8_t>(current_);
  }
  void abort() override { aborted = true; }

  size_t left() const { return script_.size(); }

  std::vector<Sent> sent;
  Status send_result;
  size_t received = 0;
  bool aborted = false;

 private:
  std::deque<Bytes> script_;
  Bytes current_;  // the last packet handed out stays alive until the next receive()
};

// ---- COM_INIT -----------------------------------------------------------------------------------

TEST(CloneStreamInitTest, CollectsWhatTheDonorSays) {
  ScriptedDonor donor({
      plugin_v2("InnoDB", ""),
      plugin_v2("clone", "mysql_clone.so"),
      plugin_v1("old_style"),
      collation("utf8mb4_0900_ai_ci"),
      collation("latin1_swedish_ci"),
      config(5, "version", "9.7.4"),
      config(5, "innodb_page_size", "16384"),
      config(8, "clone_donor_timeout_after_network_failure", "5"),
      config(9, "json_configs", R"({"version":"9.7.4-2","maturity":"LTS"})"),
      locs(kProtocolV4, {{12, locator()}}),
      complete(),
  });
  auto d = init_clone(donor, 300, true);
  ASSERT_TRUE(d.is_ok()) << d.status().message();

  // Exactly one command: COM_INIT asking for V4, a 300 s DDL timeout, the backup lock, no locators.
  ASSERT_EQ(donor.sent.size(), 1u);
  EXPECT_EQ(donor.sent[0].command, Command::kInit);
  EXPECT_EQ(static_cast<uint8_t>(donor.sent[0].command), 1);
  EXPECT_EQ(donor.sent[0].body, (Bytes{0x03, 0x01, 0, 0, 0x2C, 0x01, 0, 0}));
  EXPECT_EQ(donor.left(), 0u);

  EXPECT_EQ(d->protocol, 0x0103u);
  ASSERT_EQ(d->locators.size(), 1u);
  EXPECT_EQ(d->locators[0].engine_type, 12);
  EXPECT_EQ(d->locators[0].bytes, locator());
  ASSERT_EQ(d->plugins.size(), 3u);
  EXPECT_EQ(d->plugins[0].name, "InnoDB");
  EXPECT_EQ(d->plugins[0].shared_object, "");
  EXPECT_EQ(d->plugins[1].name, "clone");
  EXPECT_EQ(d->plugins[1].shared_object, "mysql_clone.so");
  EXPECT_EQ(d->plugins[2].name, "old_style");
  EXPECT_EQ(d->plugins[2].shared_object, "");
  EXPECT_EQ(d->collations, (std::vector<std::string>{"utf8mb4_0900_ai_ci", "latin1_swedish_ci"}));
  ASSERT_EQ(d->configs.size(), 2u);
  EXPECT_EQ(d->config("version"), "9.7.4");
  EXPECT_EQ(d->config("innodb_page_size"), "16384");
  EXPECT_EQ(d->config("no_such_key"), "");
  ASSERT_EQ(d->other_configs.size(), 2u);
  EXPECT_EQ(d->other_configs[0].key, "clone_donor_timeout_after_network_failure");
  EXPECT_EQ(d->other_configs[0].value, "5");
  EXPECT_EQ(d->other_configs[1].key, "json_configs");
  EXPECT_EQ(d->other_configs[1].value, R"({"version":"9.7.4-2","maturity":"LTS"})");
  // Only plain CONFIG answers are looked up by config().
  EXPECT_EQ(d->config("json_configs"), "");
}

TEST(CloneStreamInitTest, AcceptsAnOldDonorsOrderAndProtocol) {
  ScriptedDonor donor({
      locs(kProtocolV1, {{12, locator(1, 2)}}),
      config(5, "version", "8.0.17"),
      plugin_v1("InnoDB"),
      complete(),
  });
  auto d = init_clone(donor, 7, true);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  ASSERT_EQ(donor.sent.size(), 1u);
  EXPECT_EQ(donor.sent[0].body, (Bytes{0x03, 0x01, 0, 0, 7, 0, 0, 0}));
  EXPECT_EQ(d->protocol, kProtocolV1);
  EXPECT_EQ(d->config("version"), "8.0.17");
  ASSERT_EQ(d->plugins.size(), 1u);
  EXPECT_EQ(d->locators[0].bytes, locator(1, 2));
}

TEST(CloneStreamInitTest, DonorErrorIsUnsupportedWithTheDonorsMessage) {
  ScriptedDonor donor({
      plugin_v2("InnoDB", ""),
      error(3869, "Clone system configuration: plugin 'foo' is not active"),
  });
  auto d = init_clone(donor, 300, true);
  ASSERT_FALSE(d.is_ok());
  expect_code(d.status(), ExitCode::kUnsupported, "Clone system configuration: plugin 'foo' is not active");
  EXPECT_NE(d.status().message().find("3869"), std::string::npos) << d.status().message();
  EXPECT_EQ(donor.left(), 0u);
}

TEST(CloneStreamInitTest, InterruptedDonorIsANetworkError) {
  for (int32_t code : {1317, 1053, 3169}) {
    SCOPED_TRACE(code);
    ScriptedDonor donor({error(code, "Query execution was interrupted")});
    auto d = init_clone(donor, 300, true);
    ASSERT_FALSE(d.is_ok());
    expect_code(d.status(), ExitCode::kNetwork, "Query execution was interrupted");
  }
  // Any other code is the donor refusing: kUnsupported.
  EXPECT_EQ(donor_error_status(DonorError{1316, "x"}).code(), ExitCode::kUnsupported);
  EXPECT_EQ(donor_error_status(DonorError{-1, "x"}).code(), ExitCode::kUnsupported);
}

TEST(CloneStreamInitTest, AnswerWithoutLocatorIsAProtocolError) {
  ScriptedDonor donor({config(5, "version", "9.7.4"), complete()});
  expect_code(init_clone(donor, 300, true).status(), ExitCode::kProtocol, "no locator");
  ScriptedDonor empty({complete()});
  expect_code(init_clone(empty, 300, true).status(), ExitCode::kProtocol, "no locator");
}

TEST(CloneStreamInitTest, NonInnodbLocatorIsRefused) {
  ScriptedDonor other({locs(kProtocolV3, {{7, locator()}}), complete()});
  expect_code(init_clone(other, 300, true).status(), ExitCode::kUnsupported, "type 7");
  // InnoDB plus another engine (a fork's MyRocks locator) is refused too.
  ScriptedDonor mixed({locs(kProtocolV3, {{12, locator()}, {14, locator()}}), complete()});
  expect_code(init_clone(mixed, 300, true).status(), ExitCode::kUnsupported, "type 14");
}

TEST(CloneStreamInitTest, BrokenAnswersAreProtocolErrors) {
  ScriptedDonor unexpected({data(text("x")), complete()});
  expect_code(init_clone(unexpected, 300, true).status(), ExitCode::kProtocol, "during COM_INIT");
  ScriptedDonor descriptor({desc(task_desc(0)), complete()});
  expect_code(init_clone(descriptor, 300, true).status(), ExitCode::kProtocol, "during COM_INIT");
  ScriptedDonor bad_config({packet(5, Writer().le32(100).str("short").b), complete()});
  expect_code(init_clone(bad_config, 300, true).status(), ExitCode::kProtocol, "config");
  ScriptedDonor unknown({packet(42), complete()});
  expect_code(init_clone(unknown, 300, true).status(), ExitCode::kProtocol, "unknown response code 42");
  // The connection ends before COMPLETE: the transport's error, not success.
  ScriptedDonor cut({locs(kProtocolV3, {{12, locator()}})});
  expect_code(init_clone(cut, 300, true).status(), ExitCode::kNetwork, "connection closed");
  // A failed send reads nothing.
  ScriptedDonor unsent({locs(kProtocolV3, {{12, locator()}}), complete()});
  unsent.send_result = Status::error(ExitCode::kNetwork, "broken pipe");
  expect_code(init_clone(unsent, 300, true).status(), ExitCode::kNetwork, "broken pipe");
  EXPECT_EQ(unsent.received, 0u);
}

// ---- COM_ATTACH / COM_EXIT ----------------------------------------------------------------------

TEST(CloneStreamAttachTest, SendsTheMastersLocatorsAndNeedsLocatorsBack) {
  const std::vector<Locator> master = {{12, locator(5, 6)}};
  ScriptedDonor worker({locs(kProtocolV3, {{12, locator(5, 6)}}), complete()});
  ASSERT_TRUE(attach_worker(worker, kProtocolV3, master).is_ok());
  ASSERT_EQ(worker.sent.size(), 1u);
  EXPECT_EQ(worker.sent[0].command, Command::kAttach);
  Bytes expected = Writer().le32(kProtocolV3).le32(0).u8(12).le32(34).raw(locator(5, 6)).b;
  EXPECT_EQ(worker.sent[0].body, expected);

  ScriptedDonor no_locs({complete()});
  expect_code(attach_worker(no_locs, kProtocolV3, master), ExitCode::kProtocol, "no locator");
  ScriptedDonor other({config(5, "version", "9.7.4"), complete()});
  expect_code(attach_worker(other, kProtocolV3, master), ExitCode::kProtocol, "during COM_ATTACH");
  ScriptedDonor refused({error(3862, "Clone Donor Error: no clone in progress")});
  expect_code(attach_worker(refused, kProtocolV3, master), ExitCode::kUnsupported, "no clone in progress");
}

TEST(CloneStreamAckTest, SendsTheStateEndBackWithTheAckFlagAndNeedsComplete) {
  const Bytes end = state_desc(SnapshotState::kFileCopy, 0, 77, 88);
  const Locator loc{kInnodbEngineType, locator()};
  ScriptedDonor donor({complete()});
  ASSERT_TRUE(acknowledge_state(donor, loc, end).is_ok());
  ASSERT_EQ(donor.sent.size(), 1u);
  EXPECT_EQ(donor.sent[0].command, Command::kAck);
  EXPECT_EQ(donor.sent[0].body, build_ack_body(0, loc, with_ack_flag(end)));
  EXPECT_EQ(donor.sent[0].body.back() & kStateFlagAck, kStateFlagAck);

  ScriptedDonor refused({error(1317, "interrupted")});
  expect_code(acknowledge_state(refused, loc, end), ExitCode::kNetwork, "interrupted");
  ScriptedDonor odd({locs(kProtocolV3, {{12, locator()}}), complete()});
  expect_code(acknowledge_state(odd, loc, end), ExitCode::kProtocol, "during COM_ACK");
}

TEST(CloneStreamExitTest, SendsComExitAndAcceptsComplete) {
  ScriptedDonor donor({complete()});
  ASSERT_TRUE(exit_clone(donor).is_ok());
  ASSERT_EQ(donor.sent.size(), 1u);
  EXPECT_EQ(donor.sent[0].command, Command::kExit);
  EXPECT_EQ(static_cast<uint8_t>(donor.sent[0].command), 6);
  EXPECT_TRUE(donor.sent[0].body.empty());
  EXPECT_EQ(donor.left(), 0u);

  ScriptedDonor unexpected({locs(kProtocolV3, {{12, locator()}}), complete()});
  expect_code(exit_clone(unexpected), ExitCode::kProtocol, "during COM_EXIT");
  ScriptedDonor refused({error(1317, "interrupted")});
  expect_code(exit_clone(refused), ExitCode::kNetwork, "interrupted");
}

// ---- COM_EXECUTE --------------------------------------------------------------------------------

class CloneStreamExecuteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target = scratch.path / "clone";
    auto a = Applier::begin(ApplyOptions{target, false, ServerVersion{8, 4, 3}});
    ASSERT_TRUE(a.is_ok()) << a.status().message();
    applier = std::move(a).value();
  }

  // The master's context: records every ACK and every space check.
  StreamContext master() {
    return StreamContext{*applier, progress,
                         [this](std::span<const uint8_t> d) {
                           acks.emplace_back(d.begin(), d.end());
                           return ack_result;
                         },
                         [this](uint64_t bytes) {
                           space_checks.push_back(bytes);
                           return Status::ok();
                         }};
  }
  StreamContext worker() { return StreamContext{*applier, progress, nullptr, nullptr}; }

  Status run(const std::vector<Bytes>& script) {
    ScriptedDonor donor(script);
    StreamContext context = master();
    Status s = run_execute_stream(donor, context);
    sent = donor.sent;
    left = donor.left();
    return s;
  }

  testpages::ScratchDir scratch;
  fs::path target;
  std::unique_ptr<Applier> applier;
  CloneProgress progress;
  std::vector<Bytes> acks;
  Status ack_result;
  std::vector<uint64_t> space_checks;
  std::vector<ScriptedDonor::Sent> sent;
  size_t left = 0;
};

TEST_F(CloneStreamExecuteTest, AppliesAWholeStream) {
  using S = SnapshotState;
  const Bytes init_end = state_desc(S::kInit, 0);
  const Bytes file_copy_end = state_desc(S::kFileCopy, 0, 77, 88);
  const Bytes page_copy_end = state_desc(S::kPageCopy, 0);
  const Bytes redo_copy_end = state_desc(S::kRedoCopy, 0);
  const Status s = run({
      desc(task_desc(0)),
      desc(state_desc(S::kInit, kStateFlagStart, 0)),
      desc(init_end),
      // Keep-alives during a long donor wait carry the ACK flag already: never acknowledged.
      desc(state_desc(S::kInit, kStateFlagAck)),
      desc(state_desc(S::kFileCopy, kStateFlagStart, 1000, 5000)),
      desc(file_desc(S::kFileCopy, 0, "./db/t1.ibd", 32768, 0x4021)),
      desc(file_desc(S::kFileCopy, 1, "ibdata1", 16384, 0)),
      desc(state_desc(S::kFileCopy, kStateFlagAck | kStateFlagStart)),
      desc(data_desc(S::kFileCopy, 0, 5, 100)),
      data(text("hello")),
      desc(data_desc(S::kFileCopy, 1, 3, 0)),
      data(text("sys")),
      desc(file_copy_end),
      desc(state_desc(S::kPageCopy, kStateFlagStart, 200)),
      desc(data_desc(S::kPageCopy, 0, 4, 16384)),
      data(text("page")),
      desc(state_desc(S::kPageCopy, kStateFlagAck)),
      desc(page_copy_end),
      desc(state_desc(S::kRedoCopy, kStateFlagStart, 30)),
      desc(file_desc(S::kRedoCopy, 0, "", 1 << 20)),
      desc(data_desc(S::kRedoCopy, 0, 4, 0)),
      data(text("redo")),
      desc(file_desc(S::kRedoCopy, 0, "", 1 << 20)),  // sent again: tolerated
      desc(redo_copy_end),
      desc(state_desc(S::kDone, kStateFlagStart)),
      complete(),
  });
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(left, 0u);

  // COM_EXECUTE, empty, and nothing else on this connection (ACKs go to the aux connection).
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].command, Command::kExecute);
  EXPECT_EQ(static_cast<uint8_t>(sent[0].command), 4);
  EXPECT_TRUE(sent[0].body.empty());

  // One ACK per end of state, with the descriptor exactly as received; none for starts,
  // keep-alives or anything else.
  EXPECT_EQ(acks, (std::vector<Bytes>{init_end, file_copy_end, page_copy_end, redo_copy_end}));
  EXPECT_EQ(space_checks, std::vector<uint64_t>{5000});
  EXPECT_EQ(progress.done_bytes.load(), 16u);
  EXPECT_EQ(progress.total_bytes.load(), 1230u);
  EXPECT_EQ(progress.state.load(), static_cast<uint32_t>(S::kDone));

  const Bytes t1 = read_all(target / "db" / "t1.ibd");
  ASSERT_EQ(t1.size(), 16388u);
  EXPECT_EQ(Bytes(t1.begin() + 100, t1.begin() + 105), text("hello"));
  EXPECT_EQ(Bytes(t1.begin() + 16384, t1.end()), text("page"));
  EXPECT_EQ(read_all(target / "ibdata1"), text("sys"));
  EXPECT_EQ(read_all(target / "#innodb_redo" / "#ib_redo0"), text("redo"));
  EXPECT_EQ(applier->files().size(), 3u);
  EXPECT_EQ(applier->bytes_written(), 16u);
}

TEST_F(CloneStreamExecuteTest, DataWithoutADescriptorIsAProtocolError) {
  expect_code(run({desc(task_desc(0)), data(text("x")), complete()}), ExitCode::kProtocol,
              "without a data descriptor");
  // A descriptor's data is consumed once: a second DATA has no descriptor.
  expect_code(run({desc(file_desc(SnapshotState::kFileCopy, 0, "t.ibd", 10)),
                   desc(data_desc(SnapshotState::kFileCopy, 0, 1, 0)), data(text("a")), data(text("b")), complete()}),
              ExitCode::kProtocol, "without a data descriptor");
  EXPECT_EQ(read_all(target / "t.ibd"), text("a"));
}

TEST_F(CloneStreamExecuteTest, DataLengthMismatchIsAProtocolError) {
  const Bytes meta = desc(file_desc(SnapshotState::kFileCopy, 0, "t.ibd", 10));
  expect_code(run({meta, desc(data_desc(SnapshotState::kFileCopy, 0, 5, 0)), data(text("four")), complete()}),
              ExitCode::kProtocol, "announced 5 bytes of data and sent 4");
  // Nothing of the short block was written.
  EXPECT_EQ(fs::file_size(target / "t.ibd"), 0u);
  expect_code(run({desc(data_desc(SnapshotState::kFileCopy, 0, 5, 0)), data(text("sixsix")), complete()}),
              ExitCode::kProtocol, "sent 6");
  expect_code(run({desc(data_desc(SnapshotState::kFileCopy, 0, 5, 0)), data({}), complete()}), ExitCode::kProtocol,
              "sent 0");
  EXPECT_EQ(fs::file_size(target / "t.ibd"), 0u);
  EXPECT_EQ(applier->bytes_written(), 0u);
}

TEST_F(CloneStreamExecuteTest, ADescriptorWhereDataWasDueIsAProtocolError) {
  const Bytes meta = desc(file_desc(SnapshotState::kFileCopy, 0, "t.ibd", 10));
  const Bytes block = desc(data_desc(SnapshotState::kFileCopy, 0, 1, 0));
  expect_code(run({meta, block, block, data(text("x")), complete()}), ExitCode::kProtocol, "where data was due");
  expect_code(run({block, desc(state_desc(SnapshotState::kFileCopy, 0)), complete()}), ExitCode::kProtocol,
              "where data was due");
  EXPECT_TRUE(acks.empty());  // the end-of-state after the missing data was not acknowledged
  expect_code(run({block, desc(task_desc(0)), complete()}), ExitCode::kProtocol, "where data was due");
  EXPECT_EQ(fs::file_size(target / "t.ibd"), 0u);
}

TEST_F(CloneStreamExecuteTest, AStreamEndingWithDataOwedIsAProtocolError) {
  expect_code(run({desc(file_desc(SnapshotState::kFileCopy, 0, "t.ibd", 10)),
                   desc(data_desc(SnapshotState::kFileCopy, 0, 4, 0)), complete()}),
              ExitCode::kProtocol, "before the data of its last descriptor");
}

TEST_F(CloneStreamExecuteTest, UnexpectedResponsesAreProtocolErrors) {
  expect_code(run({locs(kProtocolV3, {{12, locator()}}), complete()}), ExitCode::kProtocol,
              "unexpected response 1 during COM_EXECUTE");
  expect_code(run({desc(task_desc(0)), config(5, "version", "9.7.4"), complete()}), ExitCode::kProtocol,
              "unexpected response 5 during COM_EXECUTE");
  expect_code(run({plugin_v2("InnoDB", ""), complete()}), ExitCode::kProtocol, "unexpected response 7");
  expect_code(run({collation("latin1_bin"), complete()}), ExitCode::kProtocol, "unexpected response 6");
  expect_code(run({packet(0), complete()}), ExitCode::kProtocol, "unknown response code 0");
  expect_code(run({packet(2), complete()}), ExitCode::kProtocol, "COM_RES_DATA_DESC");
  // A descriptor for another locator, a locator descriptor in the stream, a broken descriptor.
  expect_code(run({desc(task_desc(0), 1), complete()}), ExitCode::kProtocol, "locator 1");
  expect_code(run({desc(locator()), complete()}), ExitCode::kProtocol, "locator descriptor");
  Bytes truncated = state_desc(SnapshotState::kInit, 0);
  truncated.pop_back();
  expect_code(run({desc(truncated), complete()}), ExitCode::kProtocol, "declared length");
  EXPECT_TRUE(acks.empty());
}

TEST_F(CloneStreamExecuteTest, DonorErrorsAndLostConnectionsEndTheStream) {
  expect_code(run({desc(task_desc(0)), error(3862, "Clone Donor Error: disk full")}), ExitCode::kUnsupported,
              "disk full");
  expect_code(run({desc(task_desc(0)), error(1317, "Query execution was interrupted")}), ExitCode::kNetwork,
              "interrupted");
  // The donor shut the socket mid-stream: never a success.
  expect_code(run({desc(task_desc(0)), desc(state_desc(SnapshotState::kInit, kStateFlagStart))}), ExitCode::kNetwork,
              "connection closed");
  ScriptedDonor unsent({complete()});
  unsent.send_result = Status::error(ExitCode::kNetwork, "broken pipe");
  StreamContext context = master();
  expect_code(run_execute_stream(unsent, context), ExitCode::kNetwork, "broken pipe");
  EXPECT_EQ(unsent.received, 0u);
}

TEST_F(CloneStreamExecuteTest, FailuresOfTheAckAndTheApplierEndTheStream) {
  ack_result = Status::error(ExitCode::kNetwork, "aux connection lost");
  expect_code(run({desc(state_desc(SnapshotState::kInit, 0)), desc(task_desc(0)), complete()}), ExitCode::kNetwork,
              "aux connection lost");
  EXPECT_EQ(left, 2u);  // nothing read after the failed ACK
  ack_result = Status::ok();
  expect_code(run({desc(file_desc(SnapshotState::kFileCopy, 0, "e.ibd", 10, 0x4021,
                                  kFileFlagEncrypted | kFileFlagHasKey)),
                   complete()}),
              ExitCode::kUnsupported, "encrypted");
  expect_code(run({desc(file_desc(SnapshotState::kFileCopy, 0, "../x.ibd", 10)), complete()}), ExitCode::kProtocol,
              "'..'");
  expect_code(run({desc(file_desc(SnapshotState::kFileCopy, 0, "t.ibd", 10)),
                   desc(data_desc(SnapshotState::kFileCopy, 0, 1, uint64_t(1) << 60)), data(text("x")), complete()}),
              ExitCode::kProtocol, "beyond any possible file size");
  ScriptedDonor space({desc(state_desc(SnapshotState::kFileCopy, kStateFlagStart, 1, 999)), complete()});
  StreamContext context = master();
  context.check_space = [](uint64_t bytes) {
    return Status::error(ExitCode::kPath, "needs " + std::to_string(bytes));
  };
  expect_code(run_execute_stream(space, context), ExitCode::kPath, "needs 999");
}

TEST_F(CloneStreamExecuteTest, WorkersIgnoreStateDescriptors) {
  using S = SnapshotState;
  ASSERT_TRUE(applier->add_file(FileDescriptor{S::kFileCopy, 10, 10, kNotATablespace, 4096, 0, 7, 0, 1, 1, "w.ibd"})
                  .is_ok());
  ScriptedDonor donor({
      desc(task_desc(1)),
      desc(state_desc(S::kInit, 0)),
      desc(state_desc(S::kFileCopy, kStateFlagStart, 1000, 5000)),
      desc(data_desc(S::kFileCopy, 0, 6, 2)),
      data(text("worker")),
      desc(state_desc(S::kFileCopy, kStateFlagAck)),
      desc(state_desc(S::kFileCopy, 0)),
      desc(state_desc(S::kDone, kStateFlagStart)),
      complete(),
  });
  StreamContext context = worker();
  const Status s = run_execute_stream(donor, context);
  ASSERT_TRUE(s.is_ok()) << s.message();
  ASSERT_EQ(donor.sent.size(), 1u);
  EXPECT_EQ(donor.sent[0].command, Command::kExecute);
  EXPECT_TRUE(donor.sent[0].body.empty());
  EXPECT_EQ(progress.state.load(), 0u);  // the stage shown is the master's
  EXPECT_EQ(progress.total_bytes.load(), 0u);
  EXPECT_EQ(progress.done_bytes.load(), 6u);
  EXPECT_EQ(read_all(target / "w.ibd"), (Bytes{0, 0, 'w', 'o', 'r', 'k', 'e', 'r'}));
}

TEST_F(CloneStreamExecuteTest, AWorkersDataWaitsForTheMastersMetadata) {
  using S = SnapshotState;
  ScriptedDonor worker_donor({
      desc(task_desc(1)),
      desc(data_desc(S::kFileCopy, 0, 6, 0)),
      data(text("worker")),
      complete(),
  });
  ScriptedDonor master_donor({
      desc(task_desc(0)),
      desc(state_desc(S::kFileCopy, kStateFlagStart, 6, 6)),
      desc(file_desc(S::kFileCopy, 0, "db/shared.ibd", 6)),
      complete(),
  });
  std::atomic<bool> worker_done{false};
  Status worker_status = Status::error(ExitCode::kInternal, "not run");
  std::thread worker_thread([&] {
    StreamContext context = worker();
    worker_status = run_execute_stream(worker_donor, context);
    worker_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(worker_done);
  StreamContext context = master();
  const Status master_status = run_execute_stream(master_donor, context);
  worker_thread.join();
  ASSERT_TRUE(master_status.is_ok()) << master_status.message();
  ASSERT_TRUE(worker_status.is_ok()) << worker_status.message();
  EXPECT_EQ(read_all(target / "db" / "shared.ibd"), text("worker"));
  EXPECT_EQ(space_checks, std::vector<uint64_t>{6});
}

// ---- hostile donors ------------------------------------------------------------------------------

// A name or an error text need not be UTF-8: applied as the bytes it is, shown escaped, and never
// an exception where it ends up in JSON.
TEST_F(CloneStreamExecuteTest, NonUtf8NamesAndErrorTextAreShownEscaped) {
  using S = SnapshotState;
  const std::string odd = "db/t\xff\xfe.ibd";
  ASSERT_TRUE(run({desc(file_desc(S::kFileCopy, 0, odd, 4)), desc(data_desc(S::kFileCopy, 0, 4, 0)),
                   data(text("data")), complete()})
                  .is_ok());
  EXPECT_EQ(read_all(target / "db" / "t\xff\xfe.ibd"), text("data"));
  ASSERT_EQ(applier->files().size(), 1u);

  const Status encrypted = run({desc(file_desc(S::kFileCopy, 1, "db/caf\xe9.ibd", 10, 0x4021,
                                               kFileFlagEncrypted | kFileFlagHasKey)),
                                complete()});
  expect_code(encrypted, ExitCode::kUnsupported, "'db/caf\\xe9.ibd' is encrypted");
  EXPECT_NO_THROW((void)nlohmann::json(encrypted.message()).dump()) << encrypted.message();

  const Status refused = run({desc(task_desc(0)), error(3862, "Clone Donor Error: caf\xe9 \xff\xfe")});
  expect_code(refused, ExitCode::kUnsupported, "Clone Donor Error: caf\\xe9 \\xff\\xfe");
  EXPECT_NO_THROW((void)nlohmann::json(refused.message()).dump()) << refused.message();
}

// The longest block a donor sends is 2^12 pages (64 MiB at 16 KiB, 256 MiB at 64 KiB): a
// descriptor announcing more is refused before its bytes are read, so nothing is allocated.
TEST_F(CloneStreamExecuteTest, ABlockLongerThanADonorSendsIsRefusedUnread) {
  using S = SnapshotState;
  const Bytes meta = desc(file_desc(S::kFileCopy, 0, "t.ibd", 10));
  const uint64_t any_page_size = max_block_bytes(65536);
  EXPECT_EQ(any_page_size, (uint64_t(256) + 4) << 20);
  EXPECT_EQ(kMaxPacketBytes, any_page_size + 1);
  expect_code(run({meta, desc(data_desc(S::kFileCopy, 0, static_cast<uint32_t>(any_page_size + 1), 0)), data(text("x")),
                   complete()}),
              ExitCode::kProtocol, "data block of " + std::to_string(any_page_size + 1) + " bytes");
  EXPECT_EQ(left, 2u);  // neither the block nor what follows was read
  expect_code(run({meta, desc(data_desc(S::kFileCopy, 0, UINT32_MAX, 0)), complete()}), ExitCode::kProtocol,
              "data block of 4294967295 bytes");

  // The cap follows the donor's page size.
  ScriptedDonor donor({meta, desc(data_desc(S::kFileCopy, 0, static_cast<uint32_t>(max_block_bytes(16384) + 1), 0)),
                       complete()});
  StreamContext context = master();
  context.max_block_bytes = max_block_bytes(16384);
  expect_code(run_execute_stream(donor, context), ExitCode::kProtocol,
              "beyond the " + std::to_string((uint64_t(64) + 4) << 20) + " a donor sends at most");
  EXPECT_EQ(donor.left(), 1u);
  EXPECT_EQ(applier->bytes_written(), 0u);
}

}  // namespace
