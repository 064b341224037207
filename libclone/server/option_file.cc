#include "libclone/server/option_file.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "libclone/base/text.h"

namespace mysqlclone {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxIncludeDepth = 10;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string normalise_name(std::string name) {
  if (name.rfind("loose-", 0) == 0 || name.rfind("loose_", 0) == 0) name = name.substr(6);
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

// Unquotes a value and applies the escapes the mysql client knows.
std::string parse_value(std::string v) {
  v = trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  } else if (auto hash = v.find(" #"); hash != std::string::npos) {
    v = trim(v.substr(0, hash));  // trailing comment on an unquoted value
  }
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 == v.size()) {
      out += v[i];
      continue;
    }
    switch (char c = v[++i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 's': out += ' '; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      default: out += '\\'; out += c; break;
    }
  }
  return out;
}

struct Reader {
  const std::vector<std::string>& groups;
  std::vector<OptionEntry> entries;

  Status read(const std::string& path, bool must_exist, int depth) {
    if (depth > kMaxIncludeDepth) return Status::error(ExitCode::kUsage, path + ": !include nested too deeply");
    std::error_code ec;
    if (fs::is_directory(path, ec)) {  // opens, and reads as an empty file
      if (!must_exist) return Status::ok();
      return Status::error(ExitCode::kUsage, "option file " + printable(path) + " is a directory");
    }
    std::ifstream in(path);
    if (!in) {
      if (!must_exist) return Status::ok();
      return Status::error(ExitCode::kUsage, "cannot read option file " + printable(path));
    }
    const std::string* group = nullptr;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      const std::string t = trim(line);
      if (t.empty() || t[0] == '#' || t[0] == ';') continue;
      if (t.rfind("!includedir", 0) == 0) {
        const std::string dir = trim(t.substr(11));
        std::vector<std::string> names;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
          if (it->path().extension() == ".cnf") names.push_back(it->path().string());
        std::sort(names.begin(), names.end());
        for (const auto& f : names)
          if (Status s = read(f, true, depth + 1); !s.is_ok()) return s;
        continue;
      }
      if (t.rfind("!include", 0) == 0) {
        if (Status s = read(trim(t.substr(8)), true, depth + 1); !s.is_ok()) return s;
        continue;
      }
      if (t[0] == '[') {
        const auto close = t.find(']');
        if (close == std::string::npos)
          return Status::error(ExitCode::kUsage, path + ":" + std::to_string(n) + ": unterminated group name");
        const std::string g = trim(t.substr(1, close - 1));
        const auto it = std::find(groups.begin(), groups.end(), g);
        group = it == groups.end() ? nullptr : &*it;
        continue;
      }
      if (!group) continue;
      const auto eq = t.find('=');
      const std::string raw = eq == std::string::npos ? t : trim(t.substr(0, eq));
      OptionEntry e;
      e.group = *group;
      e.name = normalise_name(raw);
      e.loose = e.name.size() != raw.size();
      e.bare = eq == std::string::npos;
      if (!e.bare) e.value = parse_value(t.substr(eq + 1));
      e.file = path;
      e.line = n;
      entries.push_back(std::move(e));
    }
    return Status::ok();
  }
};

}  // namespace

std::vector<std::string> option_files(const OptionFileChoice& choice) {
  if (choice.no_defaults) return {};
  if (choice.defaults_file) return {*choice.defaults_file};
  std::vector<std::string> files{"/etc/my.cnf", "/etc/mysql/my.cnf"};
  if (const char* mh = std::getenv("MYSQL_HOME")) files.push_back(std::string(mh) + "/my.cnf");
  if (choice.defaults_extra_file) files.push_back(*choice.defaults_extra_file);
  if (const char* home = std::getenv("HOME")) files.push_back(std::string(home) + "/.my.cnf");
  return files;
}

Result<std::vector<OptionEntry>> read_option_entries(const std::vector<std::string>& files,
                                                     const std::vector<std::string>& groups,
                                                     const OptionFileChoice& choice) {
  Reader r{groups, {}};
  for (const auto& f : files) {
    const bool explicit_file = (choice.defaults_file && f == *choice.defaults_file) ||
                               (choice.defaults_extra_file && f == *choice.defaults_extra_file);
    if (Status s = r.read(f, explicit_file, 0); !s.is_ok()) return s;
  }
  return std::move(r.entries);
}

std::map<std::string, std::string> merge_by_group(const std::vector<OptionEntry>& entries,
                                                  const std::vector<std::string>& groups) {
  std::map<std::string, std::string> values;
  for (const auto& g : groups)
    for (const auto& e : entries)
      if (e.group == g) values[e.name] = e.value;
  return values;
}

}  // namespace mysqlclone
