#include "libclone/base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace mysqlclone {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

Status spawn_error(const std::vector<std::string>& argv, const char* what, int err) {
  return Status::error(ExitCode::kInternal,
                       "cannot start " + argv.front() + ": " + what + (err ? std::string(": ") + std::strerror(err) : ""));
}

}  // namespace

Result<std::unique_ptr<Child>> Child::start(const std::vector<std::string>& argv, const ChildOptions& options) {
  if (argv.empty()) return Status::error(ExitCode::kInternal, "cannot start a program without a name");
  // [0] the child's end, [1] ours, per standard descriptor.
  int ends[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  const bool piped[3] = {options.pipe_in, options.pipe_out, options.pipe_err};
  const auto close_all = [&] {
    for (auto& e : ends) {
      close_fd(e[0]);
      close_fd(e[1]);
    }
  };
  for (int i = 0; i < 3; ++i) {
    if (!piped[i]) continue;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      const int err = errno;
      close_all();
      return spawn_error(argv, "pipe", err);
    }
    // The child reads its stdin from a read end and writes stdout and stderr into write ends.
    ends[i][0] = i == 0 ? p[0] : p[1];
    ends[i][1] = i == 0 ? p[1] : p[0];
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  for (int i = 0; i < 3; ++i)
    if (piped[i]) posix_spawn_file_actions_adddup2(&actions, ends[i][0], i);  // dup2 clears close-on-exec
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGDEF;
  if (options.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = options.path.empty()
                     ? ::posix_spawnp(&pid, argv.front().c_str(), &actions, &attr, args.data(), environ)
                     : ::posix_spawn(&pid, options.path.c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  for (auto& e : ends) close_fd(e[0]);
  if (rc != 0) {
    close_all();
    return spawn_error(argv, "", rc);
  }
  std::unique_ptr<Child> child(new Child());
  child->pid_ = pid;
  child->in_ = ends[0][1];
  child->out_ = ends[1][1];
  child->err_ = ends[2][1];
  return child;
}

Child::~Child() {
  close_in();
  close_out();
  close_err();
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Child::close_in() { close_fd(in_); }
void Child::close_out() { close_fd(out_); }
void Child::close_err() { close_fd(err_); }

Status Child::write_in(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = in_ < 0 ? -1 : ::write(in_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error(ExitCode::kInternal, "the program's standard input is closed");
    done += size_t(n);
  }
  return Status::ok();
}

void Child::signal(int sig) {
  if (pid_ > 0 && status_ < 0) ::kill(pid_, sig);
}

bool Child::reap(int options) {
  if (status_ >= 0 || pid_ <= 0) return true;
  int raw = 0;
  pid_t got;
  while ((got = ::waitpid(pid_, &raw, options)) < 0 && errno == EINTR) {
  }
  if (got == 0) return false;  // WNOHANG: still running
  if (got < 0) status_ = 128;  // not our child any more: nothing to report
  else if (WIFEXITED(raw)) status_ = WEXITSTATUS(raw);
  else status_ = 128 + (signal_ = WTERMSIG(raw));
  return true;
}

int Child::wait() {
  reap(0);
  return status_;
}

bool Child::exits_within(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!reap(WNOHANG)) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Result<Captured> run_captured(const std::vector<std::string>& argv, size_t limit) {
  ChildOptions piped;
  piped.pipe_in = piped.pipe_out = piped.pipe_err = true;
  auto child = Child::start(argv, piped);
  if (!child.is_ok()) return child.status();
  Child& c = **child;
  c.close_in();
  Captured captured;
  pollfd fds[2] = {{c.out(), POLLIN, 0}, {c.err(), POLLIN, 0}};
  std::string* into[2] = {&captured.out, &captured.err};
  int open = 2;
  char buf[4096];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Status::error(ExitCode::kInternal, std::string("poll: ") + std::strerror(errno));
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      into[i]->append(buf, std::min(size_t(n), limit - std::min(limit, into[i]->size())));
    }
  }
  captured.status = c.wait();
  return captured;
}

}  // namespace mysqlclone
