#include "engine/model/recipe.h"

#include <cmath>

namespace cj {

Recipe make_recipe(const Model& m) {
  const ModelConfig& c = m.config();
  Recipe r;
  r.arch = c.arch;
  r.n_layers = c.n_layers;
  r.n_embd = c.n_embd;
  r.n_heads = c.n_heads;
  r.n_kv_heads = c.n_kv_heads;
  r.head_dim = c.head_dim;
  r.head_dim_v = c.head_dim_v;
  r.n_ff = c.n_ff;
  r.n_vocab = c.n_vocab;
  r.rms_eps = c.rms_eps;
  for (const LayerWeights& L : m.layers) {
    r.q_bias = r.q_bias || L.bq.present();
    r.k_bias = r.k_bias || L.bk.present();
    r.v_bias = r.v_bias || L.bv.present();
    r.qk_norm = r.qk_norm || (L.q_norm.present() && L.k_norm.present());
  }
  r.rope_kind = c.rope.neox ? RopeKind::NeoX : RopeKind::Normal;
  r.rope = Rope(c.rope, m.rope_freqs.present() ? static_cast<const float*>(m.rope_freqs.data) : nullptr);
  r.attn_scale = 1.0f / std::sqrt(float(c.head_dim));
  if (c.mla.active()) {
    r.attn = AttnKind::Mla;
    r.mla = {c.mla.q_lora_rank, c.mla.kv_lora_rank, c.mla.qk_nope, c.mla.qk_rope, c.mla.v_head};
    // As llama.cpp's deepseek2 graph: the scores of the full per-head key (qk_nope + qk_rope) are scaled by
    // mscale^2 / sqrt(Dq), mscale = attn_factor * (1 + 0.1 ln(1/freq_scale)) * (1 + 0.1 mscale_all_dim ln(1/freq_scale)).
    const double lf = std::log(1.0 / double(c.rope.freq_scale));
    const double mscale = double(c.rope.attn_factor) * (1.0 + 0.1 * lf) * (1.0 + 0.1 * double(c.mla.yarn_log_mul) * lf);
    r.attn_scale = float(mscale * mscale / std::sqrt(double(r.mla.dq())));
  }
  r.ffn.assign(size_t(c.n_layers), FfnKind::SwiGLU);
  if (c.moe.active()) {
    for (int l = 0; l < c.n_layers; ++l)
      if (c.is_moe_layer(l)) r.ffn[size_t(l)] = FfnKind::Moe;
    const MoeConfig& e = c.moe;
    r.moe.n_expert = e.n_expert;
    r.moe.n_used = e.n_expert_used;
    r.moe.n_ff_exp = e.n_ff_exp;
    r.moe.n_ff_shared = e.n_ff_exp * e.n_expert_shared;
    r.moe.n_group = e.n_group > 1 ? e.n_group : 0;
    r.moe.n_group_used = e.n_group > 1 ? e.n_group_used : 0;
    r.moe.gating = e.gating;
    r.moe.norm_weights = e.norm_weights;
    r.moe.weights_scale = e.weights_scale;
  }
  r.tied_output = c.tied_output;
  return r;
}

}  // namespace cj
