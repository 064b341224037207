#include "test/integration/remote.h"

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/load.h"
#include "test/integration/text.h"

namespace it {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;
}  // namespace

std::string fixed1(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << v;
  return o.str();
}

// `mysqlclone [--json] remote --from USER@127.0.0.1:PORT --target-dir DIR --password=PASS extra...`
std::vector<std::string> remote_args(const Server& donor, const std::string& target,
                                     const std::vector<std::string>& extra, bool json_output,
                                     const std::string& user, const std::string& password) {
  std::vector<std::string> a;
  if (json_output) a.push_back("--json");
  a.insert(a.end(), {"remote", "--from", user + "@127.0.0.1:" + std::to_string(donor.port()), "--target-dir", target,
                     "--password=" + password});
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string command_line(const std::vector<std::string>& args) { return "mysqlclone " + join(args, " "); }

std::string gtid_executed(const Server& s) { return trim(s.sql("SELECT REPLACE(@@GLOBAL.gtid_executed, '\\n', '');")); }

// mysqlclone's sessions on the donor: id, host, command, time, state, bytes sent.
const std::string kSessionsQuery =
    "SELECT t.PROCESSLIST_ID, t.PROCESSLIST_HOST, t.PROCESSLIST_COMMAND, t.PROCESSLIST_TIME, t.PROCESSLIST_STATE, "
    "CAST(s.VARIABLE_VALUE AS UNSIGNED) AS bytes_sent FROM performance_schema.threads t JOIN "
    "performance_schema.status_by_thread s USING (THREAD_ID) WHERE t.PROCESSLIST_USER = 'mysqlclone' AND "
    "s.VARIABLE_NAME = 'Bytes_sent'";

std::string processlist(const Server& s) { return s.try_sql(kSessionsQuery + ";\n", 30).out; }

// After mysqlclone ended, however it ended: no session of it stays on the donor (a donor clone
// thread left waiting for a restart would hold the donor's only clone slot for minutes). Leftovers
// are reported, then killed so the next case starts from a clean donor.
void expect_donor_clean(const Server& donor, const std::string& what) {
  const bool clean = it::wait_until(30, [&] { return it::sessions_of(donor, "mysqlclone") == 0; });
  EXPECT_TRUE(clean) << what << ": session(s) of mysqlclone still on the donor 30 s after mysqlclone ended:\n"
                     << processlist(donor);
  if (!clean) end_donor_sessions(donor);
}

unsigned end_donor_sessions(const Server& donor) {
  const auto ids = split_lines(donor.sql("SELECT ID FROM performance_schema.processlist WHERE USER = 'mysqlclone';"));
  for (const auto& id : ids) donor.try_sql("KILL " + id + ";\n", 30);
  it::wait_until(30, [&] { return it::sessions_of(donor, "mysqlclone") == 0; });
  return unsigned(ids.size());
}

CommandResult start_replica_of(const Server& copy, const Server& donor) {
  return copy.try_sql("CHANGE REPLICATION SOURCE TO SOURCE_HOST = '127.0.0.1', SOURCE_PORT = " +
                          std::to_string(donor.port()) +
                          ", SOURCE_USER = 'repl', SOURCE_PASSWORD = 'repl', SOURCE_AUTO_POSITION = 1, "
                          "SOURCE_SSL = 1;\nSTART REPLICA;\n",
                      60);
}

// The bytes mysqlclone wrote into DIR besides its own mysqlclone.json.
uint64_t data_bytes(const std::string& target) {
  std::error_code ec;
  const uint64_t meta =
      fs::exists(target + "/mysqlclone.json", ec) ? fs::file_size(target + "/mysqlclone.json", ec) : 0;
  const uint64_t total = it::tree_bytes(target);
  return total > meta ? total - meta : 0;
}

// An interrupted clone: DIR says so (#clone/#status_in_progress) and the stock mysqld refuses it
// for exactly that reason.
void expect_unfinished(const std::string& what, const std::string& target) {
  if (fs::exists(target + "/mysqlclone.json")) {
    const json meta = parse(it::read_file(target + "/mysqlclone.json"));
    EXPECT_FALSE(meta.is_object() && meta.value("state", "") == "complete")
        << what << ": DIR/mysqlclone.json of an unfinished clone says complete";
  }
  EXPECT_TRUE(fs::exists(target + "/#clone/#status_in_progress"))
      << what << ": no #clone/#status_in_progress in DIR; #clone holds [" << join(it::listing(target + "/#clone"), " ")
      << "], DIR holds [" << join(it::listing(target), " ") << "]";
  auto a = it::try_start_stock_server(kRemoteFlavour, target);
  EXPECT_FALSE(a.started) << what << ": a stock " << kRemoteFlavour << " STARTED on the unfinished " << target
                          << "; its error log:\n"
                          << tail(a.error_log);
  if (!a.started) {
    EXPECT_TRUE(contains(a.error_log, "Incomplete cloned data directory"))
        << what << ": the stock mysqld refused the DIR, but not as an unfinished clone:\n"
        << server_errors(a.error_log);
    info(what + ": stock mysqld refused: " + trim(server_errors(a.error_log)).substr(0, 600));
  }
  // And `verify` calls it incomplete.
  auto v = it::mysqlclone_bounded({"verify", target}, 120);
  EXPECT_EQ(v.exit_code, 11) << what << ": verify of the unfinished clone\n" << describe(v);
}

// A clone throttled to 5 MiB/s (the idle donor's ~75 MiB take ~15 s), caught mid-way: the in-progress
// marker is in DIR and data is flowing. False (with the reason) if it ended first.
bool wait_mid_clone(Background& proc, const std::string& target, std::string& why) {
  const bool reached = it::wait_until(60, [&] {
    return !proc.running() || (fs::exists(target + "/#clone/#status_in_progress") && data_bytes(target) >= 2 * kMiB);
  });
  if (!reached) {
    why = "DIR did not get #clone/#status_in_progress and 2 MiB of data within 60 s; DIR holds [" +
          join(it::listing(target), " ") + "]";
    return false;
  }
  if (!proc.running()) {
    why = "mysqlclone ended before it could be interrupted\n" + describe(proc.result());
    return false;
  }
  return true;
}

}  // namespace it
