// The one narrow door between the Clone protocol and the client library: send a clone command,
// receive one response packet. Everything above it (clone_stream, remote_clone) speaks only
// clone_wire bytes through this interface, so it does not depend on Connector/C internals and
// can be driven by a scripted donor in unit tests.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "libclone/command/remote/clone_wire.h"
#include "libclone/server/session.h"
#include "libclone/base/status.h"

namespace mysqlclone::clone {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Status send(Command command, std::span<const uint8_t> body) = 0;
  // One response packet; the bytes stay valid until the next receive().
  virtual Result<std::span<const uint8_t>> receive() = 0;
  // From another thread: makes a blocked send()/receive() fail now (the socket is shut down).
  virtual void abort() = 0;
};

// Switches an authenticated session into clone mode (COM_CLONE) and returns the transport that
// owns it. The donor's refusal maps to a typed error: no BACKUP_ADMIN -> kPrivilege, clone plugin
// not loaded -> kUnsupported with the statement that loads it.
Result<std::unique_ptr<Transport>> enter_clone_mode(Session session);

}  // namespace mysqlclone::clone
