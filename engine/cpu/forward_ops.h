// Element-wise operations of the forward pass (RMSNorm, SwiGLU), vectorized with AVX2/FMA when the CPU has it.
#pragma once
#include <cstddef>

namespace cj {

// y = x / sqrt(mean(x^2) + eps) * w   (y may alias x). Sum of squares in double.
void rmsnorm(const float* x, const float* w, float* y, int n, float eps);
// g = silu(g) * u = g / (1 + exp(-g)) * u.
void silu_mul(float* g, const float* u, size_t n);

}  // namespace cj
