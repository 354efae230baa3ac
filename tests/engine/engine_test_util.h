// Helpers shared by the engine tests: temp files, tiny random models, the numpy reference, error measures.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/model/model_maker.h"

namespace cj::test {

inline std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("cj_engine_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

inline std::string make_tiny(const std::string& name, MakeModelSpec s) {
  std::string p = temp_path(name + ".gguf");
  Status st = make_model(s, p);
  EXPECT_TRUE(st.ok()) << st.error();
  return p;
}

// Runs tests/reference/ref_forward.py; returns [n_tokens * n_vocab] logits (empty on failure).
inline std::vector<float> reference_logits(const std::string& model, const std::vector<TokenId>& toks, int n_vocab) {
  std::string list;
  for (size_t i = 0; i < toks.size(); ++i) list += (i ? "," : "") + std::to_string(toks[i]);
  std::string out = model + ".ref.f32";
  std::string cmd = "/usr/bin/python3 " CJ_SOURCE_DIR "/tests/reference/ref_forward.py '" + model + "' " + list + " '" +
                    out + "'";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << "reference failed: " << cmd << " (is python3-numpy installed? scripts/setup.sh installs it)";
  if (rc != 0) return {};
  std::vector<float> v(toks.size() * size_t(n_vocab));
  std::ifstream f(out, std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * 4));
  EXPECT_EQ(size_t(f.gcount()), v.size() * 4);
  return v;
}

// ||a - b|| / ||b|| over one row.
inline double rel_err(const float* a, const float* b, int n) {
  double num = 0, den = 0;
  for (int i = 0; i < n; ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

inline double max_row_rel_err(const std::vector<float>& a, const std::vector<float>& b, int n_vocab) {
  double mx = 0;
  for (size_t r = 0; r * n_vocab < a.size(); ++r) mx = std::max(mx, rel_err(a.data() + r * n_vocab, b.data() + r * n_vocab, n_vocab));
  return mx;
}

inline std::vector<TokenId> some_tokens(int n, int n_vocab, uint32_t seed = 7) {
  std::vector<TokenId> t;
  uint32_t x = seed;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    t.push_back(TokenId((x >> 8) % uint32_t(n_vocab)));
  }
  return t;
}

// Engine logits for every position, evaluated in one call.
inline std::vector<float> engine_logits(const Model& m, const std::vector<TokenId>& toks, EngineOptions o) {
  auto be = open_sequence(m, o);
  EXPECT_TRUE(be.ok());
  std::vector<float> out(toks.size() * size_t(m.config().n_vocab));
  Status s = (*be)->eval(toks.data(), int(toks.size()), out.data(), int(toks.size()));
  EXPECT_TRUE(s.ok()) << s.error();
  return out;
}

// Token i is the byte 'a' + i % 26, except: 26 = end of generation, 27 = "长", 28 = "卷", 29 = "é" (multi-byte).
class ToyTokenizer : public Tokenizer {
 public:
  ToyTokenizer() {
    spec_.model = "toy";
    spec_.eos_id = 26;
  }
  std::vector<TokenId> encode(std::string_view text, bool) const override {
    std::vector<TokenId> ids;
    for (char c : text) ids.push_back(TokenId((unsigned char)c % 26));
    return ids;
  }
  std::string token_bytes(TokenId id) const override {
    if (id == 26) return "";
    if (id == 27) return "长";
    if (id == 28) return "卷";
    if (id == 29) return "é";
    return std::string(1, char('a' + id % 26));
  }
  size_t vocab_size() const override { return 64; }
  TokenId bos() const override { return -1; }
  TokenId eos() const override { return 26; }
  bool is_eog(TokenId id) const override { return id == 26; }
  bool add_bos() const override { return false; }
  const VocabSpec& spec() const override { return spec_; }
  std::optional<TokenId> find_token(std::string_view) const override { return std::nullopt; }

 private:
  VocabSpec spec_;
};

}  // namespace cj::test
