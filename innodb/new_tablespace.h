// The file a MySQL server writes for a tablespace it creates, before any redo describes its
// pages (MySQL fil_write_initial_pages): page 0 with only the identity fields — server version,
// space version, space id (FIL header and FSP header) and flags — and zeros everywhere else; the
// FSP header proper, the other header pages and the data pages come from redo-logged changes.
// A Clone recipient writes exactly this for a tablespace the donor created during the clone
// (clone-protocol.md §3.6): the page copy stage or the redo then fills it in.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "innodb/page.h"

namespace innodb {

// MySQL undo tablespace ids (dict_sys_t: the 127 x 512 ids just below the redo log's id
// 0xFFFFFFF0). A new undo tablespace starts at 16 MiB, any other at 7 pages.
bool is_mysql_undo_space_id(SpaceId id);

struct NewTablespaceFile {
  std::vector<uint8_t> page0;  // one physical page, checksummed (crc32) as the server writes it
  uint64_t size_bytes = 0;     // the file's size: zeros after page 0
};

// nullopt when `fsp_flags` is not a MySQL tablespace's (the caller refuses the file).
// `server_version`: MYSQL_VERSION_ID of the donor (e.g. 90704), kept on page 0 like the server does.
std::optional<NewTablespaceFile> mysql_new_tablespace_file(SpaceId space_id, uint32_t fsp_flags,
                                                           uint32_t server_version);

}  // namespace innodb
