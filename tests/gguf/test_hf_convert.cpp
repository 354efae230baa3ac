#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/base/file.h"
#include "engine/format/gguf.h"
#include "engine/model/hf_convert.h"

using namespace cj;
namespace fs = std::filesystem;

namespace {

struct HfDir {
  fs::path dir = fs::temp_directory_path() / ("cj_hf_" + std::to_string(::getpid()));
  HfDir() { fs::create_directories(dir); }
  ~HfDir() { fs::remove_all(dir); }
};

// Writes a safetensors file of F32 tensors {name: (shape, values)}.
void write_safetensors(const fs::path& p, const std::vector<std::pair<std::string, std::pair<std::vector<int64_t>, std::vector<float>>>>& ts) {
  nlohmann::json h = nlohmann::json::object();
  std::string data;
  for (const auto& [name, sv] : ts) {
    const size_t b = data.size();
    data.append(reinterpret_cast<const char*>(sv.second.data()), sv.second.size() * 4);
    h[name] = {{"dtype", "F32"}, {"shape", sv.first}, {"data_offsets", {b, data.size()}}};
  }
  const std::string hs = h.dump();
  std::string out(8, '\0');
  const uint64_t n = hs.size();
  std::memcpy(out.data(), &n, 8);
  ASSERT_TRUE(write_file_atomic(p.string(), out + hs + data).ok());
}

std::vector<float> randn(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace

TEST(HfConvert, Qwen3FolderBecomesGgufWithLlamaCppNames) {
  HfDir d;
  const int64_t E = 64, F = 96, H = 2, KV = 1, HD = 32, V = 1024;  // V: the embedding rows below
  nlohmann::json cfg = {{"architectures", {"Qwen3ForCausalLM"}}, {"hidden_size", E}, {"intermediate_size", F},
                        {"num_hidden_layers", 1}, {"num_attention_heads", H}, {"num_key_value_heads", KV},
                        {"head_dim", HD}, {"vocab_size", V}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0},
                        {"max_position_embeddings", 32768}, {"tie_word_embeddings", true}};
  ASSERT_TRUE(write_file_atomic((d.dir / "config.json").string(), cfg.dump()).ok());
  fs::copy_file(std::string(CJ_SOURCE_DIR) + "/samples/tokenizer/qwen3/tokenizer.json", d.dir / "tokenizer.json");
  const auto q = randn(H * HD * E, 1), emb = randn(1024 * E, 2);
  write_safetensors(d.dir / "model.safetensors",
                    {{"model.embed_tokens.weight", {{1024, E}, emb}},
                     {"model.layers.0.self_attn.q_proj.weight", {{H * HD, E}, q}},
                     {"model.layers.0.self_attn.q_norm.weight", {{HD}, randn(HD, 3)}},
                     {"model.layers.0.mlp.down_proj.weight", {{E, F}, randn(E * F, 4)}},
                     {"model.norm.weight", {{E}, randn(E, 5)}},
                     {"model.rotary_emb.inv_freq", {{HD / 2}, randn(HD / 2, 6)}}});
  HfConvertOptions o;
  o.dir = d.dir.string();
  o.out = (d.dir / "m.gguf").string();
  o.type = DType::F32;
  auto r = convert_hf_to_gguf(o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->arch, "qwen3");
  EXPECT_EQ(r->tensors, 5);  // inv_freq is not a weight

  auto f = gguf::File::open(o.out);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f->get_int("qwen3.attention.key_length"), HD);
  EXPECT_EQ(f->get_int("qwen3.attention.head_count_kv"), KV);
  EXPECT_FLOAT_EQ(static_cast<float>(*f->get_float("qwen3.rope.freq_base")), 1e6f);
  const auto* tq = f->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(tq, nullptr);
  EXPECT_EQ(tq->dims, (std::vector<int64_t>{E, H * HD}));  // ggml order: row length first
  EXPECT_EQ(std::memcmp(f->tensor_data(*tq), q.data(), q.size() * 4), 0);
  ASSERT_NE(f->find_tensor("blk.0.attn_q_norm.weight"), nullptr);
  ASSERT_NE(f->find_tensor("blk.0.ffn_down.weight"), nullptr);
  EXPECT_EQ(f->find_tensor("blk.0.ffn_down.weight")->dims, (std::vector<int64_t>{F, E}));
  ASSERT_NE(f->find_tensor("output_norm.weight"), nullptr);
  auto v = gguf::read_vocab(*f);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->model, "gpt2");
  EXPECT_GT(v->tokens.size(), 151000u);
}

TEST(HfConvert, LlamaQkRowsArePermutedForRope) {
  HfDir d;
  const int64_t E = 32, H = 2, HD = 16;
  nlohmann::json cfg = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", E}, {"intermediate_size", 64},
                        {"num_hidden_layers", 1}, {"num_attention_heads", H}, {"vocab_size", 100}};
  ASSERT_TRUE(write_file_atomic((d.dir / "config.json").string(), cfg.dump()).ok());
  fs::copy_file(std::string(CJ_SOURCE_DIR) + "/samples/tokenizer/qwen3/tokenizer.json", d.dir / "tokenizer.json");
  std::vector<float> q(H * HD * E);
  for (int64_t r = 0; r < H * HD; ++r)
    for (int64_t c = 0; c < E; ++c) q[r * E + c] = static_cast<float>(r);  // each row holds its own index
  write_safetensors(d.dir / "model.safetensors", {{"model.layers.0.self_attn.q_proj.weight", {{H * HD, E}, q}}});
  HfConvertOptions o{.dir = d.dir.string(), .out = (d.dir / "m.gguf").string(), .type = DType::F32};
  ASSERT_TRUE(convert_hf_to_gguf(o).ok());
  auto f = gguf::File::open(o.out);
  ASSERT_TRUE(f.ok());
  const float* w = reinterpret_cast<const float*>(f->tensor_data(*f->find_tensor("blk.0.attn_q.weight")));
  // Per head, HF rows [0..7 | 8..15] (two halves) interleave to 0,8,1,9,…: RoPE pairs become adjacent.
  const int expect[] = {0, 8, 1, 9, 2, 10};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(w[i * E], static_cast<float>(expect[i])) << i;
  EXPECT_EQ(w[16 * E], 16.0f);  // second head starts with its own first row
  EXPECT_EQ(w[17 * E], 24.0f);
}

TEST(HfConvert, MissingPiecesAreClearErrors) {
  HfDir d;
  HfConvertOptions o{.dir = d.dir.string(), .out = (d.dir / "m.gguf").string()};
  auto r = convert_hf_to_gguf(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("config.json"), std::string::npos);
  ASSERT_TRUE(write_file_atomic((d.dir / "config.json").string(), R"({"architectures":["GPT2LMHeadModel"]})").ok());
  r = convert_hf_to_gguf(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not supported"), std::string::npos);
}
