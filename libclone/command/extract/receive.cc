#include "libclone/command/extract/receive.h"

#include "libclone/base/log.h"
#include "libclone/server/preflight.h"

namespace mysqlclone {

Result<ExtractResult> run_receive(const ReceiveOptions& options, ExtractProgress& progress) {
  // A DIR that cannot take the copy fails now, not after a sender has connected.
  if (Status s = prepare_target(options.extract.target_dir, 0); !s.is_ok()) return s;
  auto listener = PeerListener::listen(options.listen, options.peer);
  if (!listener.is_ok()) return listener.status();
  log_info("listening on {} (port {}) for one stream ({})", options.listen, (*listener)->port(),
           options.peer.insecure ? "plain TCP: --peer-insecure" : "TLS, the sender's certificate checked");
  auto source = (*listener)->accept();
  if (!source.is_ok()) return source.status();
  auto result = extract_from(options.extract, **source, progress);
  (*source)->finish(result.status());
  return result;
}

}  // namespace mysqlclone
