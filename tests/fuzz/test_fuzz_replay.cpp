// Replays every seed (tests/fuzz/corpus/<target>/) and every crash a fuzzer found (tests/fuzz/regressions/
// <target>/, one file each, kept forever) through the fuzz entry points, in the normal test suite — under
// ASan/UBSan with scripts/test.sh --sanitize. libFuzzer itself runs with scripts/fuzz.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_entry.h"

namespace {

namespace fs = std::filesystem;

// Runs `entry` on each file of the target's corpus and regressions; returns how many files ran.
size_t replay(const std::string& target, int (*entry)(const uint8_t*, size_t)) {
  size_t n = 0;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(CJ_SOURCE_DIR) / "tests/fuzz" / kind / target;
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      std::ifstream in(p, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      SCOPED_TRACE(p.string());
      // A copy in its own allocation, as libFuzzer passes it (ASan sees reads past the end).
      std::vector<uint8_t> data(bytes.begin(), bytes.end());
      EXPECT_EQ(entry(data.data(), data.size()), 0);
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST(FuzzReplay, Gguf) { EXPECT_GE(replay("gguf", cj_fuzz_gguf), 3u); }
TEST(FuzzReplay, Safetensors) { EXPECT_GE(replay("safetensors", cj_fuzz_safetensors), 3u); }
TEST(FuzzReplay, TokenizerJson) { EXPECT_GE(replay("tokenizer_json", cj_fuzz_tokenizer_json), 3u); }
TEST(FuzzReplay, Llama2c) { EXPECT_GE(replay("llama2c", cj_fuzz_llama2c), 3u); }
TEST(FuzzReplay, TextImport) { EXPECT_GE(replay("text_import", cj_fuzz_text_import), 3u); }
TEST(FuzzReplay, HttpRequest) { EXPECT_GE(replay("http_request", cj_fuzz_http_request), 3u); }
