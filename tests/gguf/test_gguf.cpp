#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "engine/format/gguf.h"

using namespace cj;

namespace {

std::string sample_file() {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_bool("flag", true);
  w.set_strings("names", {"甲", "乙", ""});
  w.set_f32s("floats", {1.5f, -2.0f});
  w.set_i32s("ints", {7, -8, 9});
  std::vector<float> a(64 * 3);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.25f;
  w.add_tensor("a", DType::F32, {64, 3}, a.data());
  std::vector<float> b(32);
  for (size_t i = 0; i < b.size(); ++i) b[i] = -static_cast<float>(i);
  w.add_tensor("b.weight", DType::F32, {32}, b.data());
  return w.serialize();
}

}  // namespace

TEST(Gguf, WriterReaderRoundTrip) {
  const std::string img = sample_file();
  auto f = gguf::File::parse(reinterpret_cast<const uint8_t*>(img.data()), img.size());
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_int("llama.block_count"), 2);
  EXPECT_FLOAT_EQ(static_cast<float>(*f->get_float("llama.rope.freq_base")), 10000.0f);
  EXPECT_EQ(f->get_bool("flag"), true);
  const auto* names = f->find("names");
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(names->strings, (std::vector<std::string>{"甲", "乙", ""}));
  EXPECT_EQ(f->find("floats")->floats, (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(f->find("ints")->ints, (std::vector<int64_t>{7, -8, 9}));
  ASSERT_EQ(f->tensors().size(), 2u);
  const auto* a = f->find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dims, (std::vector<int64_t>{64, 3}));
  EXPECT_EQ(a->rows(), 3);
  EXPECT_EQ(a->bytes, 64u * 3 * 4);
  const float* ad = reinterpret_cast<const float*>(f->tensor_data(*a));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ad) % 32, reinterpret_cast<uintptr_t>(img.data()) % 32);
  EXPECT_FLOAT_EQ(ad[100], 25.0f);
  const auto* b = f->find_tensor("b.weight");
  EXPECT_FLOAT_EQ(reinterpret_cast<const float*>(f->tensor_data(*b))[31], -31.0f);
  EXPECT_EQ(f->find_tensor("nope"), nullptr);
}

TEST(Gguf, EveryTruncationIsAnError) {
  const std::string img = sample_file();
  for (size_t n = 0; n < img.size(); ++n) {
    std::vector<uint8_t> buf(img.begin(), img.begin() + static_cast<long>(n));  // exact size: ASan sees overreads
    auto f = gguf::File::parse(buf.data(), buf.size());
    // Only the tail padding after the last tensor may be lost harmlessly; any tensor must still lie inside.
    if (f.ok()) {
      EXPECT_GE(n, img.size() - 32);
      for (const auto& t : f->tensors()) ASSERT_LE(f->tensor_data(t) + t.bytes, buf.data() + buf.size());
    }
  }
}

TEST(Gguf, RandomCorruptionNeverCrashes) {
  const std::string img = sample_file();
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> buf(img.begin(), img.end());
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const size_t pos = rng() % std::min<size_t>(buf.size(), 400);  // the header and metadata, where parsing happens
      buf[pos] = static_cast<uint8_t>(rng());
    }
    auto f = gguf::File::parse(buf.data(), buf.size());
    if (!f.ok()) {
      ++rejected;
      EXPECT_FALSE(f.error().empty());
      continue;
    }
    for (const auto& t : f->tensors()) {
      const uint8_t* p = f->tensor_data(t);
      ASSERT_GE(p, buf.data());
      ASSERT_LE(p + t.bytes, buf.data() + buf.size());
    }
  }
  EXPECT_GT(rejected, 100);
}

TEST(Gguf, HostileCountsAreRejected) {
  std::string img = sample_file();
  uint64_t huge = ~0ull;
  std::string a = img, b = img;
  std::memcpy(a.data() + 8, &huge, 8);   // tensor count
  std::memcpy(b.data() + 16, &huge, 8);  // kv count
  for (const auto& s : {a, b}) {
    auto f = gguf::File::parse(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    EXPECT_FALSE(f.ok());
  }
  const char not_gguf[] = "this is a text file, not a model";
  auto f = gguf::File::parse(reinterpret_cast<const uint8_t*>(not_gguf), sizeof not_gguf);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("not a GGUF"), std::string::npos);
}

TEST(Gguf, OpenMissingFileSaysSo) {
  auto f = gguf::File::open("/nonexistent/model.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("cannot open"), std::string::npos);
}

TEST(Gguf, ReadsLlamaCppVocabFile) {
  auto f = gguf::File::open(std::string(CJ_TEST_DATA) + "/tokenizer/llama.cpp-vocab-tests/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(f.ok()) << f.error();
  auto v = gguf::read_vocab(*f);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->model, "llama");
  EXPECT_EQ(v->tokens.size(), 32000u);
  EXPECT_EQ(v->scores.size(), 32000u);
  EXPECT_EQ(v->bos_id, 1);
  EXPECT_EQ(v->eos_id, 2);
  EXPECT_EQ(v->tokens[3], "<0x00>");
}

TEST(Gguf, VocabRoundTrip) {
  VocabSpec v;
  v.model = "gpt2";
  v.pre = "qwen2";
  v.tokens = {"a", "b", "ab", "<|endoftext|>"};
  v.token_types = {1, 1, 1, 3};
  v.merges = {"a b"};
  v.eos_id = 3;
  gguf::Writer w;
  gguf::write_vocab(w, v);
  const std::string img = w.serialize();
  auto f = gguf::File::parse(reinterpret_cast<const uint8_t*>(img.data()), img.size());
  ASSERT_TRUE(f.ok()) << f.error();
  auto r = gguf::read_vocab(*f);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->tokens, v.tokens);
  EXPECT_EQ(r->merges, v.merges);
  EXPECT_EQ(r->token_types, v.token_types);
  EXPECT_EQ(r->eos_id, 3);
  EXPECT_EQ(r->bos_id, -1);
  EXPECT_EQ(r->pre, "qwen2");
}
