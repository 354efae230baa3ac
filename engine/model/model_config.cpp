#include "engine/model/model_config.h"

#include <algorithm>
#include <cmath>

#include "engine/format/gguf.h"

namespace cj {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Llama: return "llama";
    case Arch::Qwen2: return "qwen2";
    case Arch::Qwen3: return "qwen3";
    case Arch::Qwen3Moe: return "qwen3moe";
    case Arch::Deepseek2: return "deepseek2";
  }
  return "?";
}

bool arch_from_name(const std::string& s, Arch* out) {
  if (s == "llama") *out = Arch::Llama;
  else if (s == "qwen2") *out = Arch::Qwen2;
  else if (s == "qwen3") *out = Arch::Qwen3;
  else if (s == "qwen3moe") *out = Arch::Qwen3Moe;
  else if (s == "deepseek2") *out = Arch::Deepseek2;
  else return false;
  return true;
}

namespace {

// expert_* keys of qwen3moe / deepseek2.
Status read_moe(const gguf::File& f, const std::string& p, ModelConfig& c) {
  MoeConfig& m = c.moe;
  auto get = [&](const char* key, int lo, int hi, bool required, int* out) -> Status {
    auto v = f.get_int(p + key);
    if (!v) return required ? make_error(f.path() + ": missing metadata " + p + key) : Status{};
    if (*v < lo || *v > hi) return make_error(f.path() + ": bad value for " + p + key);
    *out = int(*v);
    return {};
  };
  CJ_TRY(get("expert_count", 1, kMaxExperts, true, &m.n_expert));
  CJ_TRY(get("expert_used_count", 1, m.n_expert, true, &m.n_expert_used));
  CJ_TRY(get("expert_feed_forward_length", 1, 1 << 24, c.arch == Arch::Deepseek2, &m.n_ff_exp));
  if (m.n_ff_exp == 0) m.n_ff_exp = c.n_ff / m.n_expert_used;  // as llama.cpp for qwen3moe without the key
  if (m.n_ff_exp <= 0) return make_error(f.path() + ": missing metadata " + p + "expert_feed_forward_length");
  CJ_TRY(get("expert_shared_count", 0, 1 << 10, false, &m.n_expert_shared));
  CJ_TRY(get("leading_dense_block_count", 0, c.n_layers, false, &m.n_dense_lead));
  CJ_TRY(get("expert_group_count", 0, std::min(m.n_expert, kMaxExpertGroups), false, &m.n_group));
  CJ_TRY(get("expert_group_used_count", 0, std::max(0, m.n_group), false, &m.n_group_used));
  if (m.n_group > 1 && (m.n_expert % m.n_group || m.n_group_used < 1 || m.n_group_used >= m.n_group ||
                        m.n_expert_used > m.n_group_used * (m.n_expert / m.n_group)))
    return make_error(f.path() + ": bad expert_group_count / expert_group_used_count");
  if (m.n_dense_lead > 0 && c.n_ff <= 0)
    return make_error(f.path() + ": leading dense blocks need " + p + "feed_forward_length");
  if (c.arch == Arch::Qwen3Moe) {
    m.norm_weights = true;  // qwen3moe renormalises the top-k probabilities whatever the metadata says
  } else if (auto b = f.get_bool(p + "expert_weights_norm")) {
    m.norm_weights = *b;
  }
  if (auto s = f.get_float(p + "expert_weights_scale")) {
    if (!(*s >= 0 && *s < 1e4)) return make_error(f.path() + ": bad " + p + "expert_weights_scale");
    m.weights_scale = *s == 0 ? 1.0f : float(*s);
  }
  int gating = 1;
  if (c.arch == Arch::Deepseek2) CJ_TRY(get("expert_gating_func", 0, 1 << 10, false, &gating));
  if (gating == 0) gating = 1;  // older DeepSeek-V2 files name none: softmax
  if (gating != 1 && gating != 2)
    return make_error(f.path() + ": " + p + "expert_gating_func " + std::to_string(gating) +
                      " is not supported (1 softmax, 2 sigmoid are)");
  m.gating = ExpertGating(gating);
  return {};
}

// attention.{q_lora_rank, kv_lora_rank, key_length_mla, value_length_mla} of deepseek2. Newer converters write
// key_length = kv_lora + rope, value_length = kv_lora and the per-head sizes in the *_mla keys (with attn_k_b /
// attn_v_b); older ones the per-head sizes in key_length / value_length (with attn_kv_b).
Status read_mla(const gguf::File& f, const std::string& p, ModelConfig& c) {
  MlaConfig& a = c.mla;
  auto get = [&](const char* key, int* out) -> bool {
    auto v = f.get_int(p + key);
    if (!v || *v < 0 || *v > (1 << 20)) return false;
    *out = int(*v);
    return true;
  };
  if (!get("attention.kv_lora_rank", &a.kv_lora_rank) || a.kv_lora_rank <= 0)
    return make_error(f.path() + ": missing or bad metadata " + p + "attention.kv_lora_rank");
  if (f.get_int(p + "attention.q_lora_rank") && !get("attention.q_lora_rank", &a.q_lora_rank))
    return make_error(f.path() + ": bad metadata " + p + "attention.q_lora_rank");
  if (!get("rope.dimension_count", &a.qk_rope) || a.qk_rope <= 0 || a.qk_rope % 2)
    return make_error(f.path() + ": missing or bad metadata " + p + "rope.dimension_count");
  int kl = 0, vl = 0;
  if (get("attention.key_length_mla", &kl) && get("attention.value_length_mla", &vl)) {
    a.split_kv_b = true;
    if (c.head_dim != a.kv_lora_rank + a.qk_rope || c.head_dim_v != a.kv_lora_rank)
      return make_error(f.path() + ": attention.key_length / value_length must be kv_lora_rank + rope dimensions / "
                        "kv_lora_rank when the *_mla lengths are given");
  } else {
    a.split_kv_b = false;
    kl = c.head_dim;
    vl = c.head_dim_v;
  }
  a.qk_nope = kl - a.qk_rope;
  a.v_head = vl;
  if (a.qk_nope < 1 || a.v_head < 1) return make_error(f.path() + ": bad MLA head sizes");
  if (auto lm = f.get_float(p + "rope.scaling.yarn_log_multiplier")) {
    if (!(*lm >= 0 && *lm < 100)) return make_error(f.path() + ": bad rope.scaling.yarn_log_multiplier");
    a.yarn_log_mul = float(*lm / 0.1);  // the converter stores 0.1 * mscale_all_dim
  }
  // The attention the cache sees: one latent "head" (the value is its first kv_lora values).
  c.n_kv_heads = 1;
  c.head_dim = a.kv_lora_rank + a.qk_rope;
  c.head_dim_v = a.kv_lora_rank;
  c.kv_v_in_k = true;
  return {};
}

}  // namespace

Result<ModelConfig> config_from_gguf(const gguf::File& f) {
  ModelConfig c;
  auto arch = f.get_string("general.architecture");
  if (!arch) return make_error(f.path() + ": no general.architecture in the GGUF metadata");
  if (!arch_from_name(*arch, &c.arch))
    return make_error(f.path() + ": architecture '" + *arch + "' is not supported (llama, qwen2, qwen3, qwen3moe, deepseek2 are)");
  const std::string p = *arch + ".";
  auto need_int = [&](const std::string& key, int* out) -> Status {
    auto v = f.get_int(p + key);
    if (!v) return make_error(f.path() + ": missing metadata " + p + key);
    if (*v <= 0 || *v > (1 << 30)) return make_error(f.path() + ": bad value for " + p + key);
    *out = int(*v);
    return {};
  };
  CJ_TRY(need_int("block_count", &c.n_layers));
  CJ_TRY(need_int("embedding_length", &c.n_embd));
  CJ_TRY(need_int("attention.head_count", &c.n_heads));
  const bool moe_arch = c.arch == Arch::Qwen3Moe || c.arch == Arch::Deepseek2;
  if (!moe_arch || f.get_int(p + "feed_forward_length")) CJ_TRY(need_int("feed_forward_length", &c.n_ff));
  if (!f.get_int(p + "context_length")) c.n_ctx_train = 2048;
  else CJ_TRY(need_int("context_length", &c.n_ctx_train));
  c.n_kv_heads = c.n_heads;
  if (f.get_int(p + "attention.head_count_kv")) CJ_TRY(need_int("attention.head_count_kv", &c.n_kv_heads));
  if (c.n_heads % c.n_kv_heads != 0)
    return make_error(f.path() + ": head_count " + std::to_string(c.n_heads) + " is not a multiple of head_count_kv " +
                      std::to_string(c.n_kv_heads));
  c.head_dim = c.n_embd / c.n_heads;
  if (f.get_int(p + "attention.key_length")) CJ_TRY(need_int("attention.key_length", &c.head_dim));
  c.head_dim_v = c.head_dim;
  if (f.get_int(p + "attention.value_length")) CJ_TRY(need_int("attention.value_length", &c.head_dim_v));
  if (c.head_dim % 2 != 0) return make_error(f.path() + ": head size must be even for RoPE");
  if (moe_arch) CJ_TRY(read_moe(f, p, c));
  if (c.arch == Arch::Deepseek2) CJ_TRY(read_mla(f, p, c));
  // q_dim(), kv_dim(), v_dim() and attn_out_dim() multiply in int: bound the products here, in 64 bits.
  constexpr int64_t kMaxAttnDim = int64_t(1) << 24;
  for (int64_t heads : {int64_t(c.n_heads), int64_t(c.n_kv_heads)})
    for (int64_t size : {int64_t(c.head_dim), int64_t(c.head_dim_v)})
      if (heads * size > kMaxAttnDim)
        return make_error(f.path() + ": attention heads × head size (" + std::to_string(heads) + " × " +
                          std::to_string(size) + ") is too large");
  // Every layer has at least nine tensors (norms, q, k, v, output, gate, up, down): a block_count the file cannot
  // hold is refused before anything is sized by it.
  if (int64_t(c.n_layers) * 9 > int64_t(f.tensors().size()))
    return make_error(f.path() + ": block_count " + std::to_string(c.n_layers) + " needs at least " +
                      std::to_string(int64_t(c.n_layers) * 9) + " tensors; the file has " +
                      std::to_string(f.tensors().size()));
  if (auto eps = f.get_float(p + "attention.layer_norm_rms_epsilon")) c.rms_eps = float(*eps);
  if (!(c.rms_eps > 0 && c.rms_eps < 1)) return make_error(f.path() + ": bad rms epsilon");

  c.qkv_bias = c.arch == Arch::Qwen2;
  c.qk_norm = c.arch == Arch::Qwen3 || c.arch == Arch::Qwen3Moe;

  RopeConfig& r = c.rope;
  r.neox = c.arch == Arch::Qwen2 || c.arch == Arch::Qwen3 || c.arch == Arch::Qwen3Moe;  // llama, deepseek2: pairs
  r.n_dims = c.mla.active() ? c.mla.qk_rope : c.head_dim;
  if (f.get_int(p + "rope.dimension_count")) CJ_TRY(need_int("rope.dimension_count", &r.n_dims));
  if (r.n_dims > c.head_dim || r.n_dims % 2 || (c.mla.active() && r.n_dims != c.mla.qk_rope))
    return make_error(f.path() + ": bad rope.dimension_count");
  if (auto b = f.get_float(p + "rope.freq_base")) r.freq_base = float(*b);
  if (!(r.freq_base > 1)) return make_error(f.path() + ": bad rope.freq_base");
  std::string scaling = f.get_string(p + "rope.scaling.type").value_or("none");
  float factor = float(f.get_float(p + "rope.scaling.factor").value_or(0.0));
  if (scaling != "none" && scaling != "linear" && scaling != "yarn")
    return make_error(f.path() + ": rope.scaling.type '" + scaling + "' is not supported (none, linear, yarn)");
  if (scaling != "none" && factor > 0) {
    if (!(factor >= 1 && factor < 1e4)) return make_error(f.path() + ": bad rope.scaling.factor");
    r.freq_scale = 1.0f / factor;
  }
  r.n_ctx_orig = c.n_ctx_train;
  if (auto o = f.get_int(p + "rope.scaling.original_context_length"); o && *o > 0) r.n_ctx_orig = int(*o);
  if (scaling == "yarn") {
    r.ext_factor = 1.0f;
    // The rope kernel multiplies cos/sin by attn_factor * (1 + 0.1 ln(1/freq_scale)) (ggml's rope_yarn); llama.cpp
    // sets attn_factor so that the product is YaRN's mscale(factor, mscale) / mscale(factor, mscale_all_dim) with
    // mscale(s, m) = 1 + 0.1 m ln s: 1 without a yarn_log_multiplier (mscale = mscale_all_dim = 1), and for
    // deepseek2, whose mscale equals its mscale_all_dim, also 1; the attention scale carries the rest (recipe.cpp).
    const double fac = 1.0 / r.freq_scale;
    auto mscale = [&](double m) { return fac <= 1 ? 1.0 : 1.0 + 0.1 * m * std::log(fac); };
    const double lm = c.mla.yarn_log_mul;
    const double af = lm != 0 ? mscale(c.arch == Arch::Deepseek2 && lm != 1 ? lm : 1.0) / mscale(lm) : mscale(1.0);
    r.attn_factor = float(af / (1.0 + 0.1 * std::log(fac)));
  }
  if (auto af = f.get_float(p + "rope.scaling.attn_factor")) {
    if (!(*af > 0 && *af < 100)) return make_error(f.path() + ": bad rope.scaling.attn_factor");
    r.attn_factor *= float(*af);
  }

  const gguf::TensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb || emb->dims.size() != 2) return make_error(f.path() + ": missing or malformed token_embd.weight");
  if (emb->dims[0] != c.n_embd)
    return make_error(f.path() + ": token_embd.weight has row length " + std::to_string(emb->dims[0]) +
                      ", expected embedding_length " + std::to_string(c.n_embd));
  if (emb->dims[1] > (int64_t(1) << 24))
    return make_error(f.path() + ": token_embd.weight has " + std::to_string(emb->dims[1]) + " rows (vocabulary too large)");
  c.n_vocab = int(emb->dims[1]);
  c.tied_output = f.find_tensor("output.weight") == nullptr;
  return c;
}

}  // namespace cj
