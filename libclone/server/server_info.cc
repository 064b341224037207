#include "libclone/server/server_info.h"

#include <cstdio>
#include <map>

#include "libclone/base/text.h"

namespace mysqlclone {
namespace {

std::string strip_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool on(const std::string& v) { return v == "ON" || v == "1"; }

}  // namespace

Result<ServerInfo> read_server_info(Session& session) {
  ServerInfo info;
  auto version = session.query_value("SELECT VERSION()");
  if (!version.is_ok()) return version.status();
  info.version_string = version->value_or("");
  auto parsed = parse_server_version(info.version_string);
  if (!parsed.is_ok()) return parsed.status();
  info.version = *parsed;
  info.flavour = info.version_string.find("MariaDB") != std::string::npos ? innodb::Flavour::kMariadb
                                                                          : innodb::Flavour::kMysql;
  const bool mariadb = info.flavour == innodb::Flavour::kMariadb;

  // One round trip for every variable; names that do not exist in this flavour simply do not
  // come back.
  auto rows = session.query(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('datadir','innodb_page_size','innodb_data_file_path',"
      "'innodb_data_home_dir','innodb_undo_directory','innodb_log_group_home_dir','innodb_redo_log_capacity',"
      "'innodb_log_file_size','innodb_redo_log_encrypt','innodb_encrypt_log','log_bin','log_bin_basename',"
      "'server_uuid','server_id','innodb_log_checksums','lower_case_table_names','innodb_checksum_algorithm','innodb_undo_tablespaces',"
      "'innodb_undo_log_encrypt','version_comment','version_compile_os','version_compile_machine',"
      "'character_set_server','collation_server','character_set_filesystem','gtid_mode','log_replica_updates',"
      "'log_slave_updates','replica_parallel_workers','myisam_use_mmap')");
  if (!rows.is_ok()) return rows.status();
  std::map<std::string, std::string> v;
  for (const Row& r : *rows)
    if (r.size() == 2 && r[0]) v[*r[0]] = r[1].value_or("");
  // A numeric variable, `fallback` when this flavour does not report it; a value that is not a
  // number is the server's configuration we cannot read, never an exception.
  const auto number = [&](const std::string& name, uint64_t fallback, uint64_t max) -> Result<uint64_t> {
    const std::string& text = v[name];
    if (text.empty()) return fallback;
    return parse_u64(text, "the server's " + name, max, ExitCode::kUnsupported);
  };
  auto page_size = number("innodb_page_size", 16384, UINT32_MAX);
  auto capacity = number(mariadb ? "innodb_log_file_size" : "innodb_redo_log_capacity", 0, UINT64_MAX);
  auto lower_case = number("lower_case_table_names", 0, UINT32_MAX);
  auto undo_tablespaces = number("innodb_undo_tablespaces", 0, UINT32_MAX);
  auto workers = number("replica_parallel_workers", 0, UINT32_MAX);
  for (const auto* n : {&page_size, &capacity, &lower_case, &undo_tablespaces, &workers})
    if (!n->is_ok()) return n->status();
  info.datadir = strip_slash(v["datadir"]);
  info.page_size = uint32_t(*page_size);
  info.data_file_path = v["innodb_data_file_path"];
  info.data_home_dir = v["innodb_data_home_dir"];
  info.undo_directory = v["innodb_undo_directory"];
  info.log_group_home_dir = v["innodb_log_group_home_dir"];
  info.redo_capacity = *capacity;
  info.redo_encrypted = on(mariadb ? v["innodb_encrypt_log"] : v["innodb_redo_log_encrypt"]);
  info.redo_checksums = v["innodb_log_checksums"].empty() || on(v["innodb_log_checksums"]);
  info.log_bin = on(v["log_bin"]);
  info.log_bin_basename = v["log_bin_basename"];
  info.server_uuid = v["server_uuid"];
  info.server_id = v["server_id"];
  info.lower_case_table_names = unsigned(*lower_case);
  info.checksum_algorithm = v["innodb_checksum_algorithm"];
  info.undo_tablespaces = unsigned(*undo_tablespaces);
  info.undo_encrypted = on(v["innodb_undo_log_encrypt"]);
  info.version_comment = v["version_comment"];
  info.compile_os = v["version_compile_os"];
  info.compile_machine = v["version_compile_machine"];
  info.character_set_server = v["character_set_server"];
  info.collation_server = v["collation_server"];
  info.character_set_filesystem = v["character_set_filesystem"];
  info.gtid_mode = v["gtid_mode"];
  info.log_replica_updates = on(mariadb ? v["log_slave_updates"] : v["log_replica_updates"]);
  info.replica_parallel_workers = unsigned(*workers);
  info.myisam_use_mmap = on(v["myisam_use_mmap"]);
  if (!mariadb) {
    auto enabled = session.query("SHOW GLOBAL STATUS LIKE 'Innodb_redo_log_enabled'");
    if (!enabled.is_ok()) return enabled.status();
    if (!enabled->empty() && enabled->front().size() == 2) info.redo_enabled = on(enabled->front()[1].value_or("ON"));
  }
  return info;
}

}  // namespace mysqlclone
