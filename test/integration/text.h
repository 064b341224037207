// Text helpers the integration tests share: trimming and splitting command output, and the
// shapes of failure messages (a command's result, a server's [ERROR] lines).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/harness.h"

namespace it::text {

std::string upper(std::string s);
std::string lower(std::string s);
std::string trim(std::string s);
bool contains(const std::string& hay, const std::string& needle);
// The last n bytes of s.
std::string tail(const std::string& s, size_t n = 4000);
// Long output: its beginning (what happened first) and its end (how it ended).
std::string head_tail(const std::string& s, size_t head = 3000, size_t end = 3000);
std::vector<std::string> split_lines(const std::string& s);
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& v, const std::string& sep);
// A command's exit code, stdout and stderr, for a failure message.
std::string describe(const CommandResult& r);
// Lines of stderr that carry an error (the house style: exactly one per failure).
std::vector<std::string> error_lines(const std::string& err);
// The server's own [ERROR] lines (why it refused), or the end of its log when it has none.
std::string server_errors(const std::string& log);
// A shell word for bash -c: `s` in single quotes.
std::string quoted(const std::string& s);
// One JSON document, or a discarded value when the text is not one.
nlohmann::json parse(const std::string& out);
// A line in the test's output, in gtest's style.
void info(const std::string& what);

}  // namespace it::text
