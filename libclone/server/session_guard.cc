#include "libclone/server/session_guard.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libclone/base/log.h"
#include "libclone/base/subprocess.h"
#include "libclone/server/session.h"

namespace mysqlclone {
namespace {

constexpr const char* kDone = "done";

// The first line: where the server is and what the statements undo.
nlohmann::json header_json(const ConnectionParams& p, const std::string& what) {
  nlohmann::json j = {{"host", p.host},         {"port", p.port},       {"user", p.user},
                      {"socket", p.socket},     {"ssl_mode", int(p.ssl_mode)}, {"ssl_ca", p.ssl_ca},
                      {"ssl_cert", p.ssl_cert}, {"ssl_key", p.ssl_key}, {"what", what}};
  if (p.password) j["password"] = *p.password;
  return j;
}

ConnectionParams params_from(const nlohmann::json& j) {
  ConnectionParams p;
  p.host = j.at("host").get<std::string>();
  p.port = j.at("port").get<unsigned>();
  p.user = j.at("user").get<std::string>();
  p.socket = j.at("socket").get<std::string>();
  p.ssl_mode = SslMode(j.at("ssl_mode").get<int>());
  p.ssl_ca = j.at("ssl_ca").get<std::string>();
  p.ssl_cert = j.at("ssl_cert").get<std::string>();
  p.ssl_key = j.at("ssl_key").get<std::string>();
  if (j.contains("password")) p.password = j.at("password").get<std::string>();
  return p;
}

}  // namespace

Result<std::unique_ptr<SessionGuard>> SessionGuard::start(const ConnectionParams& params, const std::string& what) {
  // This program again, reading our pipe on its stdin (stdout and stderr stay ours), in a
  // session of its own: SIGINT from the terminal or a SIGKILL of our process group must not end it.
  ChildOptions options;
  options.path = "/proc/self/exe";
  options.pipe_in = true;
  options.new_session = true;
  auto child = Child::start({"mysqlclone", "--quiet", "guard"}, options);
  if (!child.is_ok()) return child.status().with_context("the guard of " + what);
  std::unique_ptr<SessionGuard> guard(new SessionGuard(std::move(child).value(), what));
  guard->say(header_json(params, what).dump());
  return guard;
}

SessionGuard::~SessionGuard() { release(); }

void SessionGuard::say(const std::string& line) {
  if (!child_ || child_->in() < 0) return;
  if (Status s = child_->write_in(line + "\n"); !s.is_ok()) {
    log_warning("the guard is gone ({}); a kill of this process would leave {} as it is", s.message(), what_);
    child_->close_in();
  }
}

// As a JSON string: one line whatever the statement holds (a quoted channel name with a newline).
void SessionGuard::on_death(const std::string& statement) { say(nlohmann::json(statement).dump()); }

void SessionGuard::release() {
  say(kDone);
  hand_over();  // after "done", the guard only exits
}

void SessionGuard::hand_over() {
  if (!child_) return;
  child_->close_in();
  child_->wait();
  child_.reset();
}

int run_session_guard(int in_fd) {
  std::string buffer;
  char chunk[4096];
  while (true) {
    const ssize_t n = ::read(in_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, size_t(n));
  }
  std::vector<std::string> lines;
  for (size_t at = 0; at < buffer.size();) {
    const size_t end = buffer.find('\n', at);
    if (end == std::string::npos) break;  // a line cut by our parent's death: not a whole message
    lines.push_back(buffer.substr(at, end - at));
    at = end + 1;
  }
  if (lines.empty() || lines.back() == kDone) return 0;
  ConnectionParams params;
  std::string what;
  std::vector<std::string> statements;
  try {
    const nlohmann::json header = nlohmann::json::parse(lines.front());
    params = params_from(header);
    what = header.at("what").get<std::string>();
    for (size_t i = 1; i < lines.size(); ++i) statements.push_back(nlohmann::json::parse(lines[i]).get<std::string>());
  } catch (const std::exception& e) {
    log_error("guard: unreadable instructions: {}", e.what());
    return int(ExitCode::kInternal);
  }
  if (statements.empty()) return 0;
  auto session = Session::connect(params);
  if (!session.is_ok()) {
    log_error("guard: mysqlclone ended without undoing {} on {}, and the guard cannot connect to do it: {}", what,
              params.describe(), session.status().message());
    return int(session.status().code());
  }
  // Each goes on its own (a KILL of a session that has ended meanwhile fails, and is no matter).
  for (const std::string& statement : statements)
    if (Status s = session->execute(statement); !s.is_ok()) log_warning("guard: {}", s.message());
  log_warning("guard: mysqlclone ended without undoing {} on {}; the guard did", what, params.describe());
  return 0;
}

}  // namespace mysqlclone
