#include "cli/option_files.h"

#include <optional>

#include "libclone/server/connection.h"
#include "libclone/server/option_file.h"

namespace mysqlclone {
namespace {

// Read by resolve_connection from [client], [mysqlclone] and [mysqlclone-<command>] alike; the
// three file choices only make sense on a command line.
const std::vector<std::string> kConnectionOptions = {
    "host", "port", "user", "password", "socket", "ssl-mode", "ssl-ca", "ssl-cert", "ssl-key",
    "defaults-file", "defaults-extra-file", "no-defaults"};

bool is_connection_option(const std::string& name) {
  return std::find(kConnectionOptions.begin(), kConnectionOptions.end(), name) != kConnectionOptions.end();
}

// --defaults-file=F / --defaults-file F and the like, wherever they are on the command line.
OptionFileChoice file_choice(const std::vector<std::string>& args) {
  OptionFileChoice c;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& name) -> std::optional<std::string> {
      if (a.rfind(name + "=", 0) == 0) return a.substr(name.size() + 1);
      if (a == name && i + 1 < args.size()) return args[i + 1];
      return std::nullopt;
    };
    if (auto v = value("--defaults-file")) c.defaults_file = *v;
    if (auto v = value("--defaults-extra-file")) c.defaults_extra_file = *v;
    if (a == "--no-defaults") c.no_defaults = true;
  }
  return c;
}

// Where the command's name is in args: the first word that names a subcommand, skipping the
// values of the app's own options.
std::optional<size_t> command_position(const CLI::App& app, const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 1 && a[0] == '-') {
      if (a.find('=') != std::string::npos) continue;
      const CLI::Option* opt = app.get_option_no_throw(a);
      if (opt && opt->get_expected_min() > 0) ++i;  // its value
      continue;
    }
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->check_name(a)) return i;
  }
  return std::nullopt;
}

// Whether the command line already sets `opt` (any of its names, `--name=value` included).
bool on_command_line(const CLI::Option& opt, const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      if (opt.check_lname(a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2)))
        return true;
    } else if (a.size() >= 2 && a[0] == '-' && opt.check_sname(a.substr(1, 1))) {
      return true;
    }
  }
  return false;
}

bool known_to_another_command(const CLI::App& app, const CLI::App& command, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (sub != &command && sub->get_option_no_throw("--" + name)) return true;
  return false;
}

}  // namespace

Result<ArgsWithOptionFiles> with_option_files(const CLI::App& app, const std::vector<std::string>& args) {
  ArgsWithOptionFiles out{args, {}};
  const auto at = command_position(app, args);
  if (!at) return out;  // no command: CLI11 says so
  const CLI::App* command = nullptr;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (sub->check_name(args[*at])) command = sub;
  const std::string own_group = "mysqlclone-" + command->get_name();
  const std::vector<std::string> groups{"mysqlclone", own_group};
  const OptionFileChoice choice = file_choice(args);
  auto entries = read_option_entries(option_files(choice), groups, choice);
  if (!entries.is_ok()) return entries.status();

  // name -> the entry that wins (the command's group over [mysqlclone], a later line over an
  // earlier one), checked as we go.
  std::map<std::string, const OptionEntry*> chosen;
  for (const auto& group : groups) {
    for (const auto& e : *entries) {
      if (e.group != group) continue;
      const std::string what = e.where() + ": option '" + e.name + "' in [" + e.group + "]";
      if (e.name.empty() || e.name.find_first_of(" \t") != std::string::npos)
        return Status::error(ExitCode::kUsage, e.where() + ": malformed line in [" + e.group + "]");
      if (is_connection_option(e.name)) continue;
      const CLI::Option* opt = command->get_option_no_throw("--" + e.name);
      if (!opt) opt = app.get_option_no_throw("--" + e.name);
      if (!opt) {
        if (e.loose || (group == "mysqlclone" && known_to_another_command(app, *command, e.name))) continue;
        return Status::error(ExitCode::kUsage, what + (group == "mysqlclone" ? ": no mysqlclone command has this option"
                                                                            : ": no such option of mysqlclone " +
                                                                                  command->get_name()));
      }
      if (opt->get_expected_min() > 0 && e.bare)
        return Status::error(ExitCode::kUsage, what + ": needs a value (" + e.name + " = ...)");
      chosen[e.name] = &e;
    }
  }
  std::vector<std::string> words;
  for (const auto& [name, e] : chosen) {
    const CLI::Option* opt = command->get_option_no_throw("--" + name);
    if (!opt) opt = app.get_option_no_throw("--" + name);
    if (on_command_line(*opt, args)) continue;
    words.push_back(e->bare ? "--" + name : "--" + name + "=" + e->value);
    out.origin["--" + name] = e->where() + ": option '" + name + "'";
  }
  out.args.insert(out.args.begin() + std::ptrdiff_t(*at) + 1, words.begin(), words.end());
  return out;
}

std::string locate_parse_error(const std::string& message, const ArgsWithOptionFiles& parsed) {
  for (const auto& [flag, where] : parsed.origin)
    if (message.find(flag) != std::string::npos) return where + ": " + message;
  return message;
}

}  // namespace mysqlclone
