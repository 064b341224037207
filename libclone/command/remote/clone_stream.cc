#include "libclone/command/remote/clone_stream.h"

#include <thread>

#include "libclone/command/remote/clone_writer.h"
#include "libclone/base/log.h"

namespace mysqlclone::clone {
namespace {

// Error numbers a donor session reports when it was killed or the server is going down.
constexpr int32_t kErQueryInterrupted = 1317;
constexpr int32_t kErServerShutdown = 1053;
constexpr int32_t kErConnectionKilled = 3169;

Status unexpected(ResponseType type, const char* during) {
  return Status::error(ExitCode::kProtocol, "unexpected response " + std::to_string(int(type)) + " during " + during);
}

// Reads responses until COMPLETE; `on` handles everything else, ERROR ends with the donor's error.
Status read_answer(Transport& t, const std::function<Status(const Response&)>& on) {
  while (true) {
    auto packet = t.receive();
    if (!packet.is_ok()) return packet.status();
    auto response = split_response(*packet);
    if (!response.is_ok()) return response.status();
    if (response->type == ResponseType::kComplete) return Status::ok();
    if (response->type == ResponseType::kError) {
      auto error = parse_error(response->body);
      if (!error.is_ok()) return error.status();
      return donor_error_status(*error);
    }
    if (Status s = on(*response); !s.is_ok()) return s;
  }
}

}  // namespace

std::string DonorDescription::config(const std::string& key) const {
  for (const auto& kv : configs)
    if (kv.key == key) return kv.value;
  return "";
}

Status donor_error_status(const DonorError& e) {
  const std::string text = "donor error " + std::to_string(e.code) + ": " + e.message;
  if (e.code == kErQueryInterrupted || e.code == kErServerShutdown || e.code == kErConnectionKilled)
    return Status::error(ExitCode::kNetwork, "the donor ended the clone: " + text);
  return Status::error(ExitCode::kUnsupported, text);
}

Result<DonorDescription> init_clone(Transport& main, uint32_t ddl_timeout_seconds, bool block_ddl) {
  if (Status s = main.send(Command::kInit, build_init_body(kProtocolHighest, ddl_timeout_seconds, !block_ddl, {}));
      !s.is_ok())
    return s;
  DonorDescription d;
  bool have_locators = false;
  Status s = read_answer(main, [&](const Response& r) -> Status {
    switch (r.type) {
      case ResponseType::kLocators: {
        auto locs = parse_locators(r.body);
        if (!locs.is_ok()) return locs.status();
        d.protocol = locs->protocol;
        d.locators = std::move(locs->locators);
        have_locators = true;
        return Status::ok();
      }
      case ResponseType::kPlugin: {
        auto name = parse_name(r.body);
        if (!name.is_ok()) return name.status();
        d.plugins.push_back({*name, ""});
        return Status::ok();
      }
      case ResponseType::kPluginV2: {
        auto plugin = parse_plugin_v2(r.body);
        if (!plugin.is_ok()) return plugin.status();
        d.plugins.push_back(std::move(*plugin));
        return Status::ok();
      }
      case ResponseType::kCollation: {
        auto name = parse_name(r.body);
        if (!name.is_ok()) return name.status();
        d.collations.push_back(std::move(*name));
        return Status::ok();
      }
      case ResponseType::kConfig:
      case ResponseType::kConfigV3:
      case ResponseType::kConfigV4: {
        auto kv = parse_key_value(r.body);
        if (!kv.is_ok()) return kv.status();
        (r.type == ResponseType::kConfig ? d.configs : d.other_configs).push_back(std::move(*kv));
        return Status::ok();
      }
      default:
        return unexpected(r.type, "COM_INIT");
    }
  });
  if (!s.is_ok()) return s.with_context("starting the clone");
  if (!have_locators || d.locators.empty())
    return Status::error(ExitCode::kProtocol, "the donor's COM_INIT answer has no locator");
  return d;
}

Status attach_worker(Transport& worker, uint32_t protocol, const std::vector<Locator>& locators) {
  if (Status s = worker.send(Command::kAttach, build_init_body(protocol, 0, false, locators)); !s.is_ok()) return s;
  bool have_locators = false;
  Status s = read_answer(worker, [&](const Response& r) -> Status {
    if (r.type != ResponseType::kLocators) return unexpected(r.type, "COM_ATTACH");
    auto locs = parse_locators(r.body);
    if (!locs.is_ok()) return locs.status();
    have_locators = true;
    return Status::ok();
  });
  if (!s.is_ok()) return s.with_context("attaching a worker connection");
  if (!have_locators) return Status::error(ExitCode::kProtocol, "the donor's COM_ATTACH answer has no locator");
  return Status::ok();
}

Status CloneProgress::account(SnapshotState stage, uint64_t bytes) {
  done_bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (stage == SnapshotState::kPageCopy) return Status::ok();
  return throttle.take(bytes);
}

Status run_execute_stream(Transport& t, StreamContext& c) {
  if (Status s = t.send(Command::kExecute, {}); !s.is_ok()) return s;
  std::optional<DataDescriptor> pending;  // a data descriptor waiting for its bytes
  const bool master = bool(c.ack);
  BlockWriter writer(c.applier);
  Status streamed = read_answer(t, [&](const Response& r) -> Status {
    if (r.type == ResponseType::kData) {
      if (!pending) return Status::error(ExitCode::kProtocol, "the donor sent data without a data descriptor");
      if (r.body.size() != pending->data_length)
        return Status::error(ExitCode::kProtocol, "the donor announced " + std::to_string(pending->data_length) +
                                                      " bytes of data and sent " + std::to_string(r.body.size()));
      const DataDescriptor block = *pending;
      pending.reset();
      if (Status s = writer.submit(block, r.body); !s.is_ok()) return s;
      return c.progress.account(block.state, r.body.size());
    }
    if (r.type != ResponseType::kDataDescriptor) return unexpected(r.type, "COM_EXECUTE");
    if (pending) return Status::error(ExitCode::kProtocol, "the donor sent a descriptor where data was due");
    auto envelope = parse_data_descriptor_envelope(r.body);
    if (!envelope.is_ok()) return envelope.status();
    // The envelope parser already refused other engines.
    if (envelope->locator_index != 0)
      return Status::error(ExitCode::kProtocol, "descriptor for locator " + std::to_string(envelope->locator_index));
    auto descriptor = parse_descriptor(envelope->descriptor);
    if (!descriptor.is_ok()) return descriptor.status();
    if (auto* data = std::get_if<DataDescriptor>(&*descriptor)) {
      if (data->data_length > c.max_block_bytes)
        return Status::error(ExitCode::kProtocol, "the donor announced a data block of " +
                                                      std::to_string(data->data_length) + " bytes, beyond the " +
                                                      std::to_string(c.max_block_bytes) + " a donor sends at most");
      pending = *data;
      return Status::ok();
    }
    if (auto* file = std::get_if<FileDescriptor>(&*descriptor)) return c.applier.add_file(*file);
    if (auto* state = std::get_if<StateDescriptor>(&*descriptor)) {
      if (state->is_ack()) return Status::ok();  // keep-alive during a long donor wait
      if (!master) return Status::ok();           // only the master takes part in state changes
      if (state->is_start()) {
        // The previous state's DDL batch came just before this: its renames take their names now.
        if (Status s = c.applier.begin_state(state->state); !s.is_ok()) return s;
        c.progress.state = uint32_t(state->state);
        c.progress.total_bytes += state->estimated_bytes;
        log_info("clone stage: {}", snapshot_state_name(state->state));
        if (state->state == SnapshotState::kFileCopy && c.check_space) return c.check_space(state->estimated_disk_bytes);
        return Status::ok();
      }
      // End of a state: the donor waits for our ACK before it moves on.
      return c.ack(envelope->descriptor);
    }
    return Status::ok();  // task metadata: which task this connection is; nothing to apply
  });
  if (streamed.is_ok() && pending)
    return Status::error(ExitCode::kProtocol, "the donor ended the stream before the data of its last descriptor");
  if (!streamed.is_ok()) return streamed;
  return writer.drain();
}

Status acknowledge_state(Transport& aux, const Locator& locator, std::span<const uint8_t> descriptor) {
  if (Status s = aux.send(Command::kAck, build_ack_body(0, locator, with_ack_flag(descriptor))); !s.is_ok())
    return s.with_context("acknowledging a clone stage");
  return read_answer(aux, [](const Response& r) { return unexpected(r.type, "COM_ACK"); });
}

Status exit_clone(Transport& t) {
  if (Status s = t.send(Command::kExit, {}); !s.is_ok()) return s;
  return read_answer(t, [](const Response& r) { return unexpected(r.type, "COM_EXIT"); });
}

}  // namespace mysqlclone::clone
