#include "engine/model/rope.h"

#include <algorithm>
#include <cmath>

namespace cj {

namespace {
// The dimension index whose wavelength completes n_rot turns over the original context (YaRN paper, eq. 17).
double corr_dim(int n_dims, int n_ctx_orig, double n_rot, double base) {
  return n_dims * std::log(n_ctx_orig / (n_rot * 2 * M_PI)) / (2 * std::log(base));
}
}  // namespace

Rope::Rope(const RopeConfig& c, const float* freq_factors) : cfg_(c) {
  const int half = c.n_dims / 2;
  inv_freq_.resize(half);
  ramp_mix_.assign(half, 0.0);
  for (int i = 0; i < half; ++i) {
    inv_freq_[i] = std::pow(double(c.freq_base), -2.0 * i / c.n_dims);
    if (freq_factors) inv_freq_[i] /= double(freq_factors[i]);
  }
  mscale_ = c.attn_factor;
  if (c.ext_factor != 0) {
    double lo = std::max(0.0, std::floor(corr_dim(c.n_dims, c.n_ctx_orig, c.beta_fast, c.freq_base)));
    double hi = std::min(double(c.n_dims - 1), std::ceil(corr_dim(c.n_dims, c.n_ctx_orig, c.beta_slow, c.freq_base)));
    for (int i = 0; i < half; ++i) {
      double y = (i - lo) / std::max(0.001, hi - lo);
      double ramp = 1.0 - std::min(1.0, std::max(0.0, y));
      ramp_mix_[i] = ramp * c.ext_factor;
    }
    mscale_ *= 1.0 + 0.1 * std::log(1.0 / c.freq_scale);
  }
}

void Rope::cos_sin(int pos, float* cos_out, float* sin_out) const {
  const int half = cfg_.n_dims / 2;
  for (int i = 0; i < half; ++i) {
    double extrap = pos * inv_freq_[i];
    double interp = cfg_.freq_scale * extrap;
    double theta = interp * (1 - ramp_mix_[i]) + extrap * ramp_mix_[i];
    cos_out[i] = float(std::cos(theta) * mscale_);
    sin_out[i] = float(std::sin(theta) * mscale_);
  }
}

void Rope::apply(float* x, int n_heads, int head_dim, const float* cos, const float* sin) const {
  const int half = cfg_.n_dims / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + size_t(h) * head_dim;
    if (cfg_.neox) {
      for (int i = 0; i < half; ++i) {
        float a = v[i], b = v[i + half];
        v[i] = a * cos[i] - b * sin[i];
        v[i + half] = a * sin[i] + b * cos[i];
      }
    } else {
      for (int i = 0; i < half; ++i) {
        float a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = a * cos[i] - b * sin[i];
        v[2 * i + 1] = a * sin[i] + b * cos[i];
      }
    }
  }
}

}  // namespace cj
