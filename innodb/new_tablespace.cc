#include "innodb/new_tablespace.h"

#include <algorithm>

#include "innodb/byte_order.h"
#include "innodb/page_check.h"
#include "innodb/tablespace_flags.h"

namespace innodb {
namespace {

constexpr SpaceId kRedoSpaceId = 0xFFFFFFF0u;
constexpr SpaceId kUndoSpaceIds = 127u * 512u;
constexpr uint32_t kInitialPages = 7;                   // FIL_IBD_FILE_INITIAL_SIZE
constexpr uint64_t kUndoInitialBytes = 16ull << 20;     // UNDO_INITIAL_SIZE_IN_PAGES x page size
// On page 0 MySQL keeps the writing server's version and the space version where other pages
// have their previous and next page links.
constexpr size_t kFilPageSrvVersion = kFilPagePrev;
constexpr size_t kFilPageSpaceVersion = kFilPageNext;
constexpr uint32_t kSpaceVersion = 1;

}  // namespace

bool is_mysql_undo_space_id(SpaceId id) { return id < kRedoSpaceId && id >= kRedoSpaceId - kUndoSpaceIds; }

std::optional<NewTablespaceFile> mysql_new_tablespace_file(SpaceId space_id, uint32_t fsp_flags,
                                                           uint32_t server_version) {
  const auto format = decode_tablespace_flags(fsp_flags, Flavour::kMysql);
  if (!format || format->encrypted) return std::nullopt;
  // Built as a logical page; a compressed tablespace's page 0 is its first physical_size bytes.
  std::vector<uint8_t> page(format->page_size, 0);
  write_be32(page.data() + kFilPageSrvVersion, server_version);
  write_be32(page.data() + kFilPageSpaceVersion, kSpaceVersion);
  write_be32(page.data() + kFilPageSpaceId, space_id);
  write_be32(page.data() + kFspHeaderOffset + kFspSpaceId, space_id);
  write_be32(page.data() + kFspHeaderOffset + kFspSpaceFlags, fsp_flags);
  // Page number, type, LSN, FSP size and free limit stay 0, as the server leaves them.
  NewTablespaceFile file;
  if (format->row_compressed) {
    page.resize(format->physical_size);
    write_be32(page.data() + kFilPageSpaceOrChecksum, zip_page_crc32(page, false));
  } else {
    const uint32_t checksum = page_crc32(page, false);
    write_be32(page.data() + kFilPageSpaceOrChecksum, checksum);
    write_be32(page.data() + page.size() - kFilPageEndLsnOldChecksum, checksum);
  }
  file.size_bytes = is_mysql_undo_space_id(space_id)
                        ? std::max<uint64_t>(kUndoInitialBytes, format->physical_size)
                        : uint64_t(kInitialPages) * format->physical_size;
  file.page0 = std::move(page);
  return file;
}

}  // namespace innodb
