// Reading page 0 of a tablespace to learn how to read the rest: page sizes, checksum format,
// space id. The flags live on the page they describe, so they are trusted only once page 0
// validates under the format they announce.
#pragma once

#include <optional>

#include "innodb/page_check.h"
#include "innodb/tablespace_flags.h"
#include "libclone/io/read_file.h"

namespace mysqlclone {

struct TablespaceHeader {
  innodb::TablespaceFormat format;          // the file's own, or the fallback when page 0 is bad
  std::optional<innodb::SpaceId> space_id;  // set when page 0 is valid
  std::optional<innodb::PageVerdict> page0_problem;  // set when page 0 is empty or corrupt
};

// `fallback` is used when page 0 is empty, corrupt or announces impossible flags (the instance's
// format, from the system tablespace). Fails only on I/O errors or a file shorter than a page
// of the fallback size.
Result<TablespaceHeader> read_tablespace_header(const ReadFile& file, innodb::Flavour flavour,
                                                const innodb::TablespaceFormat& fallback);

// The instance-wide format from page 0 of the first system tablespace file. Unlike other files,
// a bad page 0 here is an error: nothing else tells the page size.
Result<innodb::TablespaceFormat> read_instance_format(const ReadFile& ibdata1, innodb::Flavour flavour);

}  // namespace mysqlclone
