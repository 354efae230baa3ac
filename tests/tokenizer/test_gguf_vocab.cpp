// Tokenizers from GGUF vocabularies (engine/gguf.h's read_vocab): llama.cpp's SentencePiece test vocabulary with
// its vectors, and a Qwen byte-level vocabulary written to GGUF and read back, which must encode as the
// tokenizer.json it came from.
#include <gtest/gtest.h>

#include "engine/format/gguf.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

using namespace cj;
using namespace cj::test;

TEST(GgufVocab, LlamaSpmVectors) {
  const std::string path = kVocabTests + "ggml-vocab-llama-spm.gguf";
  auto tok = load_tokenizer(path);
  ASSERT_TRUE(tok.ok()) << tok.error();
  EXPECT_EQ((*tok)->spec().model, "llama");
  EXPECT_EQ((*tok)->vocab_size(), 32000u);
  const auto cases = read_cases(path + ".inp");
  const auto expected = read_expected(path + ".out");
  ASSERT_EQ(cases.size(), expected.size());
  ASSERT_EQ(cases.size(), 46u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = (*tok)->encode(cases[i], false);
    EXPECT_EQ(ids_str(ids), ids_str(expected[i])) << "case " << i << ": " << cases[i];
  }
  // Round trip on text the vocabulary covers (byte fallback included).
  for (const std::string s : {"Hello world", "贾宝玉笑道：“你好。”", " leading space", "tab\tnew\nline"})
    EXPECT_EQ((*tok)->decode((*tok)->encode(s, false)), s);
}

TEST(GgufVocab, QwenVocabRoundTripsThroughGguf) {
  auto spec = load_hf_tokenizer_json(kQwen3Json);
  ASSERT_TRUE(spec.ok()) << spec.error();
  gguf::Writer w;
  gguf::write_vocab(w, *spec);
  const std::string image = w.serialize();
  auto f = gguf::File::parse(reinterpret_cast<const uint8_t*>(image.data()), image.size());
  ASSERT_TRUE(f.ok()) << f.error();
  auto back = gguf::read_vocab(*f);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->model, "gpt2");
  EXPECT_EQ(back->pre, "qwen2");
  auto tok = Tokenizer::from_vocab(*back);
  ASSERT_TRUE(tok.ok()) << tok.error();
  const auto cases = read_cases(kVocabTests + "ggml-vocab-qwen2.gguf.inp");
  const auto expected = read_expected(kVocabTests + "ggml-vocab-qwen2.gguf.out");
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(ids_str((*tok)->encode(cases[i], false)), ids_str(expected[i])) << "case " << i;
  auto book = read_file(CJ_TEST_DATA "/novels/三国演义.txt");
  ASSERT_TRUE(book.ok());
  EXPECT_EQ((*tok)->encode(*book, false), qwen3().encode(*book, false));
  const std::string chat = "<|im_start|>user\n你好<|im_end|>\n<think>";
  EXPECT_EQ((*tok)->encode(chat, true), qwen3().encode(chat, true));
  EXPECT_EQ((*tok)->eos(), qwen3().eos());
}
