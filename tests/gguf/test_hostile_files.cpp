// Hostile model files (issue 20): every size read from a file is checked against the file before anything is
// allocated or divided by it, and a file never crashes the process — a bad file is a one-line error.
//   convert-hf: zero head counts, q_proj rows that are not heads × head_dim, a 200,000-character tensor name,
//               config values of the wrong JSON type;
//   safetensors: a shape whose byte count wraps around 2^64;
//   GGUF models: block_count = 2^30 with a handful of tensors, head sizes whose products overflow int, a tensor
//               misaligned by general.alignment = 1;
//   llama2.c: vocab_size = INT32_MIN; the KV cache: a context of 2^31 - 1 tokens.
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "engine/format/gguf.h"
#include "engine/model/hf_convert.h"
#include "engine/kv/kv_cache.h"
#include "engine/model/llama2c.h"
#include "engine/model/model.h"
#include "engine/format/safetensors.h"

using namespace cj;
namespace fs = std::filesystem;

namespace {

struct TmpDir {
  fs::path dir = fs::temp_directory_path() / ("cj_hostile_" + std::to_string(::getpid()));
  TmpDir() { fs::create_directories(dir); }
  ~TmpDir() { fs::remove_all(dir); }
};

// A safetensors image: F32 tensors {name: shape}, data zero-filled.
std::string safetensors_image(const std::vector<std::pair<std::string, std::vector<int64_t>>>& ts) {
  nlohmann::json h = nlohmann::json::object();
  size_t off = 0;
  for (const auto& [name, shape] : ts) {
    size_t n = 4;
    for (int64_t d : shape) n *= size_t(d);
    h[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  const std::string hs = h.dump();
  std::string out(8, '\0');
  const uint64_t n = hs.size();
  std::memcpy(out.data(), &n, 8);
  return out + hs + std::string(off, '\0');
}

// A folder for convert-hf: config.json (cfg), the Qwen3 tokenizer, and model.safetensors with tensors ts.
HfConvertOptions hf_folder(const TmpDir& d, const nlohmann::json& cfg,
                           const std::vector<std::pair<std::string, std::vector<int64_t>>>& ts) {
  EXPECT_TRUE(write_file_atomic((d.dir / "config.json").string(), cfg.dump()).ok());
  fs::copy_file(std::string(CJ_SOURCE_DIR) + "/samples/tokenizer/qwen3/tokenizer.json", d.dir / "tokenizer.json",
                fs::copy_options::overwrite_existing);
  EXPECT_TRUE(write_file_atomic((d.dir / "model.safetensors").string(), safetensors_image(ts)).ok());
  return {.dir = d.dir.string(), .out = (d.dir / "m.gguf").string(), .type = DType::F32};
}

nlohmann::json qwen3_config() {
  return {{"architectures", {"Qwen3ForCausalLM"}}, {"hidden_size", 64}, {"intermediate_size", 96},
          {"num_hidden_layers", 1}, {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"head_dim", 32},
          {"vocab_size", 1024}};
}

}  // namespace

TEST(HostileHfConvert, ZeroHeadCountsAreErrorsNotADivisionByZero) {
  TmpDir d;
  for (const char* key : {"num_attention_heads", "num_key_value_heads"}) {
    nlohmann::json cfg = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 32}, {"intermediate_size", 64},
                          {"num_hidden_layers", 1}, {"num_attention_heads", 2}, {"vocab_size", 100}};
    cfg[key] = 0;
    auto o = hf_folder(d, cfg, {{"model.layers.0.self_attn.q_proj.weight", {32, 32}},
                                {"model.layers.0.self_attn.k_proj.weight", {32, 32}}});
    auto r = convert_hf_to_gguf(o);
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_NE(r.error().find(key), std::string::npos) << r.error();
  }
}

TEST(HostileHfConvert, ProjectionRowsMustBeHeadsTimesHeadDim) {
  TmpDir d;
  // 2 heads × 32 = 64 rows expected; 48 rows would have been written as a model with a third of a head.
  auto o = hf_folder(d, qwen3_config(), {{"model.layers.0.self_attn.q_proj.weight", {48, 64}}});
  auto r = convert_hf_to_gguf(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("q_proj"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("[64, 64]"), std::string::npos) << r.error();
  // A layer the config does not have.
  o = hf_folder(d, qwen3_config(), {{"model.layers.7.input_layernorm.weight", {64}}});
  r = convert_hf_to_gguf(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("layer 7"), std::string::npos) << r.error();
}

TEST(HostileHfConvert, LongTensorNameIsAnErrorNotAStackOverflow) {
  TmpDir d;
  // std::regex_match recursed once per character of this name and overflowed the stack.
  const std::string name = "model.layers.0." + std::string(200000, 'x');
  auto o = hf_folder(d, qwen3_config(), {{name, {4}}});
  auto r = convert_hf_to_gguf(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("tensor name"), std::string::npos) << r.error().substr(0, 300);
  EXPECT_LT(r.error().size(), 400u);
}

TEST(HostileHfConvert, ConfigValuesOfTheWrongTypeAreErrorsWithoutLibraryText) {
  TmpDir d;
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"architectures", nlohmann::json::array({5})},
      {"architectures", nlohmann::json::array()},
      {"rms_norm_eps", "small"},
      {"max_position_embeddings", "long"},
      {"rope_scaling", {{"rope_type", "yarn"}, {"factor", "four"}}},
      {"num_key_value_heads", 1.5},
  };
  for (const auto& [k, v] : bad) {
    nlohmann::json cfg = qwen3_config();
    cfg[k] = v;
    auto o = hf_folder(d, cfg, {{"model.norm.weight", {64}}});
    Result<HfConvertReport> r = make_error("not run");
    ASSERT_NO_THROW(r = convert_hf_to_gguf(o)) << k;
    ASSERT_FALSE(r.ok()) << k;
    EXPECT_EQ(r.error().find("json.exception"), std::string::npos) << r.error();
  }
}

TEST(HostileSafetensors, ShapeWhoseByteCountWrapsIsRejected) {
  // 2^31 × 2^31 elements of 4 bytes = 2^64 bytes, which wraps to 0 and used to match data_offsets [0, 0].
  const std::string hs = R"({"w":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,0]}})";
  std::string img(8, '\0');
  const uint64_t n = hs.size();
  std::memcpy(img.data(), &n, 8);
  img += hs;
  auto f = SafetensorsFile::parse(reinterpret_cast<const uint8_t*>(img.data()), img.size());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("too large"), std::string::npos) << f.error();
  // A header nested far deeper than any real one is refused before it is parsed into a DOM.
  const std::string deep = "{\"m\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string img2(8, '\0');
  const uint64_t n2 = deep.size();
  std::memcpy(img2.data(), &n2, 8);
  img2 += deep;
  f = SafetensorsFile::parse(reinterpret_cast<const uint8_t*>(img2.data()), img2.size());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("nested"), std::string::npos) << f.error();
}

namespace {

// A llama GGUF with the given hyper-parameters and only the tensors listed (F32, zero), for Model::load.
std::string llama_gguf(int64_t layers, int64_t heads, int64_t head_dim, size_t alignment,
                       const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors, DType type) {
  gguf::Writer w(alignment);
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", uint32_t(layers));
  w.set_u32("llama.embedding_length", 32);
  w.set_u32("llama.feed_forward_length", 64);
  w.set_u32("llama.attention.head_count", uint32_t(heads));
  w.set_u32("llama.attention.key_length", uint32_t(head_dim));
  w.set_u32("llama.attention.value_length", uint32_t(head_dim));
  for (const auto& [name, dims] : tensors) {
    int64_t rows = 1;
    for (size_t k = 1; k < dims.size(); ++k) rows *= dims[k];
    const DType t = name.find("norm") != std::string::npos ? DType::F32 : type;
    std::string data(row_bytes(t, dims[0]) * size_t(rows), '\0');
    w.add_tensor(name, t, dims, data.data());
  }
  return w.serialize();
}

Result<std::unique_ptr<Model>> load_image(const TmpDir& d, const std::string& img) {
  const std::string p = (d.dir / "m.gguf").string();
  EXPECT_TRUE(write_file_atomic(p, img).ok());
  return Model::load(p);
}

}  // namespace

TEST(HostileGguf, HugeBlockCountIsRefusedBeforeAnythingIsSizedByIt) {
  TmpDir d;
  // Model::load resized its layer table to 2^30 entries (~500 GB) before looking for a single layer tensor.
  auto m = load_image(d, llama_gguf(int64_t(1) << 30, 4, 8, 32,
                                    {{"token_embd.weight", {32, 16}}, {"output_norm.weight", {32}}}, DType::F32));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("block_count"), std::string::npos) << m.error();
}

TEST(HostileGguf, HeadSizesWhoseProductsOverflowAreRefused) {
  TmpDir d;
  // 2^20 heads × 2^20 per head overflowed q_dim() (int) — undefined behaviour under UBSan.
  auto m = load_image(d, llama_gguf(1, 1 << 20, 1 << 20, 32,
                                    {{"token_embd.weight", {32, 16}}, {"output_norm.weight", {32}}}, DType::F32));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("too large"), std::string::npos) << m.error();
}

TEST(HostileGguf, TensorMisalignedByTheFilesAlignmentIsRefused) {
  TmpDir d;
  // general.alignment = 1: a 34-byte Q8_0 row first puts the next tensor at an offset that is not a multiple of
  // 4, where the kernels would read floats and block scales misaligned.
  std::vector<std::pair<std::string, std::vector<int64_t>>> ts = {
      {"token_embd.weight", {32, 1}},        {"output_norm.weight", {32}},
      {"blk.0.attn_norm.weight", {32}},      {"blk.0.attn_q.weight", {32, 32}},
      {"blk.0.attn_k.weight", {32, 32}},     {"blk.0.attn_v.weight", {32, 32}},
      {"blk.0.attn_output.weight", {32, 32}}, {"blk.0.ffn_norm.weight", {32}},
      {"blk.0.ffn_gate.weight", {32, 64}},   {"blk.0.ffn_up.weight", {32, 64}},
      {"blk.0.ffn_down.weight", {64, 32}}};
  auto m = load_image(d, llama_gguf(1, 4, 8, 1, ts, DType::Q8_0));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("not aligned"), std::string::npos) << m.error();
}

TEST(HostileLlama2c, IntMinVocabSizeIsAnError) {
  int32_t h[7] = {64, 128, 1, 4, 4, INT32_MIN, 32};
  std::string img(reinterpret_cast<const char*>(h), sizeof h);
  img.resize(img.size() + 4096, '\0');
  auto r = read_llama2c_header(img, "m.bin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("vocab_size"), std::string::npos) << r.error();
}

TEST(HostileKvCache, ContextBeyondTheLimitIsAnErrorNotAnOverflow) {
  ModelConfig c;
  c.n_layers = 1;
  c.n_embd = 32;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.head_dim = 8;
  c.head_dim_v = 8;
  c.n_ff = 64;
  c.n_vocab = 16;
  for (int n_ctx : {INT_MAX, (1 << 24) + 1, 0}) {
    KVCacheOptions o;
    o.n_ctx = n_ctx;
    auto kv = KVCache::create(c, o);
    ASSERT_FALSE(kv.ok()) << n_ctx;
    EXPECT_NE(kv.error().find("context size"), std::string::npos) << kv.error();
  }
}
