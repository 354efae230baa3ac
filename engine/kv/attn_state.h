// The partial state of attention for one query head over a subset of the keys, and its log-sum-exp merge: what
// lets any backend attend the blocks it holds (a device its device-resident pages, the CPU its host- and
// disk-resident ones, several threads their key splits) and combine the parts exactly.
//
// One state is a row of 2 + Dv floats: [m, l, acc[Dv]] with m = the largest score seen (-inf when none),
// l = sum of exp(score - m), acc = sum of exp(score - m) * value. Merging b into a rescales both to the larger
// m; the output is acc / l. The layout is plain floats so that a device can copy states to the host and back.
#pragma once
#include <cmath>
#include <limits>

#if defined(__CUDACC__)
#define CJ_HD __host__ __device__
#else
#define CJ_HD
#endif

namespace cj::attn {

inline constexpr int kStateHeader = 2;  // m, l
CJ_HD inline int state_floats(int dv) { return kStateHeader + dv; }

CJ_HD inline void state_init(float* s, int dv) {
  s[0] = -std::numeric_limits<float>::infinity();
  s[1] = 0;
  for (int i = 0; i < dv; ++i) s[2 + i] = 0;
}

// a = merge(a, b). A state with l == 0 (no keys) changes nothing.
CJ_HD inline void state_merge(float* a, const float* b, int dv) {
  if (b[1] == 0) return;
  if (a[1] == 0) {
    for (int i = 0; i < 2 + dv; ++i) a[i] = b[i];
    return;
  }
  const float m = a[0] > b[0] ? a[0] : b[0];
  const float wa = std::exp(a[0] - m), wb = std::exp(b[0] - m);
  a[0] = m;
  a[1] = a[1] * wa + b[1] * wb;
  for (int i = 0; i < dv; ++i) a[2 + i] = a[2 + i] * wa + b[2 + i] * wb;
}

// out[dv] = acc / l (zeros when no key was seen).
CJ_HD inline void state_output(const float* s, float* out, int dv) {
  const float inv = s[1] > 0 ? 1.0f / s[1] : 0.0f;
  for (int i = 0; i < dv; ++i) out[i] = s[2 + i] * inv;
}

}  // namespace cj::attn
