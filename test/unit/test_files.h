// Small helpers several unit tests share: whole files read back, fixtures by name, bytes of a
// text, and the check of an expected error. One definition each, so that the unit tests also
// build as a unity build (several test files compiled as one).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "libclone/base/status.h"

namespace mysqlclone::test {

// A file's bytes; empty if it cannot be read.
inline std::vector<uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A file's bytes as a string; empty if it cannot be read.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A file of test/fixtures by its name there.
inline std::vector<uint8_t> load(const std::string& name) {
  return read_all(std::filesystem::path(MYSQLCLONE_FIXTURES) / name);
}

inline std::vector<uint8_t> text(std::string_view s) { return {s.begin(), s.end()}; }

// `s` failed with `code` and a message containing `needle`.
inline void expect_code(const Status& s, ExitCode code, const std::string& needle = "") {
  ASSERT_FALSE(s.is_ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

}  // namespace mysqlclone::test
