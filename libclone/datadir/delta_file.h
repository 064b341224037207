// NAME.delta: the pages of one tablespace file that an incremental backup keeps (those whose LSN
// is above its threshold), in our own format. Like XtraBackup's .delta (innodb-formats.md §6.2)
// it is made of blocks of the file's physical page size P, so page images stay aligned, but
// every block is checksummed and every count is bounded, and the end is explicit: a delta that
// was cut short or damaged is refused, never applied in part.
//
//   header block (P bytes)
//     0  8  magic "MCDELTA1"
//     8  4  physical page size P (big-endian, like every number here)
//     12 4  space id
//     16 4  the tablespace's FSP flags (how its pages are checked)
//     20 4  flavour: 0 MySQL, 1 MariaDB
//     24 4  page number of the file's first page in its tablespace (ibdata2 continues ibdata1)
//     28 8  threshold LSN: the pages kept have a higher LSN
//     P-4 4 CRC-32C of bytes [0, P-4)
//   chunks, each a chunk block (P bytes) followed by its pages (P bytes each)
//     0  4  magic "MCDC"
//     4  4  n, pages that follow (at most kDeltaChunkPages)
//     8  4  1 for the last chunk, else 0
//     12 8  the last chunk: the file's size in bytes as the backup read it; else 0
//     20 8n n x (page index in this file, CRC-32C of the page image)
//     P-4 4 CRC-32C of bytes [0, P-4)
// Page indexes strictly increase over the whole file; the last chunk ends it (nothing follows).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "innodb/page.h"
#include "innodb/tablespace_flags.h"
#include "libclone/base/status.h"
#include "libclone/io/read_file.h"
#include "libclone/io/sha256.h"
#include "libclone/io/storage.h"

namespace mysqlclone {

constexpr const char* kDeltaSuffix = ".delta";
// Bounds the writer's buffer (kDeltaChunkPages + 1 pages) and the reader's per-chunk work.
constexpr uint32_t kDeltaChunkPages = 64;

struct DeltaHeader {
  uint32_t page_size = 0;  // physical
  innodb::SpaceId space_id = 0;
  uint32_t fsp_flags = 0;
  innodb::Flavour flavour = innodb::Flavour::kMysql;
  innodb::PageNo first_page = 0;
  innodb::Lsn threshold = 0;
};

// Appends a delta to a StorageFile (append only: a stream can carry it too).
class DeltaWriter {
 public:
  DeltaWriter(StorageFile& out, const DeltaHeader& header);
  Status begin();
  // `index` is the page's place in this file; calls come in increasing index order.
  Status add_page(innodb::PageNo index, std::span<const uint8_t> page);
  // Writes the last chunk, recording the size of the file that was read.
  Status finish(uint64_t file_bytes);
  uint64_t bytes() const { return bytes_; }
  uint64_t pages() const { return pages_; }
  std::string hex_digest() { return hash_.hex_digest(); }  // after finish()

 private:
  Status flush(bool last, uint64_t file_bytes);
  StorageFile& out_;
  DeltaHeader header_;
  AlignedBuffer buffer_;  // chunk block + pages
  std::vector<std::pair<innodb::PageNo, uint32_t>> entries_;
  Sha256 hash_;
  uint64_t bytes_ = 0;
  uint64_t pages_ = 0;
};

struct DeltaPage {
  innodb::PageNo index;  // in the file
  std::span<const uint8_t> bytes;
};

// Reads a delta through a Source, checking every block and page before handing it out: block
// and page CRC-32Cs, increasing page indexes, and each page judged by the tablespace's own
// checksum (innodb/page_check.h). Any defect is kVerifyFailed naming the file and the page.
// It reads the file once from start to end; `with_sha256`: it hashes what it reads (the SHA-256
// its backup's mysqlclone.json records), for the readers that check it (restore's first pass,
// verify), not for restore's overlay, which reads the deltas checked already.
class DeltaReader {
 public:
  static Result<DeltaReader> open(const std::string& path, bool with_sha256);
  const DeltaHeader& header() const { return header_; }
  // The next page, or nullopt once the last chunk is read (then file_bytes() is known).
  Result<std::optional<DeltaPage>> next();
  uint64_t file_bytes() const { return file_bytes_; }
  // The whole file's SHA-256 (hex), once next() has returned nullopt; call once, and only on a
  // reader opened with_sha256.
  std::string hex_digest() { return hash_->hex_digest(); }

 private:
  DeltaReader(ReadFile file, DeltaHeader header, innodb::TablespaceFormat format,
              std::span<const uint8_t> header_block, bool with_sha256);
  Status bad(const std::string& what) const;
  ReadFile file_;
  DeltaHeader header_;
  innodb::TablespaceFormat format_;
  std::unique_ptr<AlignedBuffer> buffer_;
  std::unique_ptr<Sha256> hash_;  // of the bytes read so far, which are the file's from its start (with_sha256)
  uint64_t offset_ = 0;  // next chunk block
  std::vector<std::pair<innodb::PageNo, uint32_t>> entries_;
  size_t next_entry_ = 0;
  std::optional<innodb::PageNo> last_index_;
  bool last_chunk_ = false;
  bool ended_ = false;
  uint64_t file_bytes_ = 0;
};

}  // namespace mysqlclone
