#include "engine/model/model_maker.h"

#include <cmath>
#include <vector>

#include "engine/format/gguf.h"

namespace cj {

namespace {

// splitmix64 → uniform floats with a given standard deviation (U(-a, a) has std a / sqrt(3)).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  void fill(float* p, size_t n, float mean, float std) {
    const float a = std * 1.7320508f;
    for (size_t i = 0; i < n; ++i) p[i] = mean + (2 * uniform() - 1) * a;
  }
};

}  // namespace

DType effective_type(DType t, int64_t cols) {
  if (cols % dtype_traits(t).block_elems == 0) return t;
  if (t == DType::Q4_K && cols % 32 == 0) return DType::Q4_0;
  if (t == DType::Q6_K && cols % 32 == 0) return DType::Q8_0;
  return DType::F32;
}

Result<VocabSpec> load_tokenizer_file(const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) return load_hf_tokenizer_json(path);
  return load_llama2c_tokenizer(path);
}

Status make_model(const MakeModelSpec& s, const std::string& out_path) {
  if (s.n_layers <= 0 || s.n_embd <= 0 || s.n_heads <= 0 || s.n_kv_heads <= 0 || s.n_ff <= 0)
    return make_error("make-model: layers, embd, heads, kv-heads and ff must be positive");
  if (s.n_heads % s.n_kv_heads) return make_error("make-model: heads must be a multiple of kv-heads");
  const int hd = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_heads;
  if (hd <= 0 || hd % 2) return make_error("make-model: the head size must be even and positive");
  if (s.head_dim == 0 && s.n_embd % s.n_heads) return make_error("make-model: embd must be a multiple of heads (or give --head-dim)");
  VocabSpec vocab;
  if (s.vocab) vocab = *s.vocab;
  int n_vocab = s.n_vocab > 0 ? s.n_vocab : (s.vocab ? int(vocab.tokens.size()) : 256);
  if (s.vocab && size_t(n_vocab) < vocab.tokens.size())
    return make_error("make-model: --vocab " + std::to_string(n_vocab) + " is smaller than the tokenizer (" +
                      std::to_string(vocab.tokens.size()) + " tokens)");
  for (int64_t c : {int64_t(s.n_embd), int64_t(s.n_ff), int64_t(s.n_heads) * hd})
    if (c % 32 != 0 && s.type != DType::F32 && s.type != DType::F16 && s.type != DType::BF16)
      return make_error("make-model: quantized types need embd, ff and heads*head_dim to be multiples of 32");

  const std::string a = arch_name(s.arch);
  gguf::Writer w;
  w.set_string("general.architecture", a);
  w.set_string("general.name", "changjuan random " + a);
  w.set_u32(a + ".context_length", uint32_t(s.n_ctx_train));
  w.set_u32(a + ".embedding_length", uint32_t(s.n_embd));
  w.set_u32(a + ".block_count", uint32_t(s.n_layers));
  w.set_u32(a + ".feed_forward_length", uint32_t(s.n_ff));
  w.set_u32(a + ".attention.head_count", uint32_t(s.n_heads));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(s.n_kv_heads));
  w.set_u32(a + ".attention.key_length", uint32_t(hd));
  w.set_u32(a + ".attention.value_length", uint32_t(hd));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_f32(a + ".rope.freq_base", s.freq_base);
  if (!s.rope_scaling.empty()) {
    w.set_string(a + ".rope.scaling.type", s.rope_scaling);
    w.set_f32(a + ".rope.scaling.factor", s.rope_factor);
    if (s.rope_orig_ctx > 0) w.set_u32(a + ".rope.scaling.original_context_length", uint32_t(s.rope_orig_ctx));
  }
  if (s.vocab) {
    // Pad to n_vocab the way llama.cpp's converter does ([PADn], unused).
    if (vocab.token_types.empty()) vocab.token_types.assign(vocab.tokens.size(), 1);
    if (!vocab.scores.empty()) vocab.scores.resize(size_t(n_vocab), 0.0f);
    for (size_t i = vocab.tokens.size(); i < size_t(n_vocab); ++i) vocab.tokens.push_back("[PAD" + std::to_string(i) + "]");
    vocab.token_types.resize(size_t(n_vocab), 5);
    gguf::write_vocab(w, vocab);
  }

  Rng rng{s.seed * 0x2545F4914F6CDD1Dull + 12345};
  std::vector<float> f;
  std::vector<uint8_t> q;
  auto matrix = [&](const std::string& name, int64_t cols, int64_t rows, float std) {
    DType t = effective_type(s.type, cols);
    f.resize(size_t(cols));
    q.resize(row_bytes(t, cols) * size_t(rows));
    for (int64_t r = 0; r < rows; ++r) {
      rng.fill(f.data(), f.size(), 0.0f, std);
      quantize_row(t, f.data(), q.data() + size_t(r) * row_bytes(t, cols), cols);
    }
    w.add_tensor(name, t, {cols, rows}, q.data());
  };
  auto vec = [&](const std::string& name, int64_t n, float mean, float std) {
    f.resize(size_t(n));
    rng.fill(f.data(), f.size(), mean, std);
    w.add_tensor(name, DType::F32, {n}, f.data());
  };
  const int64_t E = s.n_embd, F = s.n_ff, QD = int64_t(s.n_heads) * hd, KD = int64_t(s.n_kv_heads) * hd;
  matrix("token_embd.weight", E, n_vocab, 1.0f / std::sqrt(float(E)));
  if (s.rope_freqs) vec("rope_freqs.weight", hd / 2, 4.5f, 2.0f);
  for (int l = 0; l < s.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    vec(p + "attn_norm.weight", E, 1.0f, 0.1f);
    matrix(p + "attn_q.weight", E, QD, 1.0f / std::sqrt(float(E)));
    matrix(p + "attn_k.weight", E, KD, 1.0f / std::sqrt(float(E)));
    matrix(p + "attn_v.weight", E, KD, 1.0f / std::sqrt(float(E)));
    if (s.arch == Arch::Qwen2) {
      vec(p + "attn_q.bias", QD, 0.0f, 0.1f);
      vec(p + "attn_k.bias", KD, 0.0f, 0.1f);
      vec(p + "attn_v.bias", KD, 0.0f, 0.1f);
    }
    if (s.arch == Arch::Qwen3) {
      vec(p + "attn_q_norm.weight", hd, 1.0f, 0.1f);
      vec(p + "attn_k_norm.weight", hd, 1.0f, 0.1f);
    }
    matrix(p + "attn_output.weight", QD, E, 0.5f / std::sqrt(float(QD)));
    vec(p + "ffn_norm.weight", E, 1.0f, 0.1f);
    matrix(p + "ffn_gate.weight", E, F, 1.0f / std::sqrt(float(E)));
    matrix(p + "ffn_up.weight", E, F, 1.0f / std::sqrt(float(E)));
    matrix(p + "ffn_down.weight", F, E, 0.5f / std::sqrt(float(F)));
  }
  vec("output_norm.weight", E, 1.0f, 0.1f);
  if (!s.tied) matrix("output.weight", E, n_vocab, 1.0f / std::sqrt(float(E)));
  return w.write(out_path);
}

}  // namespace cj
