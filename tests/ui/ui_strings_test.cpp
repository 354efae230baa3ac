// Every character of every string literal in ui/ must be in ui_strings(), or it would render as '?' until
// something else happened to put it in the glyph atlas.
#include "ui/ui_strings.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "engine/base/file.h"
#include "engine/base/utf8.h"

namespace cj::ui {
namespace {

TEST(UiStrings, CoverEveryLiteralInTheUiSources) {
  std::set<uint32_t> have;
  for (uint32_t c : utf8::to_code_points(ui_strings())) have.insert(c);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(CJ_SOURCE_DIR) + "/ui")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ui_strings", 0) == 0) continue;
    auto src = read_file(e.path().string());
    ASSERT_TRUE(src.ok()) << src.error();
    ++files;
    const std::string& s = *src;
    // String literals: "..." with escapes; comments are skipped line by line.
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.compare(i, 2, "//") == 0) {
        i = s.find('\n', i);
        if (i == std::string::npos) break;
        continue;
      }
      if (s[i] == '\'' && i + 2 < s.size() && s[i + 2] == '\'') {  // '"'
        i += 2;
        continue;
      }
      if (s[i] != '"') continue;
      size_t j = i + 1;
      while (j < s.size() && s[j] != '"' && s[j] != '\n') j += s[j] == '\\' ? 2 : 1;
      for (uint32_t c : utf8::to_code_points(s.substr(i + 1, j - i - 1))) {
        if (c > 0x7F) {
          EXPECT_TRUE(have.count(c)) << name << ": U+" << std::hex << c << " is not in ui_strings()";
        }
      }
      i = j;
    }
  }
  EXPECT_GT(files, 10);
}

}  // namespace
}  // namespace cj::ui
