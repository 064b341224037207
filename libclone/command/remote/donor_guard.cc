#include "libclone/command/remote/donor_guard.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libclone/base/log.h"
#include "libclone/base/subprocess.h"
#include "libclone/server/session.h"

namespace mysqlclone::clone {
namespace {

constexpr const char* kDone = "done";

nlohmann::json params_json(const ConnectionParams& p) {
  nlohmann::json j = {{"host", p.host},         {"port", p.port},       {"user", p.user},
                      {"socket", p.socket},     {"ssl_mode", int(p.ssl_mode)}, {"ssl_ca", p.ssl_ca},
                      {"ssl_cert", p.ssl_cert}, {"ssl_key", p.ssl_key}};
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

Result<std::unique_ptr<DonorGuard>> DonorGuard::start(const ConnectionParams& params) {
  // This program again, reading our pipe on its stdin (stdout and stderr stay ours), in a
  // session of its own: SIGINT from the terminal or a SIGKILL of our process group must not end it.
  ChildOptions options;
  options.path = "/proc/self/exe";
  options.pipe_in = true;
  options.new_session = true;
  auto child = Child::start({"mysqlclone", "--quiet", "guard-donor"}, options);
  if (!child.is_ok()) return child.status().with_context("the donor guard");
  std::unique_ptr<DonorGuard> guard(new DonorGuard(std::move(child).value()));
  guard->say(params_json(params).dump());
  return guard;
}

DonorGuard::~DonorGuard() { release(); }

void DonorGuard::say(const std::string& line) {
  if (!child_ || child_->in() < 0) return;
  if (Status s = child_->write_in(line + "\n"); !s.is_ok()) {
    log_warning("the donor guard is gone ({}); a kill of this process would leave the donor's clone "
                "waiting for its timeout",
                s.message());
    child_->close_in();
  }
}

void DonorGuard::watch(unsigned long donor_thread) { say(std::to_string(donor_thread)); }

void DonorGuard::release() {
  if (!child_) return;
  say(kDone);
  child_->close_in();
  child_->wait();
  child_.reset();
}

int run_donor_guard(int in_fd) {
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
  try {
    params = params_from(nlohmann::json::parse(lines.front()));
  } catch (const std::exception& e) {
    log_error("guard-donor: unreadable connection: {}", e.what());
    return int(ExitCode::kInternal);
  }
  std::vector<std::string> ids(lines.begin() + 1, lines.end());
  if (ids.empty()) return 0;
  auto killer = Session::connect(params);
  if (!killer.is_ok()) {
    log_error("guard-donor: mysqlclone remote ended without ending its clone on {}, and the guard cannot "
              "connect to end it: {}",
              params.describe(), killer.status().message());
    return int(killer.status().code());
  }
  for (const auto& id : ids) (void)killer->execute("KILL " + id);
  log_warning("guard-donor: mysqlclone remote ended without ending its clone on {}; its {} session(s) killed",
              params.describe(), ids.size());
  return 0;
}

}  // namespace mysqlclone::clone
