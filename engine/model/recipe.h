// The forward recipe: everything architecture-specific about a model's forward pass, worked out once from its
// configuration and weights into a small description that every backend executes (the CPU executor in
// engine/cpu/forward_cpu.cpp; a CUDA backend uploads the same tables). A backend never branches on the
// architecture name: it reads these flags.
//
// The block every supported architecture shares (llama, qwen2, qwen3):
//   x = embd[token]
//   per layer: h = rmsnorm(x) * attn_norm
//              q, k, v = h Wq, h Wk, h Wv  (+ bq, bk, bv when q_bias/k_bias/v_bias)
//              q, k = rmsnorm per head * q_norm, k_norm  (when qk_norm)
//              q, k = rope(q, k, pos)  (rope.kind: pairs (2i, 2i+1) or NeoX (i, i + n_dims/2); tables below)
//              K/V of pos stored through the sequence's KV slot; a = causal GQA attention(q, K, V) * attn_scale
//              x += a Wo
//              h = rmsnorm(x) * ffn_norm; x += (silu(h Wgate) * (h Wup)) Wdown   (ffn == SwiGLU)
//   logits = rmsnorm(x) * output_norm  (output matrix, or token_embd when tied_output)
//
// attn == Mla (deepseek2) replaces q/k/v and the attention (H heads, Dq = qk_nope + qk_rope, R = kv_lora_rank):
//              q = h Wq  or  rmsnorm(h Wq_a) * q_a_norm Wq_b                          [H, Dq]
//              [c, k_pe] = h Wkv_a;  c = rmsnorm(c) * kv_a_norm;  k_pe = rope(k_pe)  [R], [qk_rope]
//              row [c, k_pe] stored through the KV slot (ONE row of R + qk_rope per token and layer)
//              per head: q_abs = [Wk_b[h] q_nope, rope(q_pe)]                          [R + qk_rope]  (absorbed)
//              o_lat = softmax(q_abs . rows * attn_scale) rows[:, :R]  (MQA over the latent rows)   [R]
//              a[h] = Wv_b[h] o_lat                                                   [v_head]
// ffn[l] == Moe (qwen3moe, deepseek2 after its leading dense blocks) replaces the SwiGLU:
//              p = gating(h Wrouter); top n_used of p (+ probs_bias, within the best expert groups) -> e_j, w_j
//              w_j = p[e_j] (/ sum when moe.norm_weights) * moe.weights_scale
//              x += sum_j w_j SwiGLU_e_j(h)  (+ SwiGLU_shared(h) when moe.n_ff_shared > 0)
// Backends that do not run a kind refuse the model when they are made.
#pragma once
#include "engine/model/model.h"
#include "engine/model/rope.h"

#include <vector>

namespace cj {

enum class RopeKind { Normal, NeoX };  // interleaved pairs (llama GGUF, deepseek2) / halves (qwen)
enum class AttnKind { Gqa, Mla };      // grouped-query attention over K/V heads / latent attention (deepseek2)
enum class FfnKind { SwiGLU, Moe };    // dense SwiGLU / mixture of SwiGLU experts

struct MoeRecipe {
  int n_expert = 0, n_used = 0, n_ff_exp = 0;
  int n_ff_shared = 0;                // width of the shared experts' SwiGLU (0: none)
  int n_group = 0, n_group_used = 0;  // group-limited selection when n_group > 1
  ExpertGating gating = ExpertGating::Softmax;
  bool norm_weights = false;
  float weights_scale = 1;
};

struct MlaRecipe {
  int q_lora_rank = 0, kv_lora_rank = 0, qk_nope = 0, qk_rope = 0, v_head = 0;
  int dq() const { return qk_nope + qk_rope; }   // per-head query size before absorption
  int row() const { return kv_lora_rank + qk_rope; }  // cached values per token and layer
};

struct Recipe {
  Arch arch = Arch::Llama;
  // Shape.
  int n_layers = 0, n_embd = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, head_dim_v = 0, n_ff = 0, n_vocab = 0;
  float rms_eps = 1e-5f;
  // Attention block.
  bool q_bias = false, k_bias = false, v_bias = false;  // attn_{q,k,v}.bias (qwen2)
  bool qk_norm = false;                                  // per-head RMSNorm of q and k before RoPE (qwen3)
  RopeKind rope_kind = RopeKind::Normal;
  Rope rope;               // cos/sin tables (frequencies, YaRN ramp and magnitude, rope_freqs factors) for any position
  float attn_scale = 1;    // 1 / sqrt(head_dim); MLA: mscale^2 / sqrt(qk_nope + qk_rope) (YaRN's attention factor)
  AttnKind attn = AttnKind::Gqa;
  MlaRecipe mla;
  // Feed-forward and output.
  std::vector<FfnKind> ffn;  // [n_layers]
  MoeRecipe moe;
  bool tied_output = false;  // the logits use token_embd (Model::output already points there)
  bool any_moe() const { return moe.n_expert > 0; }

  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }
  int v_dim() const { return n_kv_heads * head_dim_v; }
  int attn_out_dim() const { return n_heads * head_dim_v; }
  int group() const { return n_heads / n_kv_heads; }  // query heads per KV head
  int attn_proj_dim() const { return attn == AttnKind::Mla ? n_heads * mla.v_head : attn_out_dim(); }  // wo input
};

// The recipe of a loaded model (its weights decide the optional parts: a bias that is absent is not added).
Recipe make_recipe(const Model& m);

}  // namespace cj
