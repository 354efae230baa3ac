#include "engine/model/model_config.h"

#include <cmath>

#include "engine/format/gguf.h"

namespace cj {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Llama: return "llama";
    case Arch::Qwen2: return "qwen2";
    case Arch::Qwen3: return "qwen3";
  }
  return "?";
}

bool arch_from_name(const std::string& s, Arch* out) {
  if (s == "llama") *out = Arch::Llama;
  else if (s == "qwen2") *out = Arch::Qwen2;
  else if (s == "qwen3") *out = Arch::Qwen3;
  else return false;
  return true;
}

Result<ModelConfig> config_from_gguf(const gguf::File& f) {
  ModelConfig c;
  auto arch = f.get_string("general.architecture");
  if (!arch) return make_error(f.path() + ": no general.architecture in the GGUF metadata");
  if (!arch_from_name(*arch, &c.arch))
    return make_error(f.path() + ": architecture '" + *arch + "' is not supported (llama, qwen2, qwen3 are)");
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
  CJ_TRY(need_int("feed_forward_length", &c.n_ff));
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
  c.qk_norm = c.arch == Arch::Qwen3;

  RopeConfig& r = c.rope;
  r.neox = c.arch != Arch::Llama;
  r.n_dims = c.head_dim;
  if (f.get_int(p + "rope.dimension_count")) CJ_TRY(need_int("rope.dimension_count", &r.n_dims));
  if (r.n_dims > c.head_dim || r.n_dims % 2) return make_error(f.path() + ": bad rope.dimension_count");
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
    // llama.cpp's rope kernel multiplies cos/sin by attn_factor * (1 + 0.1 ln(1/freq_scale)); with default
    // parameters the context's attn_factor cancels to 1 (llama-context.cpp), so the net scale is that product.
    r.attn_factor = 1.0f;
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
