#include "cli/status_exit.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "libclone/base/log.h"

namespace mysqlclone {

int fail(const Status& status, const GlobalOptions& global) {
  log_error("{}", status.message());
  if (global.json) {
    nlohmann::json j = {{"ok", false},
                        {"error", status.message()},
                        {"exit_code", int(status.code())},
                        {"exit_reason", exit_code_name(status.code())}};
    // Messages carry file names and donor text, which need not be UTF-8: U+FFFD, never a throw.
    std::fputs((j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(), global.results);
  }
  return int(status.code());
}

}  // namespace mysqlclone
