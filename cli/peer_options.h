// The --peer-* options of `local --to` and `receive` (the peer connection, distinct from the
// MySQL connection's --ssl-*), and the check that TLS is configured whole or explicitly off.
#pragma once

#include <CLI/CLI.hpp>

#include "libclone/base/status.h"
#include "libclone/io/peer.h"

namespace mysqlclone {

struct PeerArgs {
  PeerOptions options;
  unsigned timeout_seconds = 60;
};

// `what` names the other side in the help ("receiver", "sender").
void add_peer_options(CLI::App& cmd, PeerArgs& args, const std::string& what);
// kUsage unless --peer-cert, --peer-key and --peer-ca are all given, or --peer-insecure alone.
// Fills options.timeout.
Status check_peer_options(PeerArgs& args);

}  // namespace mysqlclone
