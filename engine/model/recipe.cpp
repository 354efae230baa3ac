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
  r.ffn = FfnKind::SwiGLU;
  r.tied_output = c.tied_output;
  return r;
}

}  // namespace cj
