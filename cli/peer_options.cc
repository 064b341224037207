#include "cli/peer_options.h"

namespace mysqlclone {

void add_peer_options(CLI::App& cmd, PeerArgs& args, const std::string& what) {
  CLI::Option* cert =
      cmd.add_option("--peer-cert", args.options.tls.cert, "This side's TLS certificate (PEM) for the peer connection");
  CLI::Option* key = cmd.add_option("--peer-key", args.options.tls.key, "The private key of --peer-cert (PEM)");
  CLI::Option* ca =
      cmd.add_option("--peer-ca", args.options.tls.ca, "The CA certificate(s) (PEM) the " + what + "'s certificate must chain to");
  CLI::Option* insecure = cmd.add_flag("--peer-insecure", args.options.insecure,
                                       "Plain TCP to the " + what + ": no TLS, no authentication (the other side must "
                                       "say so too)");
  insecure->excludes(cert)->excludes(key)->excludes(ca);
  // 60 s: far above any pause of a healthy peer (a sender waiting for a lock sends keepalives
  // every 5 s), short enough that a dead one is noticed while the source's locks are not held.
  cmd.add_option("--peer-timeout", args.timeout_seconds,
                 "Seconds to wait for the connection and for the " + what + " to send or take a byte before "
                 "giving up (default: 60)")
      ->check(CLI::Range(10, 86400));
}

Status check_peer_options(PeerArgs& args) {
  args.options.timeout = std::chrono::seconds(args.timeout_seconds);
  const TlsFiles& f = args.options.tls;
  if (args.options.insecure || (!f.cert.empty() && !f.key.empty() && !f.ca.empty())) return Status::ok();
  return Status::error(ExitCode::kUsage, "the peer connection needs --peer-cert, --peer-key and --peer-ca (mutual "
                                         "TLS), or --peer-insecure for plain TCP");
}

}  // namespace mysqlclone
