#include "test/integration/harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace it {
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

}  // namespace

std::string server_script() { return std::string(MYSQLCLONE_SOURCE_DIR) + "/tools/servers/server.sh"; }

CommandResult run(const std::vector<std::string>& argv, const std::string& stdin_text) {
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

void Server::stop() {
  if (!running_) return;
  CommandResult r = run({server_script(), "stop", dir_});
  running_ = false;
  if (r.exit_code != 0) throw std::runtime_error("cannot stop server in " + dir_ + ": " + r.err);
}

Server::~Server() {
  if (running_) run({server_script(), "stop", dir_});
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string Server::sql(const std::string& statements) const {
  CommandResult r = run({server_script(), "sql", dir_, "-N", "-B"}, statements);
  if (r.exit_code != 0) throw std::runtime_error("SQL failed on " + flavour_ + ": " + r.err + "\n" + statements);
  return r.out;
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

}  // namespace it
