// What a restore writes, decided before DIR is touched: the chain, every file of the restored
// backup with where its bytes come from, and every delta read and checked once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/manifest/backup_chain.h"

namespace mysqlclone {

// MariaDB starts on a datadir only once it has ib_logfile0 (innodb-formats.md §5.1): it is
// written under a temporary name and renamed last. MySQL's redo is covered by the clone guard.
constexpr const char* kMariadbRedo = "ib_logfile0";
constexpr const char* kPartialSuffix = ".mysqlclone-partial";

// One incremental's delta of a file, in chain order.
struct DeltaLayer {
  std::string dir;
  std::string path;     // NAME.delta in `dir`
  uint64_t file_bytes;  // the file's size when that backup read it
  uint64_t threshold;
  std::string sha256;   // of the delta, as its backup records it (empty: none recorded)
};

// A tablespace file of the restored backup that incrementals changed: its full backup's copy,
// then each delta.
struct OverlaidFile {
  std::string path;  // in DIR
  uint32_t space_id = 0;
  std::string base_dir, base_path, base_sha256;
  uint64_t base_bytes = 0;
  std::vector<DeltaLayer> deltas;
  uint64_t final_bytes() const { return deltas.back().file_bytes; }
};

// A file taken as it is from one backup directory.
struct WholeFile {
  std::string dir, path, target, sha256;  // sha256 empty: not recorded (redo, metadata files)
  uint64_t bytes = 0;
};

struct Plan {
  std::vector<BackupRecord> chain;
  std::vector<OverlaidFile> overlaid;
  std::vector<WholeFile> whole;
  std::vector<std::string> directories;
  std::optional<WholeFile> mariadb_redo;  // written last
  uint64_t bytes = 0;                     // what DIR will hold
};

// kPath for a missing or foreign base, kVerifyFailed for an unfinished backup of the chain, a
// delta that does not continue its base, or a file its manifest lists that is not there.
Result<Plan> make_plan(const std::string& backup);

// Reads every delta the plan uses and checks each page (delta_file.h) and its SHA-256 against
// the one its backup records: kVerifyFailed naming the first defect.
Status check_deltas(const Plan& plan, unsigned threads);

Status broken(const std::string& what);

}  // namespace mysqlclone
