// The flash-attention driver: work items, key chunks over the pages, split-K merge; and the scalar reference.
#include "engine/attention_flash.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/attention_flash_kernels.h"
#include "engine/cpu_features.h"
#include "engine/forward_attention.h"
#include "engine/thread_pool.h"

namespace cj {

using flash::kChunk;

namespace {
FlashIsa detect_isa() {
  static const FlashIsa isa = [] {
    const CpuFeatures& f = cpu_features();
    FlashIsa best = f.avx512 && f.avx512_bf16 ? FlashIsa::Avx512Bf16 : f.avx2 ? FlashIsa::Avx2 : FlashIsa::None;
    const char* env = std::getenv("CJ_FLASH");
    if (env) {
      const std::string e = env;
      if (e == "off") best = FlashIsa::None;
      else if (e == "avx2" && f.avx2) best = FlashIsa::Avx2;
    }
    return best;
  }();
  return isa;
}
std::atomic<int> g_isa{-1};  // set_flash_isa override
}  // namespace

FlashIsa flash_isa() {
  const int v = g_isa.load(std::memory_order_relaxed);
  return v < 0 ? detect_isa() : FlashIsa(v);
}

void set_flash_isa(FlashIsa isa) { g_isa.store(int(isa), std::memory_order_relaxed); }

const char* flash_isa_name(FlashIsa isa) {
  switch (isa) {
    case FlashIsa::Avx512Bf16: return "avx512bf16";
    case FlashIsa::Avx2: return "avx2";
    default: return "off";
  }
}

namespace {

bool size_ok(int d) { return d == 32 || d == 64 || d == 128; }

const flash::Kernels* kernels_for(FlashIsa isa) {
  const CpuFeatures& f = cpu_features();
  if (isa == FlashIsa::Avx512Bf16 && f.avx512 && f.avx512_bf16) return &flash::kernels_avx512bf16();
  if (isa == FlashIsa::Avx2 && f.avx2) return &flash::kernels_avx2();
  return nullptr;
}

// Per-thread buffers of a work item, grown on first use (then reused: nothing allocates in the token loop).
struct TileMemory {
  std::vector<uint8_t> mem;
  flash::Tile tile;
  void prepare(const flash::Kernels& K, int M, int D, int Dv) {
    auto up = [](size_t n) { return (n + 63) / 64 * 64; };
    const size_t sz[] = {up(K.qp_bytes(M, D)), up(size_t(M) * Dv * 4), up(size_t(M) * 4), up(size_t(M) * 4),
                         up(K.kt_bytes(D)),    up(K.vp_bytes(Dv)),      up(K.pb_bytes())};
    size_t total = 64;
    for (size_t s : sz) total += s;
    if (mem.size() < total) mem.assign(total, 0);
    uint8_t* p = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(mem.data()) + 63) / 64 * 64);
    void* ptr[7];
    for (int i = 0; i < 7; ++i) {
      ptr[i] = p;
      p += sz[i];
    }
    tile.qp = ptr[0];
    tile.o = static_cast<float*>(ptr[1]);
    tile.m = static_cast<float*>(ptr[2]);
    tile.l = static_cast<float*>(ptr[3]);
    tile.kt = ptr[4];
    tile.vp = ptr[5];
    tile.pb = ptr[6];
  }
};

TileMemory& tile_memory() {
  thread_local TileMemory m;
  return m;
}

// Walks the keys with indices [k0, k1) of the concatenated ranges, in chunks that stay inside one 64-key-aligned
// run of a page, calling K.chunk for each. Keys past `last` (the tile's last query position) are skipped.
void walk_keys(const AttentionArgs& a, const flash::Kernels& K, flash::Tile& tile, int g, const KeyRange* ranges,
               int n_ranges, long k0, long k1, int last, uint8_t* stage) {
  const KVCache& kv = *a.kv;
  const KVLayout& L = kv.layout();
  constexpr int BT = KVCache::kBlockTokens;
  long base = 0;  // key index of the current range's first key
  int cur_b = -1;
  const uint8_t *kb = nullptr, *vb = nullptr;
  for (int r = 0; r < n_ranges && base < k1; ++r) {
    const KeyRange& R = ranges[r];
    const long len = R.t1 - R.t0;
    const long lo = std::max(k0, base), hi = std::min(k1, base + len);
    base += len;
    if (lo >= hi) continue;
    int t = R.t0 + int(lo - (base - len));
    const int te = std::min(R.t0 + int(hi - (base - len)), last + 1);
    while (t < te) {
      const int ce = std::min(te, (t / kChunk + 1) * kChunk);
      const int b = t / BT;
      if (b != cur_b) {
        kb = kv.k_head(a.layer, b, g, stage);
        vb = kv.v_head(a.layer, b, g, stage + L.k_head_bytes);
        cur_b = b;
      }
      const int off = t % BT;
      // Prefetch the next chunk of this page while this one is computed: past a few thousand keys the cache
      // comes from DRAM, and the chunk's K and V rows are two separate 4-8 KB runs the hardware prefetcher
      // does not run ahead on far enough.
      const int noff = off + (ce - t);
      if (noff < BT && ce < te) {
        const int nn = std::min(kChunk, std::min(te - ce, BT - noff));
        const char* kp = reinterpret_cast<const char*>(kb + size_t(noff) * L.k_row_bytes);
        const char* vp = reinterpret_cast<const char*>(vb + size_t(noff) * L.v_row_bytes);
        for (size_t i = 0; i < size_t(nn) * L.k_row_bytes; i += 64) __builtin_prefetch(kp + i, 0, 3);
        for (size_t i = 0; i < size_t(nn) * L.v_row_bytes; i += 64) __builtin_prefetch(vp + i, 0, 3);
      }
      K.chunk(tile, kb + size_t(off) * L.k_row_bytes, vb + size_t(off) * L.v_row_bytes, t, ce - t);
      t = ce;
    }
  }
}

void init_tile(flash::Tile& t, const AttentionArgs& a, int M) {
  const KVLayout& L = a.kv->layout();
  t.G = a.n_heads / a.n_kv_heads;
  t.D = a.head_dim;
  t.Dv = a.head_dim_v;
  t.M = M;
  t.type = L.type;
  t.krb = L.k_row_bytes;
  t.vrb = L.v_row_bytes;
}

template <typename F>
void run_tasks(ThreadPool* pool, int n, F&& f) {
  if (pool && n > 1) pool->parallel_for(n, f);
  else
    for (int i = 0; i < n; ++i) f(i);
}

// Merges split partial states p[s] = (m, l, O[Dv]) into out = O / l by log-sum-exp.
void merge_partials(const float* const* p, int n, int Dv, float* out) {
  float M = -std::numeric_limits<float>::infinity();
  for (int s = 0; s < n; ++s)
    if (p[s][1] > 0) M = std::max(M, p[s][0]);
  float L = 0;
  std::fill(out, out + Dv, 0.0f);
  for (int s = 0; s < n; ++s) {
    if (p[s][1] <= 0) continue;  // a split that saw no key
    const float w = std::exp(p[s][0] - M);
    L += p[s][1] * w;
    for (int i = 0; i < Dv; ++i) out[i] += w * p[s][2 + i];
  }
  const float inv = L > 0 ? 1.0f / L : 0.0f;
  for (int i = 0; i < Dv; ++i) out[i] *= inv;
}

void decode(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads, const KeySelection* sel,
            const flash::Kernels& K) {
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, Dv = a.head_dim_v;
  const KeyRange all{0, a.pos0 + 1};
  long most = 0;  // keys of the busiest KV head
  for (int g = 0; g < a.n_kv_heads; ++g) {
    long n = 0;
    if (sel) {
      for (int i = 0; i < sel->count[g]; ++i) n += sel->ranges[size_t(g) * sel->stride + i].t1 - sel->ranges[size_t(g) * sel->stride + i].t0;
    } else {
      n = all.t1;
    }
    most = std::max(most, n);
  }
  // Splits per KV head: enough tasks for every thread (4 per thread balance a busy machine), at least 128 keys each.
  int splits = std::max(1, (4 * n_threads + a.n_kv_heads - 1) / a.n_kv_heads);
  splits = int(std::min<long>({long(splits), std::max(1L, most / 128), long(AttentionScratch::kMaxSplits),
                               std::max(1L, long(AttentionScratch::kMaxTasks / a.n_kv_heads))}));
  const size_t pstride = size_t(Dv) + 2;
  const int n_tasks = a.n_kv_heads * splits;
  run_tasks(pool, n_tasks, [&](int task) {
    const int g = task / splits, sp = task % splits;
    const KeyRange* rg = sel ? sel->ranges + size_t(g) * sel->stride : &all;
    const int nr = sel ? sel->count[g] : 1;
    long total = 0;
    for (int i = 0; i < nr; ++i) total += rg[i].t1 - rg[i].t0;
    TileMemory& tm = tile_memory();
    tm.prepare(K, G, D, Dv);
    flash::Tile& t = tm.tile;
    init_tile(t, a, G);
    t.pos_first = a.pos0;
    const float* qrows[256];
    for (int h = 0; h < G; ++h) qrows[h] = a.q + size_t(g * G + h) * D;
    K.begin(t, qrows, a.scale);
    walk_keys(a, K, t, g, rg, nr, total * sp / splits, total * (sp + 1) / splits, a.pos0, s.stage(task));
    for (int h = 0; h < G; ++h) {
      float* p = s.partial() + (size_t(sp) * a.n_heads + g * G + h) * pstride;
      p[0] = t.m[h];
      p[1] = t.l[h];
      std::memcpy(p + 2, t.o + size_t(h) * Dv, size_t(Dv) * 4);
    }
  });
  const float* parts[AttentionScratch::kMaxSplits];
  for (int h = 0; h < a.n_heads; ++h) {
    for (int sp = 0; sp < splits; ++sp) parts[sp] = s.partial() + (size_t(sp) * a.n_heads + h) * pstride;
    merge_partials(parts, splits, Dv, a.out + size_t(h) * Dv);
  }
}

void prefill(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads, const flash::Kernels& K) {
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, Dv = a.head_dim_v;
  // Tiles of TQ queries: about 128 rows (query, head) per work item, so that each packed chunk of keys serves
  // enough rows to amortize its packing; fewer when the prompt is short, to keep every thread busy.
  int TQ = std::max(1, 128 / G);
  while (TQ > 1 && a.n_kv_heads * ((a.n_q + TQ - 1) / TQ) < 2 * n_threads) TQ = (TQ + 1) / 2;
  const int n_tiles = (a.n_q + TQ - 1) / TQ;
  const int n_items = n_tiles * a.n_kv_heads;
  const int T = std::min(n_items, AttentionScratch::kMaxTasks);
  const KeyRange all{0, a.pos0 + a.n_q};
  // Items are dealt to T task slots (each owns a disk-stage buffer), latest tiles (the most keys) first.
  run_tasks(pool, T, [&](int task) {
    TileMemory& tm = tile_memory();
    tm.prepare(K, TQ * G, D, Dv);
    flash::Tile& t = tm.tile;
    for (int item = task; item < n_items; item += T) {
      const int tile = n_tiles - 1 - item / a.n_kv_heads, g = item % a.n_kv_heads;
      const int q0 = tile * TQ, nq = std::min(TQ, a.n_q - q0);
      init_tile(t, a, nq * G);
      t.pos_first = a.pos0 + q0;
      const float* qrows[1024];
      float* orows[1024];
      for (int qi = 0; qi < nq; ++qi)
        for (int h = 0; h < G; ++h) {
          qrows[qi * G + h] = a.q + size_t(q0 + qi) * a.n_heads * D + size_t(g * G + h) * D;
          orows[qi * G + h] = a.out + size_t(q0 + qi) * a.n_heads * Dv + size_t(g * G + h) * Dv;
        }
      K.begin(t, qrows, a.scale);
      const int last = a.pos0 + q0 + nq - 1;
      walk_keys(a, K, t, g, &all, 1, 0, last + 1, last, s.stage(task));
      for (int r = 0; r < nq * G; ++r) {
        const float inv = 1.0f / t.l[r];
        const float* o = t.o + size_t(r) * Dv;
        for (int i = 0; i < Dv; ++i) orows[r][i] = o[i] * inv;
      }
    }
  });
}

}  // namespace

bool flash_supported(int head_dim, int head_dim_v) {
  return flash_isa() != FlashIsa::None && size_ok(head_dim) && size_ok(head_dim_v);
}

bool flash_attention(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads,
                     const KeySelection* sel, FlashIsa isa) {
  const flash::Kernels* K = kernels_for(isa);
  if (!K || !size_ok(a.head_dim) || !size_ok(a.head_dim_v) || a.n_q < 1) return false;
  // Rows of a work item: at most 128 (prefill tiles) or G (decode); task slots: one per KV head at least.
  if (a.n_heads / a.n_kv_heads > 256 || a.n_kv_heads > AttentionScratch::kMaxTasks) return false;
  if (a.n_q == 1) decode(a, s, pool, n_threads, sel, *K);
  else prefill(a, s, pool, n_threads, *K);
  return true;
}

void attention_reference(const AttentionArgs& a, const KeySelection* sel) {
  const KVCache& kv = *a.kv;
  const KVLayout& L = kv.layout();
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, Dv = a.head_dim_v;
  constexpr int BT = KVCache::kBlockTokens;
  std::vector<uint8_t> stage(L.k_head_bytes + L.v_head_bytes);
  std::vector<float> kr(static_cast<size_t>(D)), vr(static_cast<size_t>(Dv));
  std::vector<double> sc, acc(static_cast<size_t>(Dv));
  std::vector<int> keys;
  for (int i = 0; i < a.n_q; ++i)
    for (int g = 0; g < a.n_kv_heads; ++g) {
      keys.clear();
      if (sel && a.n_q == 1) {
        for (int r = 0; r < sel->count[g]; ++r) {
          const KeyRange& R = sel->ranges[size_t(g) * sel->stride + r];
          for (int t = R.t0; t < R.t1; ++t) keys.push_back(t);
        }
      } else {
        for (int t = 0; t <= a.pos0 + i; ++t) keys.push_back(t);
      }
      for (int h = 0; h < G; ++h) {
        const float* q = a.q + size_t(i) * a.n_heads * D + size_t(g * G + h) * D;
        sc.assign(keys.size(), 0.0);
        double mx = -1e300;
        int kblock = -1, vblock = -1;
        const uint8_t *kbase = nullptr, *vbase = nullptr;
        for (size_t j = 0; j < keys.size(); ++j) {
          const int t = keys[j];
          if (t / BT != kblock) {  // a disk page is staged once per run of its keys
            kblock = t / BT;
            kbase = kv.k_head(a.layer, kblock, g, stage.data());
          }
          kv_decode_row(L.type, kbase + size_t(t % BT) * L.k_row_bytes, D, kr.data());
          double d = 0;
          for (int c = 0; c < D; ++c) d += double(q[c]) * kr[size_t(c)];
          sc[j] = d * a.scale;
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (size_t j = 0; j < keys.size(); ++j) {
          const int t = keys[j];
          const double w = std::exp(sc[j] - mx);
          sum += w;
          if (t / BT != vblock) {
            vblock = t / BT;
            vbase = kv.v_head(a.layer, vblock, g, stage.data() + L.k_head_bytes);
          }
          kv_decode_row(L.type, vbase + size_t(t % BT) * L.v_row_bytes, Dv, vr.data());
          for (int c = 0; c < Dv; ++c) acc[size_t(c)] += w * vr[size_t(c)];
        }
        float* out = a.out + size_t(i) * a.n_heads * Dv + size_t(g * G + h) * Dv;
        for (int c = 0; c < Dv; ++c) out[c] = sum > 0 ? float(acc[size_t(c)] / sum) : 0.0f;
      }
    }
}

}  // namespace cj
