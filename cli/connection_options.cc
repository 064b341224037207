#include "cli/connection_options.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "libclone/base/interrupt.h"

namespace mysqlclone {

PasswordArgs extract_password(int argc, char** argv) {
  PasswordArgs out;
  for (int i = 0; i < argc; ++i) {
    char* a = argv[i];
    if (i > 0 && (std::strcmp(a, "-p") == 0 || std::strcmp(a, "--password") == 0)) {
      out.prompt = true;
      continue;
    }
    if (i > 0 && std::strcmp(a, "--password-stdin") == 0) {
      out.from_stdin = true;
      continue;
    }
    char* value = nullptr;
    if (i > 0 && std::strncmp(a, "--password=", 11) == 0) value = a + 11;
    else if (i > 0 && a[0] == '-' && a[1] == 'p' && a[2] != '\0') value = a + 2;
    if (!value) {
      out.args.emplace_back(a);
      continue;
    }
    out.password = std::string(value);
    out.prompt = false;
    std::memset(value, 'x', std::strlen(value));  // what `ps` shows from now on
  }
  return out;
}

void add_connection_options(CLI::App& cmd, ConnectionOptions& o) {
  o.command = cmd.get_name();
  const char* group = "Connection (as the mysql client)";
  cmd.add_option("-h,--host", o.host, "Server host (default: localhost, via the socket)")->group(group);
  cmd.add_option("-P,--port", o.port, "TCP port")->check(CLI::Range(1, 65535))->group(group);
  cmd.add_option("-u,--user", o.user, "Account name (default: your login name)")->group(group);
  cmd.add_flag("-p,--password", [](int64_t) {},
               "-pSECRET or --password=SECRET; alone: ask on the terminal (also MYSQL_PWD, option files)")
      ->group(group);
  cmd.add_flag("--password-stdin", [](int64_t) {},
               "Read the password from the first line of standard input (how `remote --ssh` hands it over)")
      ->group(group);
  cmd.add_option("-S,--socket", o.socket, "Unix socket file")->group(group);
  cmd.add_option("--ssl-mode", o.ssl_mode, "DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY")->group(group);
  cmd.add_option("--ssl-ca", o.ssl_ca, "CA certificate file")->group(group);
  cmd.add_option("--ssl-cert", o.ssl_cert, "Client certificate file")->group(group);
  cmd.add_option("--ssl-key", o.ssl_key, "Client key file")->group(group);
}

Status apply_from(const std::string& from, ConnectionOptions& o) {
  auto bad = [&](const std::string& why) {
    return Status::error(ExitCode::kUsage, "--from " + from + ": " + why + " (expected USER@HOST:PORT)");
  };
  std::string rest = from;
  std::optional<std::string> user;
  if (const size_t at = rest.rfind('@'); at != std::string::npos) {
    user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (user->empty()) return bad("empty user name");
  }
  std::string host = rest;
  std::optional<unsigned> port;
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return bad("unclosed '['");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad("junk after ']'");
      port_text = rest.substr(close + 2);
    }
  } else if (const size_t colon = rest.find(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  if (host.empty()) return bad("empty host");
  if (!port_text.empty() || rest.find(':') != std::string::npos) {
    char* end = nullptr;
    const unsigned long p = std::strtoul(port_text.c_str(), &end, 10);
    if (port_text.empty() || *end != '\0' || p == 0 || p > 65535) return bad("port must be 1..65535");
    port = unsigned(p);
  }
  if ((user && o.user && *o.user != *user) || (o.host && *o.host != host) || (port && o.port && *o.port != *port))
    return bad("conflicts with -u/-h/-P");
  if (user) o.user = user;
  o.host = host;
  if (port) o.port = port;
  return Status::ok();
}

namespace {

// Standard input's first line, read a byte at a time: nothing after it is taken from whoever
// shares the descriptor.
Status read_password_line(ConnectionOptions& options) {
  std::string password;
  char c;
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) {
      if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted reading the password");
      continue;
    }
    if (n < 0)
      return Status::error(ExitCode::kUsage, std::string("--password-stdin: cannot read standard input: ") + std::strerror(errno));
    if (n == 0) {
      if (password.empty()) return Status::error(ExitCode::kUsage, "--password-stdin: standard input is empty");
      break;
    }
    if (c == '\n') break;
    password += c;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  options.password = password;
  return Status::ok();
}

}  // namespace

Status apply_password(const PasswordArgs& extracted, const OptionFileChoice& files, ConnectionOptions& options) {
  options.files = files;
  if (extracted.from_stdin) {
    if (extracted.password || extracted.prompt)
      return Status::error(ExitCode::kUsage, "--password-stdin and -p/--password exclude each other");
    return read_password_line(options);
  }
  if (extracted.password) {
    options.password = extracted.password;
    return Status::ok();
  }
  if (!extracted.prompt) return Status::ok();
  int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0)
    return Status::error(ExitCode::kUsage,
                         "-p asks for the password on a terminal, and there is none: use --password=..., MYSQL_PWD "
                         "or an option file");
  const char prompt[] = "Enter password: ";
  (void)!::write(tty, prompt, sizeof prompt - 1);
  termios old{};
  const bool is_tty = ::tcgetattr(tty, &old) == 0;
  if (is_tty) {
    termios quiet = old;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    ::tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  std::string password;
  char c;
  // SIGINT/SIGTERM are caught without SA_RESTART, so Ctrl-C ends the read() with EINTR: that
  // must end the run, not connect with the half-typed password.
  while (!interrupted()) {
    const ssize_t n = ::read(tty, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || c == '\n' || c == '\r') break;
    password += c;
  }
  if (is_tty) ::tcsetattr(tty, TCSAFLUSH, &old);
  (void)!::write(tty, "\n", 1);
  ::close(tty);
  if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted at the password prompt");
  options.password = password;
  return Status::ok();
}

}  // namespace mysqlclone
