// SentencePiece-style BPE via the llama2.c tokenizer (stories260K's tok512.bin), checked against a direct
// transcription of llama2.c's own encode() (its O(n^2) greedy merge loop) on the model's sample story.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "engine/base/file.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

using namespace cj;

namespace {

const std::string kTok512 = CJ_TEST_DATA "/models/stories260K/tok512.bin";

// llama2.c run.c encode(): dummy prefix " ", code points looked up (else bytes + 3), then repeatedly merge
// the adjacent pair with the best score whose concatenation is a token. Vocab texts are llama2.c's (spaces).
std::vector<TokenId> llama2c_encode(const std::vector<std::string>& vocab, const std::vector<float>& scores,
                                    const std::string& text) {
  std::map<std::string, int> idx;
  for (size_t i = 0; i < vocab.size(); ++i) idx.emplace(vocab[i], static_cast<int>(i));
  std::vector<TokenId> t;
  if (!text.empty()) t.push_back(idx.at(" "));
  for (size_t i = 0; i < text.size();) {
    size_t n = 1;
    while (i + n < text.size() && (static_cast<uint8_t>(text[i + n]) & 0xC0) == 0x80 && n < 4) ++n;
    auto it = idx.find(text.substr(i, n));
    if (it != idx.end()) {
      t.push_back(it->second);
    } else {
      for (size_t k = 0; k < n; ++k) t.push_back(static_cast<uint8_t>(text[i + k]) + 3);
    }
    i += n;
  }
  while (true) {
    float best = -1e10f;
    int best_id = -1, best_i = -1;
    for (size_t i = 0; i + 1 < t.size(); ++i) {
      auto it = idx.find(vocab[t[i]] + vocab[t[i + 1]]);
      if (it != idx.end() && scores[it->second] > best) {
        best = scores[it->second];
        best_id = it->second;
        best_i = static_cast<int>(i);
      }
    }
    if (best_i < 0) break;
    t[best_i] = best_id;
    t.erase(t.begin() + best_i + 1);
  }
  return t;
}

std::string unescape(std::string t) {
  std::string o;
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, 3, "\xE2\x96\x81") == 0) {
      o += ' ';
      i += 3;
    } else {
      o += t[i++];
    }
  }
  return o;
}

}  // namespace

TEST(Llama2c, LoadsTok512) {
  auto spec = load_llama2c_tokenizer(kTok512);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->tokens.size(), 512u);
  EXPECT_EQ(spec->model, "llama");
  EXPECT_EQ(spec->tokens[1], "<s>");
  EXPECT_EQ(spec->tokens[2], "</s>");
  EXPECT_EQ(spec->token_types[3 + 0x41], 6);  // <0x41> is a byte token
  EXPECT_FALSE(load_llama2c_tokenizer("/nonexistent.bin").ok());
  EXPECT_FALSE(load_llama2c_tokenizer(CJ_TEST_DATA "/novels/LICENSE").ok());
}

TEST(Llama2c, MatchesLlama2cEncodeOnTheSampleStory) {
  auto spec = load_llama2c_tokenizer(kTok512);
  ASSERT_TRUE(spec.ok());
  auto tok = Tokenizer::from_vocab(*spec);
  ASSERT_TRUE(tok.ok()) << tok.error();
  std::vector<std::string> plain;
  for (const auto& t : spec->tokens) plain.push_back(unescape(t));
  auto story = read_file(CJ_TEST_DATA "/models/stories260K/expected_greedy_t0_n256.txt");
  ASSERT_TRUE(story.ok());
  std::istringstream in(*story);
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto ours = (*tok)->encode(line, false);
    EXPECT_EQ(test::ids_str(ours), test::ids_str(llama2c_encode(plain, spec->scores, line))) << line;
    EXPECT_EQ((*tok)->decode(ours), line);
    ++lines;
  }
  EXPECT_GE(lines, 4u);
  // Byte fallback for characters the 512-token vocabulary lacks, and the reference agrees.
  for (const std::string s : {"贾宝玉 said “hi”", "tab\there  two  spaces", " lead", "x"}) {
    EXPECT_EQ(test::ids_str((*tok)->encode(s, false)), test::ids_str(llama2c_encode(plain, spec->scores, s))) << s;
    EXPECT_EQ((*tok)->decode((*tok)->encode(s, false)), s);
  }
  const auto zh = (*tok)->encode("你", false);
  ASSERT_TRUE((*tok)->find_token("\xE2\x96\x81"));
  EXPECT_EQ(test::ids_str(zh), std::to_string(*(*tok)->find_token("\xE2\x96\x81")) + " " + std::to_string(0xE4 + 3) + " " + std::to_string(0xBD + 3) + " " +
                                   std::to_string(0xA0 + 3));  // ▁ then <0xE4><0xBD><0xA0>
  // BOS renders as nothing and the prefixed space is dropped after it.
  std::vector<TokenId> with_bos{1};
  const auto ids = (*tok)->encode("Once upon a time", false);
  with_bos.insert(with_bos.end(), ids.begin(), ids.end());
  EXPECT_EQ((*tok)->decode(with_bos), "Once upon a time");
  StreamDecoder d(**tok);
  std::string streamed;
  for (TokenId id : with_bos) streamed += d.push(id);
  EXPECT_EQ(streamed + d.flush(), "Once upon a time");
  // Special tokens only when asked.
  EXPECT_EQ((*tok)->encode("<s>", true), std::vector<TokenId>{1});
  for (TokenId id : (*tok)->encode("<s>", false)) EXPECT_NE(id, 1);
}
