// Where a copy goes. The engine writes every target file front to back through this interface,
// so the same consistency logic can later feed a stream, a network peer, or a compressing or
// encrypting filter chain instead of a directory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "libclone/base/status.h"

namespace mysqlclone {

// One target file, written sequentially.
class SinkFile {
 public:
  virtual ~SinkFile() = default;
  virtual Status append(std::span<const uint8_t> bytes) = 0;
  // Makes the file durable and closes it. A file that is never closed is incomplete.
  virtual Status close() = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // `rel_path` is relative to the target root; parent directories are created as needed.
  virtual Result<std::unique_ptr<SinkFile>> create(const std::string& rel_path) = 0;
  virtual Status make_dir(const std::string& rel_path) = 0;
  // Drops a file written earlier, to copy it again (a non-transactional table that changed).
  virtual Status remove(const std::string& rel_path) = 0;
};

}  // namespace mysqlclone
