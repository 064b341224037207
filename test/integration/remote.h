// What the tests of `mysqlclone remote` share: the command line, the donor's state and sessions,
// table lists, and the checks of an interrupted clone's DIR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "test/integration/harness.h"

namespace it {

// Every remote donor is a MySQL 9.7 (the only flavour with the Clone protocol).
inline const std::string kRemoteFlavour = "mysql-9.7";

std::string fixed1(double v);  // one decimal

// `mysqlclone [--json] remote --from USER@127.0.0.1:PORT --target-dir DIR --password=PASS extra...`
std::vector<std::string> remote_args(const Server& donor, const std::string& target,
                                     const std::vector<std::string>& extra = {}, bool json_output = true,
                                     const std::string& user = "mysqlclone", const std::string& password = "mysqlclone");
std::string command_line(const std::vector<std::string>& args);

std::string gtid_executed(const Server& s);
// mysqlclone's sessions on the donor: id, host, command, time, state, bytes sent.
extern const std::string kSessionsQuery;
std::string processlist(const Server& s);
// After mysqlclone ended, however it ended: no session of it stays on the donor (a donor clone
// thread left waiting for a restart would hold the donor's only clone slot for minutes). Leftovers
// are reported, then killed so the next case starts from a clean donor.
void expect_donor_clean(const Server& donor, const std::string& what);
// KILLs every session of mysqlclone on the donor (as a DBA ends an abandoned clone); how many.
unsigned end_donor_sessions(const Server& donor);

// Makes the copy a replica of the donor (GTID auto-position, TLS, the test's repl account).
CommandResult start_replica_of(const Server& copy, const Server& donor);

// The bytes mysqlclone wrote into DIR besides its own mysqlclone.json.
uint64_t data_bytes(const std::string& target);
// An interrupted clone: DIR says so (#clone/#status_in_progress), the stock mysqld refuses it for
// exactly that reason, and `verify` calls it incomplete.
void expect_unfinished(const std::string& what, const std::string& target);
// A throttled clone caught mid-way: the in-progress marker is in DIR and data is flowing. False
// (with the reason) if it ended first.
bool wait_mid_clone(Background& proc, const std::string& target, std::string& why);

}  // namespace it
