// The mysql client's connection options, for every subcommand that connects.
//
// Passwords follow the client exactly: `-pSECRET` / `--password=SECRET` carry one, a bare
// `-p` / `--password` asks for it on the terminal. CLI11 would take the next word as the
// value, so these forms are taken out of argv before CLI11 parses it — and the secret is
// overwritten in place, so `ps` never shows it.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "libclone/server/connection.h"

namespace mysqlclone {

struct PasswordArgs {
  std::vector<std::string> args;  // argv without the password forms, argv[0] first
  std::optional<std::string> password;
  bool prompt = false;
  bool from_stdin = false;  // --password-stdin: the first line of standard input
};

// Takes -pX, --password=X, -p, --password and --password-stdin out of argv and scrubs X in
// argv's memory.
PasswordArgs extract_password(int argc, char** argv);

// -h/--host, -P/--port, -u/--user, -S/--socket, --ssl-mode, --ssl-ca, --ssl-cert, --ssl-key (the
// password is not a CLI11 option; see extract_password). Which option files are read is a global
// choice (main.cc), copied into the options by apply_password.
void add_connection_options(CLI::App& cmd, ConnectionOptions& options);

// --from USER@HOST:PORT (USER@ and :PORT optional; [v6addr] in brackets) into user, host and
// port; kUsage when malformed or when -u/-h/-P say otherwise.
Status apply_from(const std::string& from, ConnectionOptions& options);

// Applies the option-file choice and the extracted password (prompting on the terminal, or
// reading standard input's first line, when asked).
Status apply_password(const PasswordArgs& extracted, const OptionFileChoice& files, ConnectionOptions& options);

}  // namespace mysqlclone
