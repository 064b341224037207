// Storage: where every byte the tool writes lands — data files, both redo outputs, metadata,
// markers, the clone applier's blocks. The LevelDB `Env` idea: the engine says what to write,
// a Storage says how (a local directory today; a stream or a peer later), so the consistency
// logic never changes when a new target kind arrives.
//
// Two kinds of writer use it:
//   - sequential writers (the page copier, the redo archivers, metadata) only create, append,
//     extend with zeros and close: a Storage that can only append would carry them;
//   - the clone applier writes blocks at offsets in any order (write_at), and may write a range
//     again (a page sent twice): it needs a Storage with random_access(), as a directory and a
//     stream (whose data records name their offset, replayed in order) both are.
// Nothing in the engine reads its own output back or truncates it, with two exceptions: bytes a
// storage took by sharing the source's blocks (append_shared) were never in memory, so the copier
// reads them back once to judge them; and `restore --delta` compares the files of a datadir that
// is already there with what it restores, and rewrites in place (update) the blocks that differ.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "libclone/base/status.h"
#include "libclone/io/read_file.h"

namespace mysqlclone {

// One target file, created exclusively. A file that is never closed is incomplete.
class StorageFile {
 public:
  virtual ~StorageFile() = default;
  // Writes at the end of what was written so far.
  virtual Status append(std::span<const uint8_t> bytes) = 0;
  // Writes at `offset` (random-access storages only; see Storage::random_access()). Thread-safe
  // for disjoint ranges.
  virtual Status write_at(uint64_t offset, std::span<const uint8_t> bytes) = 0;
  // Grows the file with zeros to `size` bytes (allocated, not sparse, where the storage can);
  // never shrinks it. Appends continue after the new end.
  virtual Status extend_to(uint64_t size) = 0;
  // Zero copy: makes the next `length` bytes of this file share the blocks of `source` from
  // `offset` (a reflink: FICLONERANGE on XFS, btrfs), as they are on disk at that instant.
  // Offset and length are multiples of 4096. Returns false, having written nothing, where the
  // blocks cannot be shared (another file system, one without reflinks, a stream): the caller
  // copies the bytes instead.
  virtual Result<bool> append_shared(const ReadFile& /*source*/, uint64_t /*offset*/, uint64_t /*length*/) {
    return false;
  }
  // Reads back bytes this file took by append_shared: they were never in memory, and the copier
  // judges them like any read (and writes a page it re-read from the source over them).
  virtual Result<size_t> read_shared(uint64_t /*offset*/, std::span<uint8_t> /*into*/) {
    return Status::error(ExitCode::kInternal, "read_shared on a storage that shares nothing");
  }
  // Writes the file out and closes it; it is durable after the storage's next sync().
  virtual Status close() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Creates `rel_path` (relative to the target root; parents created as needed), failing if it
  // exists: a name this run did not create is never written through.
  virtual Result<std::unique_ptr<StorageFile>> create(const std::string& rel_path) = 0;
  // Opens a file that exists, to write blocks of it in place (write_at, extend_to; appends go
  // after its end). Only `restore --delta` does, on a datadir the target lifecycle keeps from
  // starting until it is whole. A storage that cannot (a stream) says so: kInternal.
  virtual Result<std::unique_ptr<StorageFile>> update(const std::string& rel_path) {
    return Status::error(ExitCode::kInternal, describe() + " cannot rewrite " + rel_path + " in place");
  }
  virtual Status make_dir(const std::string& rel_path) = 0;
  // Drops a file written earlier (to copy it again, or a marker that is no longer true).
  virtual Status remove(const std::string& rel_path) = 0;
  // Removes an empty directory.
  virtual Status remove_dir(const std::string& rel_path) = 0;
  // Gives a finished file its final name (atomically replacing any file of that name).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Writes a small file whole, replacing any earlier version atomically: metadata and markers.
  virtual Status put(const std::string& rel_path, const std::string& contents) = 0;
  // Writes `contents` over a small file that exists, in its own blocks, padded with spaces to its
  // size: no new space is needed, so it works on a full disk (the failure mark after ENOSPC),
  // though not atomically (a crash may leave it torn: unreadable, never complete). kPath when it
  // cannot: no such file, `contents` longer than it, a storage that cannot (a stream).
  virtual Status overwrite_in_place(const std::string& rel_path, const std::string& /*contents*/) {
    return Status::error(ExitCode::kPath, describe() + " cannot rewrite " + rel_path + " in place");
  }
  // Makes every file closed and every name created, renamed or removed so far durable.
  virtual Status sync() = 0;
  // Whether StorageFile::write_at works.
  virtual bool random_access() const = 0;
  // What to call the target in messages (a directory's path).
  virtual const std::string& describe() const = 0;
};

}  // namespace mysqlclone
