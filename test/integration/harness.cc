#include "test/integration/harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace it {
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void trace(const std::vector<std::string>& argv, std::chrono::steady_clock::time_point t0, int exit_code) {
  static const char* const path = std::getenv("MYSQLCLONE_IT_TRACE");
  if (path == nullptr || *path == 0) return;
  const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string line = t ? std::string(t->test_suite_name()) + "." + t->name() : std::string("-");
  char buf[64];
  std::snprintf(buf, sizeof buf, "\t%.3f\t%d", seconds_since(t0), exit_code);
  line += buf;
  for (size_t i = 0; i < argv.size() && i < 6; ++i) {
    std::string a = argv[i];
    if (i == 0) a = fs::path(a).filename().string();
    for (char& c : a)
      if (c == '\t' || c == '\n') c = ' ';
    line += (i == 0 ? "\t" : " ") + a.substr(0, 80);
  }
  line += "\n";
  int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

bool wait_until(double seconds, const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// A port nobody listens on right now (the kernel's pick for an ephemeral bind).
int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

std::string server_script() { return std::string(MYSQLCLONE_SOURCE_DIR) + "/tools/servers/server.sh"; }

CommandResult run(const std::vector<std::string>& argv, const std::string& stdin_text) {
  const auto t0 = std::chrono::steady_clock::now();
  char out_tmpl[] = "/tmp/mysqlclone-it-out.XXXXXX";
  char err_tmpl[] = "/tmp/mysqlclone-it-err.XXXXXX";
  char in_tmpl[] = "/tmp/mysqlclone-it-in.XXXXXX";
  int out_fd = ::mkstemp(out_tmpl), err_fd = ::mkstemp(err_tmpl), in_fd = ::mkstemp(in_tmpl);
  if (!stdin_text.empty()) (void)!::write(in_fd, stdin_text.data(), stdin_text.size());
  ::lseek(in_fd, 0, SEEK_SET);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_all(out_tmpl);
  r.err = read_all(err_tmpl);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  ::unlink(in_tmpl);
  trace(argv, t0, r.exit_code);
  return r;
}

CommandResult mysqlclone(const std::vector<std::string>& args) {
  std::vector<std::string> argv{MYSQLCLONE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

Server::Server(std::string flavour, std::string page_size, std::vector<std::string> extra_args)
    : flavour_(std::move(flavour)), page_size_(std::move(page_size)), extra_args_(std::move(extra_args)) {
  char tmpl[] = "/tmp/mcit.XXXXXX";  // short: the socket path lives inside
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  port_ = free_port();
  start();
}

void Server::start() {
  std::vector<std::string> argv{server_script(), "start", flavour_, dir_, "--port", std::to_string(port_),
                                "--page-size", page_size_};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  CommandResult r = run(argv);
  if (r.exit_code != 0)
    throw std::runtime_error("cannot start " + flavour_ + " (" + page_size_ + ") in " + dir_ + ": " + r.err);
  running_ = true;
}

void Server::restart(std::vector<std::string> extra_args) {
  stop();
  extra_args_ = std::move(extra_args);
  start();
}

void Server::stop() {
  if (!running_) return;
  CommandResult r = run({server_script(), "stop", dir_});
  running_ = false;
  if (r.exit_code != 0) throw std::runtime_error("cannot stop server in " + dir_ + ": " + r.err);
}

Server::~Server() {
  // A server on its own datadir is thrown away with its directory: SIGKILL (server.sh kill) ends
  // it at once, where a clean stop flushes what a load made dirty first (seconds, ~10 s after a
  // write load). A server on a datadir given by the test (--datadir) may be started on again:
  // that one still stops cleanly.
  const bool own_datadir =
      std::find(extra_args_.begin(), extra_args_.end(), "--datadir") == extra_args_.end() &&
      std::none_of(extra_args_.begin(), extra_args_.end(), [](const std::string& a) { return a.rfind("--datadir=", 0) == 0; });
  if (running_) run({server_script(), own_datadir ? "kill" : "stop", dir_});
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

CommandResult Server::try_sql(const std::string& statements, double timeout_seconds) const {
  return run_bounded({server_script(), "sql", dir_, "-N", "-B"}, timeout_seconds, statements);
}

CommandResult Server::try_client(const std::vector<std::string>& args, const std::string& statements,
                                 double timeout_seconds) const {
  std::vector<std::string> argv{server_script(), "sql", dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_bounded(argv, timeout_seconds, statements);
}

std::string Server::env(const std::string& key) const {
  std::ifstream in(dir_ + "/server.env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) != 0) continue;
    std::string v = line.substr(key.size() + 1);
    // server.env is written with printf %q: our values (paths, numbers) need no unquoting
    // unless quoted as a whole.
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    return v;
  }
  return "";
}

std::string Server::socket() const {
  std::string s = env("SOCKET");
  return s.empty() ? dir_ + "/mysqld.sock" : s;
}

std::string Server::error_log() const { return read_all(dir_ + "/error.log"); }

std::string Server::sql(const std::string& statements) const {
  CommandResult r = run({server_script(), "sql", dir_, "-N", "-B"}, statements);
  if (r.exit_code != 0) throw std::runtime_error("SQL failed on " + flavour_ + ": " + r.err + "\n" + statements);
  return r.out;
}

// ----------------------------------------------------------------------------------- Background

namespace {

std::string temp_file(const char* what) {
  std::string t = std::string("/tmp/mysqlclone-it-") + what + ".XXXXXX";
  int fd = ::mkstemp(t.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  return t;
}

}  // namespace

Background::Background(const std::vector<std::string>& argv, const std::string& stdin_text)
    : argv_(argv), t0_(std::chrono::steady_clock::now()) {
  out_path_ = temp_file("bg-out");
  err_path_ = temp_file("bg-err");
  in_path_ = temp_file("bg-in");
  {
    std::ofstream in(in_path_, std::ios::binary);
    in << stdin_text;
  }
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setpgid(0, 0);
    // Dies with the test binary even when that is killed (ctest's timeout): no orphan load.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) ::_exit(127);
    int in = ::open(in_path_.c_str(), O_RDONLY);
    int out = ::open(out_path_.c_str(), O_WRONLY | O_TRUNC);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_TRUNC);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // Default signal dispositions (gtest leaves them alone, but be sure for SIGTERM/SIGINT).
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no race with a signal sent right after the fork
  pid_ = pid;
}

bool Background::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  reaped_ = true;
  if (r == pid_) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

bool Background::wait_for(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void Background::signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

void Background::signal_group(int sig) {
  // The group may outlive its leader (a pipeline's other members): signal it even when reaped.
  ::kill(-pid_, sig);
}

void Background::stop(double grace_seconds) {
  signal_group(SIGTERM);
  if (!wait_for(grace_seconds)) {
    signal_group(SIGKILL);
    wait_for(30);
  }
  signal_group(SIGKILL);  // stragglers of the group
}

Background::~Background() {
  std::vector<std::string> traced{"bg"};
  traced.insert(traced.end(), argv_.begin(), argv_.end());
  trace(traced, t0_, exit_code_);
  if (pid_ > 0) {
    signal_group(SIGKILL);
    if (!reaped_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  ::unlink(out_path_.c_str());
  ::unlink(err_path_.c_str());
  ::unlink(in_path_.c_str());
}

std::string Background::out() const { return read_all(out_path_); }
std::string Background::err() const { return read_all(err_path_); }

CommandResult run_bounded(const std::vector<std::string>& argv, double timeout_seconds, const std::string& stdin_text) {
  Background p(argv, stdin_text);
  if (p.wait_for(timeout_seconds)) return p.result();
  p.signal_group(SIGKILL);
  p.wait_for(30);
  CommandResult r = p.result();
  r.exit_code = -1;
  r.err += "\n[timed out after " + std::to_string(int(timeout_seconds)) + " s: killed]\n";
  return r;
}

std::string mysqlclone_binary() { return MYSQLCLONE_BINARY; }

std::vector<std::string> via_socket(const Server& s, const std::string& user, const std::string& password) {
  return {"-S", s.socket(), "-u", user, "-p" + password};
}

std::vector<std::string> local_args(const Server& s, const std::string& target, const std::vector<std::string>& extra) {
  std::vector<std::string> a{"--json", "local", "--target-dir", target, "-S", s.socket(), "-u", "mysqlclone",
                             "-pmysqlclone"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

CommandResult mysqlclone_bounded(const std::vector<std::string>& args, double timeout_seconds) {
  std::vector<std::string> argv{MYSQLCLONE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_bounded(argv, timeout_seconds);
}

// -------------------------------------------------------------------------------------- TempDir

TempDir::TempDir() {
  char tmpl[] = "/tmp/mcit-t.XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> v;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

unsigned long long tree_bytes(const std::string& dir) {
  unsigned long long total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) {
      auto n = it->file_size(ec2);
      if (!ec2) total += n;
    }
  }
  return total;
}

std::string read_file(const std::string& path) { return read_all(path); }

StartAttempt try_start_stock_server(const std::string& flavour, const std::string& datadir) {
  char tmpl[] = "/tmp/mcit.XXXXXX";  // short: the socket lives inside
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  const std::string dir = tmpl;
  StartAttempt a;
  // server.sh bounds the start itself (90 s); the margin here only guards against a hang.
  CommandResult r = run_bounded({server_script(), "start", flavour, dir, "--datadir", datadir}, 240);
  a.started = r.exit_code == 0;
  a.output = r.err;
  if (a.started) run_bounded({server_script(), "stop", dir}, 180);
  a.error_log = read_all(dir + "/error.log");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return a;
}

void flip_byte(const std::string& path, unsigned long long offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  unsigned char c = 0;
  if (::pread(fd, &c, 1, off_t(offset)) != 1) throw std::runtime_error("cannot read " + path);
  c ^= 0xFF;
  if (::pwrite(fd, &c, 1, off_t(offset)) != 1) throw std::runtime_error("cannot write " + path);
  ::close(fd);
}

std::string test_name(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

}  // namespace it
