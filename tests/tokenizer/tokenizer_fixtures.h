// Shared fixtures of the tokenizer tests: the Qwen3 tokenizer (loaded once) and the llama.cpp test-vector files.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/base/file.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj::test {

inline const std::string kQwen3Json = CJ_SOURCE_DIR "/samples/tokenizer/qwen3/tokenizer.json";
inline const std::string kVocabTests = CJ_TEST_DATA "/tokenizer/llama.cpp-vocab-tests/";

inline const Tokenizer& qwen3() {
  static std::unique_ptr<Tokenizer> tok = [] {
    auto spec = load_hf_tokenizer_json(kQwen3Json);
    EXPECT_TRUE(spec.ok()) << spec.error();
    auto t = Tokenizer::from_vocab(*spec);
    EXPECT_TRUE(t.ok()) << t.error();
    return std::move(*t);
  }();
  return *tok;
}

// llama.cpp's .inp: cases separated by "\n__ggml_vocab_test__\n" (the file ends with one).
inline std::vector<std::string> read_cases(const std::string& path) {
  auto text = read_file(path);
  EXPECT_TRUE(text.ok()) << text.error();
  std::vector<std::string> out;
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t b = 0; b < text->size();) {
    size_t e = text->find(sep, b);
    if (e == std::string::npos) e = text->size();
    out.push_back(text->substr(b, e - b));
    b = e == text->size() ? e : e + sep.size();
  }
  return out;
}

// llama.cpp's .out: one line of space-separated ids per case.
inline std::vector<std::vector<TokenId>> read_expected(const std::string& path) {
  auto text = read_file(path);
  EXPECT_TRUE(text.ok()) << text.error();
  std::vector<std::vector<TokenId>> out;
  size_t b = 0;
  while (b < text->size()) {
    size_t e = text->find('\n', b);
    if (e == std::string::npos) e = text->size();
    std::vector<TokenId> ids;
    const char* p = text->data() + b;
    const char* end = text->data() + e;
    while (p < end) {
      char* q;
      const long v = std::strtol(p, &q, 10);
      if (q == p) break;
      ids.push_back(static_cast<TokenId>(v));
      p = q;
    }
    out.push_back(std::move(ids));
    b = e + 1;
  }
  return out;
}

inline std::string ids_str(const std::vector<TokenId>& v) {
  std::string s;
  for (TokenId id : v) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

}  // namespace cj::test
