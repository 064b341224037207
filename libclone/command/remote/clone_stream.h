// The recipient's side of the clone RPC on one connection: the COM_INIT / COM_ATTACH exchange,
// the COM_EXECUTE stream (descriptors and data applied as they arrive, end-of-state ACKs on the
// auxiliary connection), and COM_EXIT. Everything here speaks through a Transport only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "libclone/command/remote/clone_apply.h"
#include "libclone/command/remote/clone_transport.h"
#include "libclone/command/remote/clone_wire.h"
#include "libclone/io/throttle.h"

namespace mysqlclone::clone {

// What the donor says about itself in the COM_INIT answer.
struct DonorDescription {
  uint32_t protocol = 0;  // negotiated
  std::vector<Locator> locators;
  std::vector<KeyValue> configs;        // version, version_compile_os, ..., innodb_page_size
  std::vector<KeyValue> other_configs;  // CONFIG_V3 / CONFIG_V4 (json_configs)
  std::vector<PluginV2> plugins;        // V1 donors send names only
  std::vector<std::string> collations;
  std::string config(const std::string& key) const;  // "" when absent
};

// COM_INIT on the main connection: asks for the highest protocol we speak. With `block_ddl` the
// donor takes its backup lock (waiting up to `ddl_timeout_seconds` for it) and holds it to the
// end of the clone, so no DDL runs meanwhile — nor for as long as the donor then waits for a
// recipient that vanished. Without it the donor takes no lock and announces the files its DDL
// creates, renames and deletes, which the Applier applies as the stock recipient does.
Result<DonorDescription> init_clone(Transport& main, uint32_t ddl_timeout_seconds, bool block_ddl);

// COM_ATTACH on a worker connection, with the master's locators.
Status attach_worker(Transport& worker, uint32_t protocol, const std::vector<Locator>& locators);

// Byte counters for the progress display, the --max-rate throttle, and the stage shown.
struct CloneProgress {
  std::atomic<uint64_t> done_bytes{0};
  std::atomic<uint64_t> total_bytes{0};
  std::atomic<uint32_t> state{0};  // SnapshotState of the main stream
  Throttle throttle;  // --max-rate
  // Counts `bytes` received in `state`, then waits while the transfer runs ahead of the allowed
  // rate (kInterrupted at once on a signal). PAGE COPY is never slowed: its pages come from the
  // donor's buffer pool, not its disks, and the donor holds every in-place index build or table
  // rebuild (ALTER ... ALGORITHM=INPLACE: bulk loads without redo) until the stage ends.
  Status account(SnapshotState state, uint64_t bytes);
};

struct StreamContext {
  Applier& applier;
  CloneProgress& progress;
  // Master stream only: sends the ACK for an end-of-state descriptor on the aux connection.
  // Empty for workers (the donor takes state ACKs from the master only).
  std::function<Status(std::span<const uint8_t> descriptor)> ack;
  // Master stream only: at FILE COPY start, the donor's estimate of the disk space needed.
  std::function<Status(uint64_t disk_bytes)> check_space;
  // A data descriptor announcing a longer block is refused before its bytes are read.
  uint64_t max_block_bytes = clone::max_block_bytes(65536);
};

// COM_EXECUTE, then applies the stream until COM_RES_COMPLETE.
Status run_execute_stream(Transport& connection, StreamContext& context);

// COM_ACK on the aux connection for an end-of-state descriptor (sent back with its ACK flag set,
// with the clone's locator); the donor moves to the next state once it has it.
Status acknowledge_state(Transport& aux, const Locator& locator, std::span<const uint8_t> descriptor);

// COM_EXIT; the donor answers COMPLETE and the connection returns to SQL mode.
Status exit_clone(Transport& connection);

// A COM_RES_ERROR as a Status: a killed or interrupted session is kNetwork (the clone was cut
// off), anything else the donor refuses is kUnsupported with the donor's own words.
Status donor_error_status(const DonorError& error);

}  // namespace mysqlclone::clone
