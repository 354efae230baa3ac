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
  const bool moe = s.arch == Arch::Qwen3Moe || s.arch == Arch::Deepseek2;
  const bool mla = s.arch == Arch::Deepseek2;
  const int ffe = s.n_ff_exp > 0 ? s.n_ff_exp : s.n_ff;
  if (moe && (s.n_expert < 1 || s.n_expert > kMaxExperts || s.n_expert_used < 1 || s.n_expert_used > s.n_expert ||
              s.n_dense_lead < 0 || s.n_dense_lead > s.n_layers))
    return make_error("make-model: experts must be in [1, 1024], experts-used in [1, experts], dense-lead in [0, layers]");
  if (mla && (s.q_lora_rank < 0 || s.kv_lora_rank < 1 || s.qk_nope < 1 || s.qk_rope < 2 || s.qk_rope % 2 ||
              s.v_head < 1 || s.n_expert_shared < 0))
    return make_error("make-model: deepseek2 needs q-lora >= 0 and positive kv-lora, qk-nope, v-head and an even qk-rope");
  for (int64_t c : {int64_t(s.n_embd), int64_t(s.n_ff), int64_t(s.n_heads) * hd, int64_t(moe ? ffe : s.n_ff)})
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
  if (mla) {
    // As newer converters: the cache's view (one latent head) in key/value_length, the per-head sizes in *_mla.
    w.set_u32(a + ".attention.head_count_kv", 1);
    w.set_u32(a + ".attention.key_length", uint32_t(s.kv_lora_rank + s.qk_rope));
    w.set_u32(a + ".attention.value_length", uint32_t(s.kv_lora_rank));
    w.set_u32(a + ".attention.key_length_mla", uint32_t(s.qk_nope + s.qk_rope));
    w.set_u32(a + ".attention.value_length_mla", uint32_t(s.v_head));
    if (s.q_lora_rank > 0) w.set_u32(a + ".attention.q_lora_rank", uint32_t(s.q_lora_rank));
    w.set_u32(a + ".attention.kv_lora_rank", uint32_t(s.kv_lora_rank));
    w.set_u32(a + ".rope.dimension_count", uint32_t(s.qk_rope));
    w.set_u32(a + ".expert_shared_count", uint32_t(s.n_expert_shared));
    w.set_f32(a + ".expert_weights_scale", s.expert_weights_scale);
    w.set_bool(a + ".expert_weights_norm", s.expert_weights_norm);
    w.set_u32(a + ".expert_gating_func", s.sigmoid_gating ? 2u : 1u);
  } else {
    w.set_u32(a + ".attention.head_count_kv", uint32_t(s.n_kv_heads));
    w.set_u32(a + ".attention.key_length", uint32_t(hd));
    w.set_u32(a + ".attention.value_length", uint32_t(hd));
  }
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_f32(a + ".rope.freq_base", s.freq_base);
  if (moe) {
    w.set_u32(a + ".expert_count", uint32_t(s.n_expert));
    w.set_u32(a + ".expert_used_count", uint32_t(s.n_expert_used));
    w.set_u32(a + ".expert_feed_forward_length", uint32_t(ffe));
    if (s.n_dense_lead > 0) w.set_u32(a + ".leading_dense_block_count", uint32_t(s.n_dense_lead));
  }
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
  // A stack of `mats` matrices (ggml dims {cols, rows, mats}): the experts of a MoE block.
  auto matrices = [&](const std::string& name, int64_t cols, int64_t rows, int64_t mats, float std) {
    DType t = effective_type(s.type, cols);
    f.resize(size_t(cols));
    q.resize(row_bytes(t, cols) * size_t(rows) * size_t(mats));
    for (int64_t r = 0; r < rows * mats; ++r) {
      rng.fill(f.data(), f.size(), 0.0f, std);
      quantize_row(t, f.data(), q.data() + size_t(r) * row_bytes(t, cols), cols);
    }
    w.add_tensor(name, t, {cols, rows, mats}, q.data());
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
    if (mla) {
      const int64_t H = s.n_heads, QL = s.q_lora_rank, KL = s.kv_lora_rank, Dq = s.qk_nope + s.qk_rope;
      if (QL > 0) {
        matrix(p + "attn_q_a.weight", E, QL, 1.0f / std::sqrt(float(E)));
        vec(p + "attn_q_a_norm.weight", QL, 1.0f, 0.1f);
        matrix(p + "attn_q_b.weight", QL, H * Dq, 1.0f / std::sqrt(float(QL)));
      } else {  // DeepSeek-V2-Lite: q directly (llama.cpp accepts that only for its 26/27-layer lite shapes)
        matrix(p + "attn_q.weight", E, H * Dq, 1.0f / std::sqrt(float(E)));
      }
      matrix(p + "attn_kv_a_mqa.weight", E, KL + s.qk_rope, 1.0f / std::sqrt(float(E)));
      vec(p + "attn_kv_a_norm.weight", KL, 1.0f, 0.1f);
      matrices(p + "attn_k_b.weight", s.qk_nope, KL, H, 1.0f / std::sqrt(float(KL)));
      matrices(p + "attn_v_b.weight", KL, s.v_head, H, 1.0f / std::sqrt(float(KL)));
      matrix(p + "attn_output.weight", H * s.v_head, E, 0.5f / std::sqrt(float(H * s.v_head)));
    } else {
    matrix(p + "attn_q.weight", E, QD, 1.0f / std::sqrt(float(E)));
    matrix(p + "attn_k.weight", E, KD, 1.0f / std::sqrt(float(E)));
    matrix(p + "attn_v.weight", E, KD, 1.0f / std::sqrt(float(E)));
    if (s.arch == Arch::Qwen2) {
      vec(p + "attn_q.bias", QD, 0.0f, 0.1f);
      vec(p + "attn_k.bias", KD, 0.0f, 0.1f);
      vec(p + "attn_v.bias", KD, 0.0f, 0.1f);
    }
    if (s.arch == Arch::Qwen3 || s.arch == Arch::Qwen3Moe) {
      vec(p + "attn_q_norm.weight", hd, 1.0f, 0.1f);
      vec(p + "attn_k_norm.weight", hd, 1.0f, 0.1f);
    }
    matrix(p + "attn_output.weight", QD, E, 0.5f / std::sqrt(float(QD)));
    }
    vec(p + "ffn_norm.weight", E, 1.0f, 0.1f);
    if (moe && l >= s.n_dense_lead) {
      // The router stays f32 (llama.cpp's quantizer leaves ffn_gate_inp alone); logits of std ~2 make the top-k
      // choice clear-cut and different from token to token.
      f.resize(size_t(E) * s.n_expert);
      rng.fill(f.data(), f.size(), 0.0f, 2.0f / std::sqrt(float(E)));
      w.add_tensor(p + "ffn_gate_inp.weight", DType::F32, {E, s.n_expert}, f.data());
      if (mla && s.sigmoid_gating) vec(p + "exp_probs_b.bias", s.n_expert, 0.0f, 0.05f);
      matrices(p + "ffn_gate_exps.weight", E, ffe, s.n_expert, 1.0f / std::sqrt(float(E)));
      matrices(p + "ffn_up_exps.weight", E, ffe, s.n_expert, 1.0f / std::sqrt(float(E)));
      matrices(p + "ffn_down_exps.weight", ffe, E, s.n_expert, 0.5f / std::sqrt(float(ffe)));
      if (mla && s.n_expert_shared > 0) {
        const int64_t FS = int64_t(ffe) * s.n_expert_shared;
        matrix(p + "ffn_gate_shexp.weight", E, FS, 1.0f / std::sqrt(float(E)));
        matrix(p + "ffn_up_shexp.weight", E, FS, 1.0f / std::sqrt(float(E)));
        matrix(p + "ffn_down_shexp.weight", FS, E, 0.5f / std::sqrt(float(FS)));
      }
      continue;
    }
    matrix(p + "ffn_gate.weight", E, F, 1.0f / std::sqrt(float(E)));
    matrix(p + "ffn_up.weight", E, F, 1.0f / std::sqrt(float(E)));
    matrix(p + "ffn_down.weight", F, E, 0.5f / std::sqrt(float(F)));
  }
  vec("output_norm.weight", E, 1.0f, 0.1f);
  if (!s.tied) matrix("output.weight", E, n_vocab, 1.0f / std::sqrt(float(E)));
  return w.write(out_path);
}

}  // namespace cj
