// `mysqlclone remote --ssh`: a copy of a donor of either flavour pulled over OpenSSH. ssh runs
// `mysqlclone local --stream` on the donor's host, and its stdout — the stream — is replayed
// here by run_extract, exactly as `extract` replays a file: the same checks, the same target
// lifecycle, the same DIR.
//
// What the donor's host needs: sshd, and the same mysqlclone release (checked first with
// `mysqlclone --version` over ssh; a mismatch is refused before anything runs). ssh runs with
// BatchMode (keys or an agent, never a prompt) and the user's own ssh configuration. The MySQL
// password never appears in an argv, here or there: it is the first line on the remote
// command's stdin (`local --password-stdin`). The donor host's option files are not read
// (`--no-defaults`): the connection is the one resolved here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/command/extract/extract.h"
#include "libclone/server/connection.h"

namespace mysqlclone {

struct SshPullOptions {
  std::string destination;               // [USER@]HOST, as ssh takes it
  std::vector<std::string> ssh_options;  // each given to ssh as -o OPT
  std::string remote_binary = "mysqlclone";  // the program on the donor's host (a name in its PATH, or a path)
  ConnectionParams donor;  // how the donor host's mysqlclone connects (host as seen from there)
  std::string target_dir;
  unsigned parallel = 0;      // the donor side's copy threads; 0: its default
  double max_rate_mib = 0;    // its read limit; 0: none
  std::optional<std::string> compress;  // the donor side's --compress ("": its default, zstd level 1)
  unsigned compress_threads = 0;        // its --compress-threads; 0: its default
};

// The stream's own errors as extract reports them. kNetwork when ssh cannot connect or
// authenticate, or the connection breaks; the donor side's own exit code and error line when its
// mysqlclone fails (kConnection, kPrivilege, ...); kUnsupported when the donor host has no
// mysqlclone or another version. DIR is never left startable.
Result<ExtractResult> run_ssh_pull(const SshPullOptions& options, ExtractProgress& progress);

}  // namespace mysqlclone
