#include "engine/kv/attn_pages.h"

#include <algorithm>
#include <cmath>

#include "engine/kv/attn_state.h"

namespace cj::attn {

size_t page_attn_stage_bytes(const KVLayout& L) { return L.k_head_bytes + L.v_head_bytes; }
size_t page_attn_work_floats(const KVLayout& L) { return size_t(L.head_dim + L.head_dim_v); }

namespace {
bool selected(KVTier t, PageSet s) {
  switch (s) {
    case PageSet::All: return true;
    case PageSet::OffDevice: return t != KVTier::Device;
    case PageSet::OnDevice: return t == KVTier::Device;
  }
  return false;
}
}  // namespace

void attend_pages(const KVCache& kv, const PageAttnArgs& a, const float* q, int n_keys, float* states, float* work,
                  unsigned char* stage) {
  const KVLayout& L = kv.layout();
  const int Dk = a.head_dim, Dv = a.head_dim_v, S = state_floats(Dv), G = a.n_heads / a.n_kv_heads;
  for (int h = 0; h < a.n_heads; ++h) state_init(states + size_t(h) * S, Dv);
  float* kr = work;
  float* vr = work + Dk;
  const int n_blocks = (n_keys + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens;
  for (int b = 0; b < n_blocks; ++b) {
    if (!selected(kv.tier(a.layer, b), a.pages)) continue;
    const int rows = std::min(KVLayout::kBlockTokens, n_keys - b * KVLayout::kBlockTokens);
    for (int g = 0; g < a.n_kv_heads; ++g) {
      const uint8_t* K = kv.k_head(a.layer, b, g, stage);
      const uint8_t* V = kv.v_head(a.layer, b, g, stage + L.k_head_bytes);
      for (int t = 0; t < rows; ++t) {
        kv_decode_row(L.type, K + size_t(t) * L.k_row_bytes, Dk, kr);
        kv_decode_row(L.type, V + size_t(t) * L.v_row_bytes, Dv, vr);
        for (int h = g * G; h < (g + 1) * G; ++h) {
          const float* qh = q + size_t(h) * Dk;
          float s = 0;
          for (int i = 0; i < Dk; ++i) s += qh[i] * kr[i];
          s *= a.scale;
          // Online softmax: fold one key into the head's state.
          float* st = states + size_t(h) * S;
          if (s > st[0]) {
            const float w = st[1] > 0 ? std::exp(st[0] - s) : 0.0f;
            st[0] = s;
            st[1] = st[1] * w + 1;
            for (int i = 0; i < Dv; ++i) st[2 + i] = st[2 + i] * w + vr[i];
          } else {
            const float p = std::exp(s - st[0]);
            st[1] += p;
            for (int i = 0; i < Dv; ++i) st[2 + i] += p * vr[i];
          }
        }
      }
    }
  }
}

int blocks_off_device(const KVCache& kv, int layer, int n_keys) {
  const int n_blocks = (n_keys + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens;
  int n = 0;
  for (int b = 0; b < n_blocks; ++b) n += kv.tier(layer, b) != KVTier::Device;
  return n;
}

}  // namespace cj::attn
