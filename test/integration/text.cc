#include "test/integration/text.h"

#include <cctype>
#include <iostream>
#include <sstream>

namespace it::text {

std::string upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string tail(const std::string& s, size_t n) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

std::string head_tail(const std::string& s, size_t head, size_t end) {
  if (s.size() <= head + end) return s;
  return s.substr(0, head) + "\n[... " + std::to_string(s.size() - head - end) + " bytes ...]\n" + s.substr(s.size() - end);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) v.push_back(line);
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> v;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      v.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  v.push_back(cur);
  return v;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string describe(const CommandResult& r) {
  return "exit code " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + head_tail(r.out) +
         "\n--- stderr ---\n" + head_tail(r.err);
}

std::vector<std::string> error_lines(const std::string& err) {
  std::vector<std::string> v;
  for (const auto& l : split_lines(err))
    if (contains(l, "error:")) v.push_back(l);
  return v;
}

std::string server_errors(const std::string& log) {
  std::string s;
  for (const auto& l : split_lines(log))
    if (contains(l, "[ERROR]")) s += l + "\n";
  return tail(s.empty() ? log : s, 3000);
}

nlohmann::json parse(const std::string& out) { return nlohmann::json::parse(out, nullptr, false); }

void info(const std::string& what) { std::cout << "[   info   ] " << what << std::endl; }

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace it::text
