// The binary's contract without a server: exit codes, one-line errors, JSON error documents.
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "mysqlclone_version.h"
#include "test/integration/harness.h"

namespace {

size_t lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, UsageErrorsExit2) {
  EXPECT_EQ(it::mysqlclone({}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"verify"}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"verify", "/tmp", "--threads", "x"}).exit_code, 2);
  // restore: one destination, and --delta only onto a server's datadir.
  EXPECT_EQ(it::mysqlclone({"restore", "--backup", "/tmp"}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"restore", "--backup", "/tmp", "--target-dir", "/tmp/a", "--datadir", "/tmp/b"}).exit_code, 2);
  EXPECT_EQ(it::mysqlclone({"restore", "--backup", "/tmp", "--target-dir", "/tmp/a", "--delta"}).exit_code, 2);
}

TEST(Cli, HelpAndVersionExit0) {
  auto help = it::mysqlclone({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("verify"), std::string::npos);
  auto version = it::mysqlclone({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  // The project version, and the commit of the checkout the test binary was built from.
  EXPECT_EQ(version.out.rfind("mysqlclone " MYSQLCLONE_VERSION " (git ", 0), 0u) << version.out;
}

// The option names of a --help text ("  -h,--host TEXT  ..." gives -h and --host), and the
// subcommands it lists.
struct HelpWords {
  std::set<std::string> options, subcommands;
};

HelpWords help_words(const std::string& help) {
  HelpWords w;
  bool in_subcommands = false;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != ' ') {
      in_subcommands = line == "Subcommands:";
      continue;
    }
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (in_subcommands) {
      w.subcommands.insert(first);
      continue;
    }
    std::istringstream names(first);
    for (std::string name; std::getline(names, name, ',');)
      if (name.starts_with("-")) w.options.insert(name);
  }
  return w;
}

// What the generated bash completion offers after `mysqlclone WORDS...` for the word `cur`.
std::set<std::string> completions(const std::vector<std::string>& words, const std::string& cur) {
  std::vector<std::string> argv = {"bash", "-c",
                                   "source <(\"$0\" completion bash) && COMP_WORDS=(mysqlclone \"$@\") && "
                                   "COMP_CWORD=$# && _mysqlclone && printf '%s\\n' \"${COMPREPLY[@]}\"",
                                   it::mysqlclone_binary()};
  argv.insert(argv.end(), words.begin(), words.end());
  argv.push_back(cur);
  const it::CommandResult r = it::run(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

// The completion is generated from the same definitions as --help: every subcommand and every
// option each --help lists is offered.
TEST(Cli, CompletionOffersEverySubcommandAndOptionOfHelp) {
  const HelpWords top = help_words(it::mysqlclone({"--help"}).out);
  ASSERT_TRUE(top.subcommands.contains("local")) << it::mysqlclone({"--help"}).out;
  const std::set<std::string> offered = completions({}, "");
  for (const auto& sub : top.subcommands) EXPECT_TRUE(offered.contains(sub)) << sub;
  for (const auto& option : top.options) EXPECT_TRUE(completions({}, "-").contains(option)) << option;
  for (const auto& sub : top.subcommands) {
    const HelpWords own = help_words(it::mysqlclone({sub, "--help"}).out);
    ASSERT_FALSE(own.options.empty()) << sub;
    const std::set<std::string> after = completions({sub}, "-");
    for (const auto& option : own.options) EXPECT_TRUE(after.contains(option)) << sub << " " << option;
  }
}

TEST(Cli, MissingPathIsOneLineExit6) {
  auto r = it::mysqlclone({"verify", "/nonexistent/datadir"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/datadir"), std::string::npos);
  EXPECT_NE(r.err.find("error:"), std::string::npos);
}

TEST(Cli, NotADatadirExit6WithJsonErrorDocument) {
  auto r = it::mysqlclone({"--json", "verify", "/tmp"});
  EXPECT_EQ(r.exit_code, 6);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["exit_code"], 6);
  EXPECT_NE(doc["error"].get<std::string>().find("/tmp"), std::string::npos);
}

// Ctrl-C at the -p prompt ends the run: exit 9 and one error line, never a connection attempt
// with what was typed so far. The prompt needs a terminal: a pty.
TEST(Cli, InterruptAtThePasswordPromptExits9) {
  int fd = -1;
  const pid_t pid = forkpty(&fd, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string bin = it::mysqlclone_binary();
    ::execl(bin.c_str(), "mysqlclone", "local", "--target-dir", "/nonexistent/target", "-h", "127.0.0.1", "-P", "1",
            "-u", "nobody", "-p", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto read_all = [&](const std::string& until) {
    std::string seen;
    char buf[512];
    while (until.empty() || seen.find(until) == std::string::npos) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;  // EIO once the child is gone
      seen.append(buf, size_t(n));
    }
    return seen;
  };
  const std::string prompt = read_all("Enter password: ");
  ASSERT_NE(prompt.find("Enter password: "), std::string::npos) << prompt;
  ASSERT_EQ(::write(fd, "abc", 3), 3);  // half a password, no Enter
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGINT);
  const std::string rest = read_all("");
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(fd);
  ASSERT_TRUE(WIFEXITED(status)) << rest;
  EXPECT_EQ(WEXITSTATUS(status), 9) << rest;
  EXPECT_EQ(lines(rest), 2u) << rest;  // the newline ending the prompt, then the error line
  EXPECT_NE(rest.find("error: interrupted at the password prompt"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("connect"), std::string::npos) << rest;
}

// Option files: every long option from [mysqlclone] / [mysqlclone-<command>]; an unknown or
// malformed key names file, line and key (exit 2) unless it is loose-; a [mysqlclone] key of
// another command is left to it; the command line wins.
TEST(Cli, OptionFilesCarryEveryOptionAndNameTheirErrors) {
  it::TempDir dir;
  const std::string d = dir.path();
  std::filesystem::create_directory(d + "/empty");
  auto cnf = [&](const std::string& name, const std::string& text) {
    std::ofstream(d + "/" + name) << text;
    return d + "/" + name;
  };
  auto verify = [&](const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--defaults-file", file, "verify", d + "/empty"};
    a.insert(a.end(), extra.begin(), extra.end());
    return it::mysqlclone(a);
  };
  // Taken, and valid: verify then judges the (empty) directory, exit 6.
  const std::string ok = cnf("ok.cnf", "[client]\ndefault-character-set = utf8mb4\n[mysqlclone]\nparallel = 2\n"
                                       "loose-not-an-option = 1\nquiet\n[mysqlclone-verify]\nthreads = 2\n");
  EXPECT_EQ(verify(ok).exit_code, 6) << verify(ok).err;
  auto unknown = verify(cnf("unknown.cnf", "[mysqlclone]\n\nthreds = 3\n"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown.cnf:3: option 'threds' in [mysqlclone]"), std::string::npos) << unknown.err;
  auto other = verify(cnf("other.cnf", "[mysqlclone-verify]\nparallel = 2\n"));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("other.cnf:2: option 'parallel' in [mysqlclone-verify]"), std::string::npos) << other.err;
  const std::string bad = cnf("bad.cnf", "[mysqlclone-verify]\nthreads = abc\n");
  auto malformed = verify(bad);
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("bad.cnf:2: option 'threads'"), std::string::npos) << malformed.err;
  EXPECT_EQ(lines(malformed.err), 1u) << malformed.err;
  EXPECT_EQ(verify(bad, {"--threads", "2"}).exit_code, 6);  // the command line wins
  auto bare = verify(cnf("bare.cnf", "[mysqlclone-verify]\nthreads\n"));
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_NE(bare.err.find("needs a value"), std::string::npos) << bare.err;
  // --no-defaults reads none of it.
  EXPECT_EQ(it::mysqlclone({"--no-defaults", "verify", d + "/empty"}).exit_code, 6);
}

}  // namespace
