#include "libclone/command/extract/ssh_pull.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <deque>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "libclone/base/log.h"
#include "libclone/base/subprocess.h"
#include "libclone/base/text.h"
#include "libclone/server/preflight.h"
#include "mysqlclone_version.h"

namespace mysqlclone {
namespace {

constexpr const char* kVersion = "mysqlclone " MYSQLCLONE_VERSION;
constexpr int kSshFailed = 255;  // ssh's own exit status for its own errors
constexpr size_t kKeptLines = 20;
constexpr size_t kMaxLine = 4096;

// One word for the remote shell, whatever it holds.
std::string shell_word(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

const char* ssl_mode_name(SslMode m) {
  switch (m) {
    case SslMode::kDisabled: return "DISABLED";
    case SslMode::kPreferred: return "PREFERRED";
    case SslMode::kRequired: return "REQUIRED";
    case SslMode::kVerifyCa: return "VERIFY_CA";
    case SslMode::kVerifyIdentity: return "VERIFY_IDENTITY";
  }
  return "PREFERRED";
}

std::vector<std::string> ssh_argv(const SshPullOptions& o, const std::string& remote_command) {
  // No terminal (-T): the stream is binary. BatchMode first, so no option can bring a prompt back
  // (ssh keeps the first value it is given for each option); the user's options next, then our
  // defaults: a bounded connect, and a peer silent for a minute counts as gone.
  std::vector<std::string> argv{"ssh", "-T", "-o", "BatchMode=yes"};
  for (const auto& opt : o.ssh_options) {
    argv.push_back("-o");
    argv.push_back(opt);
  }
  for (const char* d : {"ConnectTimeout=30", "ServerAliveInterval=15", "ServerAliveCountMax=4"}) {
    argv.push_back("-o");
    argv.push_back(d);
  }
  argv.push_back("--");
  argv.push_back(o.destination);
  argv.push_back(remote_command);
  return argv;
}

// `mysqlclone local --stream` as the donor host's shell runs it: everything but the password.
std::string remote_local_command(const SshPullOptions& o) {
  const ConnectionParams& d = o.donor;
  std::string c = shell_word(o.remote_binary) + " --no-defaults --quiet local --stream";
  if (d.password) c += " --password-stdin";
  c += " -u " + shell_word(d.user);
  if (!d.host.empty()) c += " -h " + shell_word(d.host);
  if (d.port) c += fmt::format(" -P {}", d.port);
  if (!d.socket.empty()) c += " -S " + shell_word(d.socket);
  c += fmt::format(" --ssl-mode {}", ssl_mode_name(d.ssl_mode));
  if (!d.ssl_ca.empty()) c += " --ssl-ca " + shell_word(d.ssl_ca);
  if (!d.ssl_cert.empty()) c += " --ssl-cert " + shell_word(d.ssl_cert);
  if (!d.ssl_key.empty()) c += " --ssl-key " + shell_word(d.ssl_key);
  if (o.parallel) c += fmt::format(" --parallel {}", o.parallel);
  if (o.max_rate_mib > 0) c += fmt::format(" --max-rate {}", o.max_rate_mib);
  if (o.compress) c += o.compress->empty() ? " --compress" : " --compress=" + shell_word(*o.compress);
  if (o.compress_threads) c += fmt::format(" --compress-threads {}", o.compress_threads);
  return c;
}

// The last line of `text` that says something.
std::string last_line(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ')) --end;
    const size_t begin = text.rfind('\n', end ? end - 1 : 0);
    const size_t from = begin == std::string::npos ? 0 : begin + 1;
    if (end > from) return printable(text.substr(from, end - from), kMaxLine);
    if (from == 0) break;
    end = from;
  }
  return "no message";
}

Status check_remote_version(const SshPullOptions& o) {
  auto r = run_captured(ssh_argv(o, shell_word(o.remote_binary) + " --version"), 64 * 1024);
  if (!r.is_ok()) return r.status().with_context("--ssh needs OpenSSH's ssh on this host");
  if (r->status == kSshFailed)
    return Status::error(ExitCode::kNetwork, "cannot reach the donor's host through ssh (" + o.destination +
                                                 "): " + last_line(r->err));
  if (r->status != 0)
    return Status::error(ExitCode::kUnsupported,
                         fmt::format("{}: '{} --version' failed (status {}: {}): the donor's host needs {} (or "
                                     "name its path with --ssh-mysqlclone)",
                                     o.destination, printable(o.remote_binary), r->status, last_line(r->err), kVersion));
  std::string first = r->out.substr(0, r->out.find('\n'));
  // "mysqlclone 0.1.0 (git 0123456789ab)": the release must match; the stream format's own
  // version guards the rest.
  const std::string release = first.substr(0, first.find(" ("));
  if (release != kVersion)
    return Status::error(ExitCode::kUnsupported,
                         fmt::format("{} has '{}' at '{}', this is {}: the donor's host needs the same release",
                                     o.destination, printable(release, 200), printable(o.remote_binary), kVersion));
  return Status::ok();
}

// Reads ssh's stderr while the stream runs: the donor side's warnings are logged here as they
// come, its error line and the last other lines (ssh's own) are kept for the final message.
class StderrWatch {
 public:
  StderrWatch(int fd, std::string destination)
      : destination_(std::move(destination)), thread_([this, fd] { run(fd); }) {}
  ~StderrWatch() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::optional<std::string> remote_error() const { return remote_error_; }
  // The last line that was not the donor side's log ("" when none): ssh's own words.
  std::string last_other() const {
    for (auto it = others_.rbegin(); it != others_.rend(); ++it)
      if (!it->empty()) return *it;
    return "";
  }

 private:
  void run(int fd) {
    std::string pending;
    char buf[4096];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buf, size_t(n));
      for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        line(pending.substr(0, nl));
        pending.erase(0, nl + 1);
      }
      if (pending.size() > kMaxLine) {
        line(pending);
        pending.clear();
      }
    }
    if (!pending.empty()) line(pending);
  }

  // The donor side's log lines are "YYYY-MM-DD HH:MM:SS mysqlclone: [warning: |error: ]text".
  void line(const std::string& raw) {
    static const std::string kTag = " mysqlclone: ";
    const bool ours = raw.size() > 19 + kTag.size() && std::isdigit(static_cast<unsigned char>(raw[0])) &&
                      raw.compare(19, kTag.size(), kTag) == 0;
    if (!ours) {
      others_.push_back(printable(raw, kMaxLine));
      if (others_.size() > kKeptLines) others_.pop_front();
      return;
    }
    const std::string text = raw.substr(19 + kTag.size());
    if (text.rfind("error: ", 0) == 0)
      remote_error_ = printable(text.substr(7), kMaxLine);
    else if (text.rfind("warning: ", 0) == 0)
      log_warning("{}: {}", destination_, printable(text.substr(9), kMaxLine));
    else
      log_info("{}: {}", destination_, printable(text, kMaxLine));
  }

  std::string destination_;
  std::optional<std::string> remote_error_;
  std::deque<std::string> others_;
  std::thread thread_;
};

// The run's outcome when the stream and ssh ended by themselves: extract's status and ssh's.
Status outcome(const SshPullOptions& o, const Status& extracted, Child& ssh, const StderrWatch& err) {
  const int status = ssh.wait();
  const std::string said = err.remote_error().value_or(err.last_other());
  if (extracted.is_ok()) {
    // The end record proved the stream whole: the copy stands, whatever came after it.
    if (status != 0)
      log_warning("the copy is complete, but the donor side ended with status {} after it{}{}", status,
                  said.empty() ? "" : ": ", said);
    return Status::ok();
  }
  if (status == 0) return extracted;
  const auto remote_error = err.remote_error();
  if (remote_error && ssh.end_signal() == 0 && status <= int(ExitCode::kProtocol))
    return Status::error(ExitCode(status), "the donor side (ssh " + o.destination + ") failed: " + *remote_error);
  // ssh's own failure (255: cannot connect, refused, connection lost, the remote command killed),
  // ssh killed here, or a donor side that died without a word.
  std::string why;
  if (ssh.end_signal() != 0)
    why = fmt::format("ssh to {} was killed by signal {} before the end of the stream", o.destination, ssh.end_signal());
  else if (status == kSshFailed)
    why = "the ssh connection to " + o.destination + " ended before the end of the stream" +
          (said.empty() ? " (the donor side was killed, or the connection lost)" : "");
  else
    why = fmt::format("the donor side (ssh {}) ended with status {} before the end of the stream", o.destination, status);
  if (!said.empty()) why += ": " + said;
  return Status::error(ExitCode::kNetwork, why + "; " + o.target_dir + " is incomplete");
}

}  // namespace

Result<ExtractResult> run_ssh_pull(const SshPullOptions& options, ExtractProgress& progress) {
  if (options.destination.empty() || options.destination.front() == '-')
    return Status::error(ExitCode::kUsage, "--ssh " + printable(options.destination) + ": expected [USER@]HOST");
  if (options.donor.password && options.donor.password->find('\n') != std::string::npos)
    return Status::error(ExitCode::kUsage, "a password with a line break cannot be sent over ssh");
  if (Status s = check_remote_version(options); !s.is_ok()) return s;
  // DIR is checked before the donor does any work.
  if (Status s = prepare_target(options.target_dir, 0); !s.is_ok()) return s;

  const std::string command = remote_local_command(options);
  log_info("running on {}: {}", options.destination, command);
  ChildOptions piped;
  piped.pipe_in = piped.pipe_out = piped.pipe_err = true;
  auto child = Child::start(ssh_argv(options, command), piped);
  if (!child.is_ok()) return child.status().with_context("--ssh needs OpenSSH's ssh on this host");
  Child& ssh = **child;
  StderrWatch watch(ssh.err(), options.destination);
  // The password is the first line the donor side reads; a remote that is already gone shows in
  // ssh's status.
  if (options.donor.password) (void)ssh.write_in(*options.donor.password + "\n");
  ssh.close_in();

  ExtractOptions extract;
  extract.target_dir = options.target_dir;
  FdSource input(ssh.out(), "the stream from " + options.destination);
  auto result = extract_from(extract, input, progress);
  // A stream that ended early most likely ended with the donor side, which then has its own
  // word to say: ssh exits at once. Any other failure is ours, and the donor side must stop too.
  const Status& e = result.status();
  const bool input_fault = e.code() == ExitCode::kVerifyFailed || e.code() == ExitCode::kNetwork;
  const bool ended_alone = result.is_ok() || (input_fault && ssh.exits_within(10));
  ssh.close_out();
  if (!ended_alone) ssh.signal(SIGTERM);
  ssh.wait();
  watch.join();
  if (!ended_alone) return e;
  if (Status s = outcome(options, e, ssh, watch); !s.is_ok()) return s;
  return result;
}

}  // namespace mysqlclone
