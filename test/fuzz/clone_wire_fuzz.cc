// libFuzzer target for everything a donor can make us parse: response packets, every plugin-layer
// body, InnoDB descriptors, and the file names that become paths. Built and run by tools/fuzz.sh.
// Besides "no crash, no sanitizer report", it checks the one property that matters for safety:
// an accepted donor file name always lands under the target directory.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "libclone/command/remote/clone_paths.h"
#include "libclone/command/remote/clone_wire.h"

namespace {
using namespace mysqlclone::clone;

void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "clone_wire_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check_path(const std::string& name) {
  for (bool allow_absolute : {false, true}) {
    const PathRules rules{"/nonexistent/dir", allow_absolute};
    auto target = data_file_target(name, rules);
    if (!target.is_ok()) continue;
    const std::filesystem::path normal = target->lexically_normal();
    const std::filesystem::path rel = normal.lexically_relative(rules.target_dir);
    if (rel.empty() || *rel.begin() == ".." || rel == "." || normal.string().rfind("/nonexistent/dir/", 0) != 0) {
      fail("path escapes the target directory", name + " -> " + target->string());
    }
  }
}

void check_descriptor(std::span<const uint8_t> bytes) {
  auto d = parse_descriptor(bytes);
  if (!d.is_ok()) return;
  if (auto* file = std::get_if<FileDescriptor>(&*d)) check_path(file->name);
  if (std::get_if<StateDescriptor>(&*d) != nullptr) {
    // What we send back as the ACK must itself be a valid state descriptor with the ACK bit.
    auto acked = parse_descriptor(with_ack_flag(bytes));
    if (!acked.is_ok() || !std::get<StateDescriptor>(*acked).is_ack()) fail("with_ack_flag", "not an acked state");
  }
}

void check_response(std::span<const uint8_t> packet) {
  auto r = split_response(packet);
  if (!r.is_ok()) return;
  switch (r->type) {
    case ResponseType::kLocators: (void)parse_locators(r->body); break;
    case ResponseType::kDataDescriptor: {
      auto env = parse_data_descriptor_envelope(r->body);
      if (env.is_ok()) check_descriptor(env->descriptor);
      break;
    }
    case ResponseType::kPlugin:
    case ResponseType::kCollation: (void)parse_name(r->body); break;
    case ResponseType::kPluginV2: (void)parse_plugin_v2(r->body); break;
    case ResponseType::kConfig:
    case ResponseType::kConfigV3:
    case ResponseType::kConfigV4: (void)parse_key_value(r->body); break;
    case ResponseType::kError: (void)parse_error(r->body); break;
    case ResponseType::kData:
    case ResponseType::kComplete: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  // As a packet, and every parser on the raw bytes too, so each one sees the whole input space.
  check_response(bytes);
  check_descriptor(bytes);
  (void)parse_locators(bytes);
  (void)parse_name(bytes);
  (void)parse_plugin_v2(bytes);
  (void)parse_key_value(bytes);
  (void)parse_error(bytes);
  (void)parse_data_descriptor_envelope(bytes);
  const std::string text(reinterpret_cast<const char*>(data), size);
  check_path(text);
  (void)mysqlclone::parse_server_version(text);
  return 0;
}
