// `mysqlclone remote --ssh` through a real sshd on 127.0.0.1 (tools/servers/sshd.sh: its own
// port, host key and client key) from a real MariaDB 10.11 donor (issue 10, acceptance 1d):
//   - faults that stop it before any copy: a key sshd refuses (exit 10), a donor host with another
//     mysqlclone release (exit 5), the donor side's own refusal (a wrong MySQL password: its exit
//     3 and its error line relayed) — each one error line, and DIR never startable;
//   - under sysbench write load plus the Aria writer, a pull whose DIR the stock server starts
//     on, that checks clean, replicates from the recorded position and then equals the source;
//   - the donor side killed mid-stream: exit 10, one error line, DIR refused by verify and by the
//     stock server. The MySQL password is in no argv on either side.
//
// One server and one sshd serve every case. A server or sshd that cannot start fails the test.
#include <dirent.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/integration/checks.h"
#include "test/integration/harness.h"
#include "test/integration/load.h"
#include "test/integration/sshd.h"
#include "test/integration/text.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace it::text;

// An account of its own with a password found nowhere else, so that an argv holding it is seen.
constexpr const char* kUser = "sshpull";
constexpr const char* kPassword = "Pw-only-on-stdin-7f3a";

std::vector<std::string> remote_ssh(const it::Server& src, const it::SshServer& sshd, const std::string& dir,
                                    const std::string& password, const std::vector<std::string>& ssh_options,
                                    const std::string& remote_binary, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"--json",
                                "remote",
                                "--from",
                                std::string(kUser) + "@127.0.0.1:" + std::to_string(src.port()),
                                "--password=" + password,
                                "--ssh",
                                sshd.destination(),
                                "--ssh-mysqlclone",
                                remote_binary,
                                "--target-dir",
                                dir};
  args.insert(args.end(), ssh_options.begin(), ssh_options.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A run that failed before it copied anything: exit `code`, one error line holding `says`, the
// JSON failure document, and no DIR that anything could start on.
void expect_refused_early(const it::CommandResult& r, int code, const std::string& says, const std::string& dir) {
  EXPECT_EQ(r.exit_code, code) << describe(r);
  const auto errors = error_lines(r.err);
  ASSERT_EQ(errors.size(), 1u) << describe(r);
  EXPECT_TRUE(contains(errors[0], says)) << errors[0];
  info("refused: " + errors[0]);
  const json doc = parse(r.out);
  EXPECT_TRUE(doc.is_object() && doc.value("exit_code", 0) == code) << describe(r);
  std::error_code ec;
  EXPECT_TRUE(!fs::exists(dir, ec) || fs::is_empty(dir, ec)) << dir << " holds files after an early failure";
}

// The command lines of every process, for finding one and for checking what `ps` would show.
std::vector<std::pair<pid_t, std::string>> command_lines() {
  std::vector<std::pair<pid_t, std::string>> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string cmdline = it::read_file(e.path().string() + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (!cmdline.empty()) out.emplace_back(pid_t(std::stol(name)), cmdline);
  }
  return out;
}

TEST(RemoteSsh, MariaDbDonorPulledThroughSshd) {
  it::Server src("mariadb-10.11", "16k");
  it::SshServer sshd;
  it::sysbench_prepare(src, "oltp_read_write", 4, 5000);
  const std::string nt = it::create_nontransactional_table(src);
  src.sql(std::string("CREATE USER '") + kUser + "'@'127.0.0.1' IDENTIFIED BY '" + kPassword + "';\nGRANT ALL ON *.* TO '" +
          kUser + "'@'127.0.0.1';\n");
  it::TempDir work;
  const std::string binary = it::mysqlclone_binary();
  const auto good_ssh = sshd.client_options();

  // A key the server does not accept: ssh's own failure, exit 10.
  {
    const std::string dir = work.path() + "/wrong_key";
    auto r = it::mysqlclone_bounded(
        remote_ssh(src, sshd, dir, kPassword, sshd.client_options(sshd.dir() + "/host_ed25519_key"), binary), 120);
    expect_refused_early(r, 10, "Permission denied", dir);
  }
  // Another release on the donor host: refused before it runs anything there, exit 5.
  {
    const std::string fake = work.path() + "/old-mysqlclone";
    std::ofstream(fake) << "#!/bin/sh\necho 'mysqlclone 0.0.1 (git 0123456789ab)'\n";
    fs::permissions(fake, fs::perms::owner_all);
    const std::string dir = work.path() + "/wrong_version";
    auto r = it::mysqlclone_bounded(remote_ssh(src, sshd, dir, kPassword, good_ssh, fake), 120);
    expect_refused_early(r, 5, "mysqlclone 0.0.1", dir);
  }
  // The donor side fails on its own (a wrong MySQL password): its exit code and its words.
  {
    const std::string dir = work.path() + "/wrong_password";
    auto r = it::mysqlclone_bounded(remote_ssh(src, sshd, dir, "not-the-password", good_ssh, binary), 300);
    expect_refused_early(r, 3, "Access denied", dir);
    EXPECT_TRUE(contains(r.err, sshd.destination())) << "the error does not name the donor's host\n" << describe(r);
  }

  it::Load writer = it::nontransactional_writer(src, 600);
  it::Load oltp = it::sysbench_run(src, "oltp_read_write", 4, 5000, 2, 600);
  const uint64_t lsn0 = it::current_lsn(src);
  ASSERT_TRUE(it::wait_until(30, [&] { return it::current_lsn(src) > lsn0 + 256 * 1024; }))
      << "the load does not write\n" << oltp.describe() << "\n" << writer.describe();

  // The pull, compressed on the way.
  const std::string pulled = work.path() + "/pulled";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = it::mysqlclone_bounded(remote_ssh(src, sshd, pulled, kPassword, good_ssh, binary, {"--compress"}), 900);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const json doc = parse(r.out);
  ASSERT_TRUE(doc.is_object()) << describe(r);
  EXPECT_EQ(doc.value("command", ""), "remote");
  EXPECT_EQ(doc.value("ssh", ""), sshd.destination());
  info("remote --ssh: " + std::to_string(doc.value("data_bytes", 0ull)) + " data bytes in " +
       std::to_string(doc.value("stream_bytes", 0ull)) + " stream bytes, " +
       std::to_string(it::seconds_since(t0)) + " s");

  // The donor side killed mid-stream (a throttled pull, so that there is a middle).
  const std::string cut = work.path() + "/cut";
  std::vector<std::string> argv{binary};
  const auto args = remote_ssh(src, sshd, cut, kPassword, good_ssh, binary, {"--max-rate", "1"});
  argv.insert(argv.end(), args.begin(), args.end());
  it::Background pull(argv);
  ASSERT_TRUE(it::wait_until(120, [&] { return it::tree_bytes(cut) > (2u << 20) || !pull.running(); }))
      << "the throttled pull wrote nothing in 120 s\n" << pull.err();
  ASSERT_TRUE(pull.running()) << "the throttled pull ended early\n" << pull.err();
  pid_t donor_side = -1;
  for (const auto& [pid, cmdline] : command_lines()) {
    EXPECT_FALSE(contains(cmdline, kPassword)) << "the password is in the argv of pid " << pid << ": " << cmdline;
    if (contains(cmdline, " local --stream ") && contains(cmdline, "127.0.0.1") &&
        contains(cmdline, std::to_string(src.port())) && !contains(cmdline, "bash"))
      donor_side = pid;
  }
  ASSERT_GT(donor_side, 0) << "no `mysqlclone local --stream` runs behind sshd";
  ::kill(donor_side, SIGKILL);
  ASSERT_TRUE(pull.wait_for(120)) << "remote --ssh did not end after its donor side was killed\n" << pull.err();
  EXPECT_EQ(pull.exit_code(), 10) << pull.err();
  const auto errors = error_lines(pull.err());
  ASSERT_EQ(errors.size(), 1u) << pull.err();
  info("donor side killed: " + errors[0]);
  it::expect_refused(src.flavour(), cut);

  EXPECT_TRUE(oltp.running()) << "sysbench ended during the pulls: " << oltp.describe();
  EXPECT_TRUE(writer.running()) << "the " << nt << " writer ended during the pulls: " << writer.describe();
  writer.stop();
  oltp.stop();
  ASSERT_TRUE(it::wait_quiet(src, 60)) << "the source still runs statements 60 s after the load was stopped";
  it::expect_good_copy(src, "remote --ssh", pulled, doc, it::source_gtids(src));
}

}  // namespace
