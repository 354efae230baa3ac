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
// New kinds (a mixture-of-experts feed-forward, windowed attention) extend the enums below; backends that do not
// run a kind refuse the model when they are made.
#pragma once
#include "engine/model/model.h"
#include "engine/model/rope.h"

namespace cj {

enum class RopeKind { Normal, NeoX };  // interleaved pairs (llama GGUF) / halves (qwen)
enum class FfnKind { SwiGLU };         // issue 24 adds the mixture of experts

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
  float attn_scale = 1;    // 1 / sqrt(head_dim)
  // Feed-forward and output.
  FfnKind ffn = FfnKind::SwiGLU;
  bool tied_output = false;  // the logits use token_embd (Model::output already points there)

  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }
  int v_dim() const { return n_kv_heads * head_dim_v; }
  int attn_out_dim() const { return n_heads * head_dim_v; }
  int group() const { return n_heads / n_kv_heads; }  // query heads per KV head
};

// The recipe of a loaded model (its weights decide the optional parts: a bias that is absent is not added).
Recipe make_recipe(const Model& m);

}  // namespace cj
