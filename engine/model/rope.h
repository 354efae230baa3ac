// Rotary position embeddings as llama.cpp applies them: normal (interleaved pairs 2i, 2i+1; GGUF llama) or NeoX
// (pairs i, i + n_dims/2; qwen2/qwen3), with linear interpolation and YaRN (ramp between interpolated and
// extrapolated frequencies over the correction dimensions, magnitude scale 1 + 0.1 ln(factor)).
#pragma once
#include <vector>

#include "engine/model/model_config.h"

namespace cj {

class Rope {
 public:
  Rope() = default;
  // freq_factors: optional [n_dims / 2] divisors of each pair's angle (GGUF rope_freqs.weight, Llama 3.1 style).
  explicit Rope(const RopeConfig& c, const float* freq_factors = nullptr);

  int n_dims() const { return cfg_.n_dims; }
  // cos/sin for one position: [n_dims / 2] each.
  void cos_sin(int pos, float* cos_out, float* sin_out) const;
  // Rotates n_heads heads of head_dim floats (x: [n_heads, head_dim]) in place with that position's cos/sin.
  void apply(float* x, int n_heads, int head_dim, const float* cos, const float* sin) const;

 private:
  RopeConfig cfg_;
  std::vector<double> inv_freq_;  // [n_dims / 2] freq_base^(-2i / n_dims)
  std::vector<double> ramp_mix_;  // [n_dims / 2] YaRN extrapolation weight per pair (0 without YaRN)
  double mscale_ = 1;
};

}  // namespace cj
