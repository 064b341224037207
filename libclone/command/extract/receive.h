// `mysqlclone receive`: extract (extract.h) over the network. Listens on one address, takes
// exactly one sender (`local --to`) over mutual TLS (io/peer.h), replays its stream into DIR
// exactly as extract does, tells the sender the outcome, and exits. It lives with extract because
// it is extract with another input.
#pragma once

#include <string>

#include "libclone/command/extract/extract.h"
#include "libclone/io/peer.h"

namespace mysqlclone {

struct ReceiveOptions {
  std::string listen;  // ADDR:PORT
  PeerOptions peer;
  ExtractOptions extract;  // target_dir, key_file
};

// As run_extract, plus kNetwork for the connection (a sender that is not trusted, that stops
// before the end of its stream, or is silent for longer than the timeout) and kPath for the TLS
// files. DIR is checked before anything listens.
Result<ExtractResult> run_receive(const ReceiveOptions& options, ExtractProgress& progress);

}  // namespace mysqlclone
