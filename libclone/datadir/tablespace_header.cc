#include "libclone/datadir/tablespace_header.h"

#include <vector>

#include "libclone/base/text.h"

namespace mysqlclone {
namespace {

constexpr size_t kMaxPageSize = 65536;

struct Page0 {
  std::vector<uint8_t> bytes;  // up to kMaxPageSize
  std::optional<innodb::TablespaceFormat> announced;
};

Result<Page0> read_page0(const ReadFile& file, innodb::Flavour flavour) {
  Page0 p;
  p.bytes.resize(kMaxPageSize);
  auto n = file.read_at(0, p.bytes);
  if (!n.is_ok()) return n.status();
  p.bytes.resize(*n);
  if (p.bytes.size() >= innodb::kFspHeaderOffset + innodb::kFspSpaceFlags + 4) {
    auto fsp = innodb::read_fsp_header(p.bytes);
    p.announced = innodb::decode_tablespace_flags(fsp.flags, flavour);
  }
  return p;
}

}  // namespace

Result<TablespaceHeader> read_tablespace_header(const ReadFile& file, innodb::Flavour flavour,
                                                const innodb::TablespaceFormat& fallback) {
  auto p0 = read_page0(file, flavour);
  if (!p0.is_ok()) return p0.status();
  const std::vector<uint8_t>& bytes = p0->bytes;

  TablespaceHeader h;
  h.format = fallback;
  if (p0->announced && p0->announced->page_size == fallback.page_size &&
      bytes.size() >= p0->announced->physical_size) {
    const innodb::TablespaceFormat& f = *p0->announced;
    std::span<const uint8_t> page0(bytes.data(), f.physical_size);
    const auto fil = innodb::read_fil_header(page0);
    auto v = innodb::check_page(page0, f, 0, fil.space_id);
    if (v.status == innodb::PageStatus::kValid) {
      const auto fsp = innodb::read_fsp_header(page0);
      if (fsp.space_id == fil.space_id) {
        h.format = f;
        h.space_id = fil.space_id;
        return h;
      }
      v = {innodb::PageStatus::kCorrupt, innodb::PageDetail::kSpaceIdMismatch, v.lsn};
    }
    h.page0_problem = v;
    return h;
  }
  if (bytes.size() < fallback.physical_size)
    return Status::error(ExitCode::kSourceIo, printable(file.path()) + ": shorter than one page (" +
                                                  std::to_string(bytes.size()) + " bytes)");
  // The flags were unreadable or disagree with the instance: judge page 0 by the fallback.
  std::span<const uint8_t> page0(bytes.data(), fallback.physical_size);
  auto v = innodb::check_page(page0, fallback, 0, std::nullopt);
  if (v.status != innodb::PageStatus::kEmpty)
    v = {innodb::PageStatus::kCorrupt, innodb::PageDetail::kChecksumMismatch, v.lsn};
  h.page0_problem = v;
  return h;
}

Result<innodb::TablespaceFormat> read_instance_format(const ReadFile& ibdata1, innodb::Flavour flavour) {
  auto p0 = read_page0(ibdata1, flavour);
  if (!p0.is_ok()) return p0.status();
  if (!p0->announced)
    return Status::error(ExitCode::kVerifyFailed, printable(ibdata1.path()) + ": page 0 has invalid tablespace flags");
  innodb::TablespaceFormat f = *p0->announced;
  if (p0->bytes.size() < f.physical_size)
    return Status::error(ExitCode::kVerifyFailed, printable(ibdata1.path()) + ": shorter than one page");
  auto v = innodb::check_page(std::span<const uint8_t>(p0->bytes.data(), f.physical_size), f, 0, 0);
  if (v.status != innodb::PageStatus::kValid)
    return Status::error(ExitCode::kVerifyFailed,
                         printable(ibdata1.path()) + ": page 0 is not valid (" + innodb::page_detail_name(v.detail) +
                             "); cannot tell the instance's page size");
  return f;
}

}  // namespace mysqlclone
