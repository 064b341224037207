#include "test/integration/checks.h"

#include <set>

#include "test/integration/text.h"

namespace it {
using namespace text;

std::string check_tables(const Server& s, const std::vector<std::string>& names) {
  if (names.empty()) return "no tables at all";
  auto r = s.try_sql("CHECK TABLE " + join(names, ", ") + ";\n", 600);
  if (r.exit_code != 0) return "CHECK TABLE failed: " + describe(r);
  std::set<std::string> ok;
  std::string problems;
  for (const auto& line : split_lines(r.out)) {
    auto f = split(line, '\t');
    if (f.size() < 4) {
      problems += "unexpected CHECK TABLE output: " + line + "\n";
      continue;
    }
    const std::string type = lower(f[2]), text = f[3];
    if (type == "status" && text == "OK")
      ok.insert(f[0]);
    else if (type == "error" || type == "warning" || type == "status")
      problems += line + "\n";
  }
  if (ok.size() != names.size())
    problems += std::to_string(ok.size()) + " of " + std::to_string(names.size()) + " tables checked OK\n";
  return problems;
}

std::string checksums(const Server& s, const std::vector<std::string>& names) {
  auto r = s.try_sql("CHECKSUM TABLE " + join(names, ", ") + " EXTENDED;\n", 600);
  if (r.exit_code != 0) return "CHECKSUM TABLE failed: " + describe(r);
  return r.out;
}

}  // namespace it
