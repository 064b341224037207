#include "cli/connection_options.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace mysqlclone {

PasswordArgs extract_password(int argc, char** argv) {
  PasswordArgs out;
  for (int i = 0; i < argc; ++i) {
    char* a = argv[i];
    if (i > 0 && (std::strcmp(a, "-p") == 0 || std::strcmp(a, "--password") == 0)) {
      out.prompt = true;
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
  const char* group = "Connection (as the mysql client)";
  cmd.add_option("-h,--host", o.host, "Server host (default: localhost, via the socket)")->group(group);
  cmd.add_option("-P,--port", o.port, "TCP port")->check(CLI::Range(1, 65535))->group(group);
  cmd.add_option("-u,--user", o.user, "Account name (default: your login name)")->group(group);
  cmd.add_flag("-p,--password", [](int64_t) {},
               "-pSECRET or --password=SECRET; alone: ask on the terminal (also MYSQL_PWD, option files)")
      ->group(group);
  cmd.add_option("-S,--socket", o.socket, "Unix socket file")->group(group);
  cmd.add_option("--defaults-file", o.files.defaults_file, "Read options only from this file")->group(group);
  cmd.add_option("--defaults-extra-file", o.files.defaults_extra_file, "Read this file after the global ones")
      ->group(group);
  cmd.add_flag("--no-defaults", o.files.no_defaults, "Read no option files")->group(group);
  cmd.add_option("--ssl-mode", o.ssl_mode, "DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY")->group(group);
  cmd.add_option("--ssl-ca", o.ssl_ca, "CA certificate file")->group(group);
  cmd.add_option("--ssl-cert", o.ssl_cert, "Client certificate file")->group(group);
  cmd.add_option("--ssl-key", o.ssl_key, "Client key file")->group(group);
}

Status apply_password(const PasswordArgs& extracted, ConnectionOptions& options) {
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
  while (::read(tty, &c, 1) == 1 && c != '\n' && c != '\r') password += c;
  if (is_tty) ::tcsetattr(tty, TCSAFLUSH, &old);
  (void)!::write(tty, "\n", 1);
  ::close(tty);
  options.password = password;
  return Status::ok();
}

}  // namespace mysqlclone
