// Helpers for the storage tests: temporary directories, reading the test novels.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/base/file.h"

namespace cj::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "cj_storage_XXXXXX").string();
    CJ_ASSERT(mkdtemp(t.data()) != nullptr);
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string novel_path(const std::string& name) { return std::string(CJ_TEST_DATA) + "/novels/" + name; }
inline std::string sample_path(const std::string& name) { return std::string(CJ_SOURCE_DIR) + "/samples/book/" + name; }

inline std::string slurp(const std::string& path) {
  auto r = read_file(path);
  CJ_ASSERT_MSG(r.ok(), "test data missing");
  return *r;
}

inline std::string strip_cr(std::string s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s)
    if (c != '\r') o += c;
  return o;
}

}  // namespace cj::storage::testing

#define ASSERT_OK(expr)                                      \
  do {                                                       \
    const auto& cj_r_ = (expr);                              \
    ASSERT_TRUE(cj_r_.ok()) << #expr << ": " << cj_r_.error(); \
  } while (0)
#define EXPECT_OK(expr)                                      \
  do {                                                       \
    const auto& cj_r_ = (expr);                              \
    EXPECT_TRUE(cj_r_.ok()) << #expr << ": " << cj_r_.error(); \
  } while (0)
