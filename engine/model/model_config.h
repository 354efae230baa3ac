// Model hyper-parameters read from GGUF metadata ({arch}.block_count, {arch}.attention.head_count, …) for the
// architectures the engine runs: llama, qwen2 (QKV bias), qwen3 (per-head RMSNorm on q and k), qwen3moe (qwen3
// attention, a mixture-of-experts feed-forward) and deepseek2 (multi-head latent attention, leading dense blocks,
// routed and shared experts).
#pragma once
#include <cstdint>
#include <string>

#include "engine/base/result.h"

namespace cj {

namespace gguf {
class File;
}

enum class Arch { Llama, Qwen2, Qwen3, Qwen3Moe, Deepseek2 };
const char* arch_name(Arch a);
bool arch_from_name(const std::string& s, Arch* out);

// RoPE as llama.cpp parameterizes it (ggml_rope_ext): which dimension pairs rotate, the frequency base, and the
// YaRN context extension (ext_factor 0 = plain RoPE, with linear position interpolation by freq_scale).
struct RopeConfig {
  bool neox = false;        // NeoX pairs (i, i + n_dims/2) (qwen2/qwen3); else interleaved pairs (2i, 2i+1) (llama)
  int n_dims = 0;           // rotated dimensions per head (rope.dimension_count, default head_dim)
  float freq_base = 10000;  // rope.freq_base
  float freq_scale = 1;     // 1 / rope.scaling.factor (linear or yarn); 1 when none
  float ext_factor = 0;     // YaRN extrapolation mix: 1 for rope.scaling.type == yarn, else 0
  float attn_factor = 1;    // extra magnitude scale of cos/sin (YaRN multiplies in 1 + 0.1 ln(1/freq_scale))
  float beta_fast = 32, beta_slow = 1;
  int n_ctx_orig = 0;       // rope.scaling.original_context_length (default: context_length)
};

// How router logits become expert probabilities ({arch}.expert_gating_func: 1 softmax, 2 sigmoid).
enum class ExpertGating { Softmax = 1, Sigmoid = 2 };

// A mixture-of-experts feed-forward (qwen3moe, deepseek2). Each MoE block routes a token to n_expert_used of
// n_expert SwiGLU experts of width n_ff_exp: probabilities = gating(router logits); the top n_expert_used (of
// probabilities + the optional selection bias exp_probs_b, within the n_group_used best of n_group expert groups
// when groups are given) are kept; their probabilities, renormalised to sum 1 when norm_weights, times
// weights_scale, weigh the experts' outputs. n_expert_shared experts of width n_ff_exp run on every token
// (deepseek2 `ffn_*_shexp`, one SwiGLU of width n_expert_shared * n_ff_exp). The first n_dense_lead blocks use a
// dense SwiGLU of width n_ff instead.
constexpr int kMaxExperts = 1024;      // routing keeps one score per expert on the stack
constexpr int kMaxExpertGroups = 256;

struct MoeConfig {
  int n_expert = 0;         // expert_count (0: a dense model)
  int n_expert_used = 0;    // expert_used_count
  int n_ff_exp = 0;         // expert_feed_forward_length
  int n_expert_shared = 0;  // expert_shared_count
  int n_dense_lead = 0;     // leading_dense_block_count
  int n_group = 0, n_group_used = 0;  // expert_group_count, expert_group_used_count (0: no group limit)
  bool norm_weights = false;          // qwen3moe: always; deepseek2: expert_weights_norm
  float weights_scale = 1;            // expert_weights_scale (absent or 0: 1)
  ExpertGating gating = ExpertGating::Softmax;
  bool active() const { return n_expert > 0; }
};

// Multi-head latent attention (deepseek2). Per token a latent c = rmsnorm(x W_kv_a[:kv_lora]) (kv_lora_rank
// values) and one RoPE key k_pe = rope(x W_kv_a[kv_lora:]) (qk_rope values, shared by all heads) are cached: that
// is the whole KV cache. Head h's key is [W_kb_h c, k_pe] (qk_nope + qk_rope) and its value W_vb_h c (v_head);
// the engine multiplies the query into the latent space instead (the absorbed form), so attention reads only the
// cached rows: ModelConfig's attention view is then ONE key/value head of head_dim = kv_lora_rank + qk_rope
// whose value is the first head_dim_v = kv_lora_rank values of the key (kv_v_in_k).
struct MlaConfig {
  int q_lora_rank = 0;   // attention.q_lora_rank (0: attn_q directly, as DeepSeek-V2-Lite)
  int kv_lora_rank = 0;  // attention.kv_lora_rank (0: not MLA)
  int qk_nope = 0;       // per-head key part without RoPE (attention.key_length_mla - rope.dimension_count)
  int qk_rope = 0;       // per-head RoPE part (rope.dimension_count)
  int v_head = 0;        // per-head value size (attention.value_length_mla)
  bool split_kv_b = true;  // attn_k_b/attn_v_b (newer converters); false: the older attn_kv_b
  float yarn_log_mul = 0;  // rope.scaling.yarn_log_multiplier / 0.1 (DeepSeek's mscale_all_dim), 0 when absent
  bool active() const { return kv_lora_rank > 0; }
};

struct ModelConfig {
  Arch arch = Arch::Llama;
  int n_layers = 0;
  int n_embd = 0;
  int n_heads = 0;
  int n_kv_heads = 0;   // key/value heads the cache stores (MLA: 1, the latent)
  int head_dim = 0;     // key/query head size (attention.key_length, default n_embd / n_heads; MLA: kv_lora + qk_rope)
  int head_dim_v = 0;   // value head size (attention.value_length, default head_dim; MLA: kv_lora)
  bool kv_v_in_k = false;  // the value is the first head_dim_v values of the cached key (MLA): no V is stored
  int n_ff = 0;         // dense feed-forward width (MoE models: of the leading dense blocks; may be 0 without any)
  int n_vocab = 0;
  int n_ctx_train = 0;  // context_length
  float rms_eps = 1e-5f;
  bool qkv_bias = false;  // qwen2
  bool qk_norm = false;   // qwen3
  bool tied_output = false;  // no output.weight: the logits use token_embd
  RopeConfig rope;
  MoeConfig moe;
  MlaConfig mla;

  bool is_moe_layer(int l) const { return moe.active() && l >= moe.n_dense_lead; }
  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }
  int v_dim() const { return n_kv_heads * head_dim_v; }
  int attn_out_dim() const { return n_heads * head_dim_v; }
};

// Reads and checks the hyper-parameters (n_vocab from the token_embd tensor; tied_output from whether
// output.weight exists).
Result<ModelConfig> config_from_gguf(const gguf::File& f);

}  // namespace cj
