// The flash-attention driver: work items, key chunks over the pages, split-K merge; and the scalar reference.
#include "engine/cpu/attention_flash.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/cpu/attention_flash_kernels.h"
#include "engine/cpu/cpu_features.h"
#include "engine/cpu/forward_attention.h"
#include "engine/cpu/page_select.h"
#include "engine/cpu/thread_pool.h"
#include "engine/kv/attn_state.h"

namespace cj {

using flash::kChunk;
static_assert(flash::kRun == KVCache::kBlockTokens, "a decode run is one page of one KV head");

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
// set_flash_decode (see attention_flash.h); CJ_FLASH_DECODE=f32 / =packed choose for the process.
std::atomic<int> g_decode{[] {
  const char* e = std::getenv("CJ_FLASH_DECODE");
  const std::string v = e ? e : "";
  return int(v == "f32" ? FlashDecode::F32 : v == "packed" ? FlashDecode::Packed : FlashDecode::Auto);
}()};
}  // namespace

void set_flash_decode(FlashDecode d) { g_decode.store(int(d), std::memory_order_relaxed); }

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
  std::vector<float> acc;  // prefill rows over several segments: [M, 2 + Dv] merged states (attn_state.h)
  std::vector<float> one;  // one row's segment state
  // decode: also the f32 queries and one run's scores (decode_run).
  void prepare(const flash::Kernels& K, int M, int D, int Dv, bool decode = false) {
    auto up = [](size_t n) { return (n + 63) / 64 * 64; };
    const size_t sz[] = {up(K.qp_bytes(M, D)), up(size_t(M) * Dv * 4),
                         up(size_t(M) * 4),    up(size_t(M) * 4),
                         up(K.kt_bytes(D)),    up(K.vp_bytes(Dv)),
                         up(K.pb_bytes()),     decode ? up(size_t(M) * D * 4) : 0,
                         decode ? up(size_t(M) * flash::kSbStride * 4) : 0};
    constexpr int n = int(sizeof(sz) / sizeof(sz[0]));
    size_t total = 64;
    for (size_t x : sz) total += x;
    if (mem.size() < total) mem.assign(total, 0);
    uint8_t* p = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(mem.data()) + 63) / 64 * 64);
    void* ptr[n];
    for (int i = 0; i < n; ++i) {
      ptr[i] = sz[i] ? p : nullptr;
      p += sz[i];
    }
    tile.qp = ptr[0];
    tile.o = static_cast<float*>(ptr[1]);
    tile.m = static_cast<float*>(ptr[2]);
    tile.l = static_cast<float*>(ptr[3]);
    tile.kt = ptr[4];
    tile.vp = ptr[5];
    tile.pb = ptr[6];
    tile.qf = static_cast<float*>(ptr[7]);
    tile.sb = static_cast<float*>(ptr[8]);
  }
};

TileMemory& tile_memory() {
  thread_local TileMemory m;
  return m;
}

// Walks the keys with indices [k0, k1) of the concatenated ranges of one sequence's cache in pieces that stay inside
// one page, and inside one `step`-aligned run of it: f(k rows, v rows, first position, count) for each. Keys past
// `last` (the tile's last query position) are skipped. before_stage() is called before a page of the disk tier is
// staged into `stage` (the one buffer pieces of an earlier staged page point into).
template <typename F, typename S>
void walk_keys(const KVCache& kv, int layer, int g, const KeyRange* ranges, int n_ranges, long k0, long k1, int last,
               uint8_t* stage, int step, F&& f, S&& before_stage) {
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
      const int ce = std::min(te, (t / step + 1) * step);
      const int b = t / BT;
      if (b != cur_b) {
        if (kv.pool().tier(kv.page(layer, b)) != KVTier::Host) before_stage();
        kb = kv.k_head(layer, b, g, stage);
        vb = kv.v_head(layer, b, g, stage + L.k_head_bytes);
        cur_b = b;
      }
      const int off = t % BT;
      f(kb + size_t(off) * L.k_row_bytes, vb + size_t(off) * L.v_row_bytes, t, ce - t);
      t = ce;
    }
  }
}

void prefetch_rows(const uint8_t* p, size_t bytes) {
  for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(reinterpret_cast<const char*>(p) + i, 0, 3);
}

// Prefill: the keys in chunks of kChunk through K.chunk, prefetching the next chunk of the page while one is
// computed (past a few thousand keys the cache comes from DRAM, and a chunk's K and V rows are two separate 4-8 KB
// runs the hardware prefetcher does not run ahead on far enough).
void walk_chunks(const KVCache& kv, int layer, int g, const KeyRange* ranges, int n_ranges, long k0, long k1, int last,
                 uint8_t* stage, const flash::Kernels& K, flash::Tile& tile) {
  const KVLayout& L = kv.layout();
  constexpr int BT = KVCache::kBlockTokens;
  walk_keys(
      kv, layer, g, ranges, n_ranges, k0, k1, last, stage, kChunk,
      [&](const uint8_t* k, const uint8_t* v, int t, int n) {
        const int noff = t % BT + n;
        if (noff < BT && t + n <= last) {
          const int nn = std::min(kChunk, std::min(last + 1 - (t + n), BT - noff));
          prefetch_rows(k + size_t(n) * L.k_row_bytes, size_t(nn) * L.k_row_bytes);
          prefetch_rows(v + size_t(n) * L.v_row_bytes, size_t(nn) * L.v_row_bytes);
        }
        K.chunk(tile, k, v, t, n);
      },
      [] {});
}

// Decode: the keys in batches of pieces of at most kRun keys through K.decode_run. A batch is computed only once
// the next one has been collected, and collecting a piece prefetches its first rows: the scattered 32-key units of
// page selection (which no hardware prefetcher predicts) are on their way while the batch before is computed.
// Everything collected is computed before a disk page is staged (one stage buffer).
void walk_runs(const KVCache& kv, int layer, int g, const KeyRange* ranges, int n_ranges, long k0, long k1, int last,
               uint8_t* stage, const flash::Kernels& K, flash::Tile& tile) {
  const KVLayout& L = kv.layout();
  struct Batch {
    flash::Piece p[flash::kMaxPieces];
    int np = 0, keys = 0;
  };
  Batch b[2];
  int c = 0;             // the batch being collected; b[c ^ 1] is collected and waits when `waiting`
  bool waiting = false;
  auto run_waiting = [&] {
    if (waiting) K.decode_run(tile, b[c ^ 1].p, b[c ^ 1].np);
    waiting = false;
  };
  auto close = [&] {  // the collected batch waits; the one that waited is computed
    if (b[c].np == 0) return;
    run_waiting();
    waiting = true;
    c ^= 1;
    b[c].np = b[c].keys = 0;
  };
  walk_keys(
      kv, layer, g, ranges, n_ranges, k0, k1, last, stage, flash::kRun,
      [&](const uint8_t* k, const uint8_t* v, int, int n) {
        if (b[c].keys + n > flash::kRun || b[c].np == flash::kMaxPieces) close();
        prefetch_rows(k, size_t(std::min(n, 32)) * L.k_row_bytes);
        prefetch_rows(v, size_t(std::min(n, 16)) * L.v_row_bytes);
        b[c].p[b[c].np++] = flash::Piece{k, v, n};
        b[c].keys += n;
      },
      [&] {
        close();
        run_waiting();
      });
  close();
  run_waiting();
}

void init_tile(flash::Tile& t, const AttentionArgs& a, const KVCache& kv, int M) {
  const KVLayout& L = kv.layout();
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

// A decode work item: step di, KV head g, state slots [s0, s1) (exact: segments of kFlashSegment keys; selected:
// one split of the selected keys).
struct DecodeItem {
  int di, g, s0, s1;
};

// Per-call bookkeeping of a batch (grown on the first calls).
struct Plan {
  std::vector<int> prefill_group, prefill_first;  // prefill runs: group index, first item
  std::vector<int> decode_group;                  // decode steps: group index
  std::vector<const KeySelection*> sel;           // per decode step (nullptr: every key)
  std::vector<long> keys;                         // per decode step and KV head: keys attended
  std::vector<int> slot0, slots;                  // per decode step: first state slot, slots per KV head
  std::vector<DecodeItem> items;                  // decode work items
  std::vector<float> states;                      // [slots, G, 2 + Dv] decode states (attn_state.h)
};

Plan& plan_scratch() {
  thread_local Plan p;
  return p;
}

}  // namespace

bool flash_supported(int head_dim, int head_dim_v) {
  return flash_isa() != FlashIsa::None && size_ok(head_dim) && size_ok(head_dim_v);
}

// Work items: prefill (run, query tile, KV head), latest tiles first; then decode (step, KV head, key split). Task
// t of T (T <= kMaxTasks, each owning a disk-stage slot) takes items t, t + T, ...
bool flash_attention(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads,
                     const KeySelection* const* given, FlashIsa isa) {
  if (a.n_groups < 1) return false;
  // F32 KV is the precision choice: its keys and values are not rounded to bf16 (the f32 kernel serves them).
  if (isa == FlashIsa::Avx512Bf16)
    for (int i = 0; i < a.n_groups; ++i)
      if (a.groups[i].kv->layout().type == KVType::F32) isa = FlashIsa::Avx2;
  const flash::Kernels* Kp = kernels_for(isa);
  if (!Kp || !size_ok(a.head_dim) || !size_ok(a.head_dim_v)) return false;
  // Rows of a work item: at most 128 (prefill tiles) or G (decode); task slots: one per KV head at least.
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, Dv = a.head_dim_v, H = a.n_kv_heads;
  if (G > 256 || H > AttentionScratch::kMaxTasks) return false;
  const flash::Kernels& K = *Kp;
  const int SF = attn::state_floats(Dv);
  Plan& P = plan_scratch();
  P.prefill_group.clear();
  P.prefill_first.clear();
  P.decode_group.clear();
  int prefill_rows = 0;
  for (int i = 0; i < a.n_groups; ++i) {
    if (a.groups[i].n_q == 1) P.decode_group.push_back(i);
    else {
      P.prefill_group.push_back(i);
      prefill_rows += a.groups[i].n_q;
    }
  }
  const int n_decode = int(P.decode_group.size());
  // Decode: the keys each step attends (page selection may choose them), then the splits.
  P.sel.assign(size_t(n_decode), nullptr);
  P.keys.assign(size_t(n_decode) * H, 0);
  long most = 0;
  for (int di = 0; di < n_decode; ++di) {
    const AttentionGroup& grp = a.groups[P.decode_group[size_t(di)]];
    if (given) {
      P.sel[size_t(di)] = given[di];
    } else if (a.select) {
      SelectQuery sq;
      sq.kv = grp.kv;
      sq.layer = a.layer;
      sq.n_heads = a.n_heads;
      sq.n_kv_heads = H;
      sq.head_dim = D;
      sq.scale = a.scale;
      sq.pos = grp.pos0;
      sq.q = a.q + size_t(grp.row0) * a.n_heads * D;
      P.sel[size_t(di)] = select_keys(sq, *a.select, pool, n_threads, di);
    }
    for (int g = 0; g < H; ++g) {
      long n = grp.pos0 + 1;
      if (const KeySelection* sel = P.sel[size_t(di)]) {
        n = 0;
        for (int i = 0; i < sel->count[g]; ++i)
          n += sel->ranges[size_t(g) * sel->stride + i].t1 - sel->ranges[size_t(g) * sel->stride + i].t0;
      }
      P.keys[size_t(di) * H + g] = n;
      most = std::max(most, n);
    }
  }
  int splits = 1;
  if (n_decode > 0) {  // enough items for every thread (4 per thread balance a busy machine), >= 128 keys each
    splits = std::max(1, (4 * n_threads + n_decode * H - 1) / (n_decode * H));
    splits = int(std::min<long>({long(splits), std::max(1L, most / 128), long(AttentionScratch::kMaxSplits)}));
  }
  // Decode items and state slots. An exact step keeps one state per segment of kFlashSegment keys (its items take
  // runs of whole segments), merged in order below as a prefill row merges them: its bits do not depend on the
  // split. A selected step keeps one state per split.
  const FlashDecode mode = FlashDecode(g_decode.load(std::memory_order_relaxed));
  P.slot0.assign(size_t(n_decode), 0);
  P.slots.assign(size_t(n_decode), 0);
  P.items.clear();
  int n_slots = 0;
  for (int di = 0; di < n_decode; ++di) {
    const AttentionGroup& grp = a.groups[P.decode_group[size_t(di)]];
    const bool exact = P.sel[size_t(di)] == nullptr;
    const int ns = exact ? (grp.pos0 + kFlashSegment) / kFlashSegment : splits;
    const int ni = std::min(ns, splits);
    P.slot0[size_t(di)] = n_slots;
    P.slots[size_t(di)] = ns;
    n_slots += ns * H;
    for (int g = 0; g < H; ++g)
      for (int i = 0; i < ni; ++i) P.items.push_back(DecodeItem{di, g, ns * i / ni, ns * (i + 1) / ni});
  }
  if (P.states.size() < size_t(n_slots) * G * SF) P.states.resize(size_t(n_slots) * G * SF);
  // Prefill tiles of TQ queries: about 128 rows (query, head) per item, so that a packed chunk of keys serves
  // enough rows to amortize its packing; fewer when the batch is small, to keep every thread busy.
  int TQ = std::max(1, 128 / G);
  auto prefill_items = [&](int tq) {
    int n = 0;
    for (int gi : P.prefill_group) n += (a.groups[gi].n_q + tq - 1) / tq * H;
    return n;
  };
  while (TQ > 1 && prefill_rows > 0 && prefill_items(TQ) + int(P.items.size()) < 2 * n_threads) TQ = (TQ + 1) / 2;
  int n_prefill = 0;
  for (int gi : P.prefill_group) {
    P.prefill_first.push_back(n_prefill);
    n_prefill += (a.groups[gi].n_q + TQ - 1) / TQ * H;
  }
  const int n_items = n_prefill + int(P.items.size());
  auto run_item = [&](int item, int task) {
    TileMemory& tm = tile_memory();
    flash::Tile& t = tm.tile;
    uint8_t* stage = s.stage(task);
    if (item < n_prefill) {
      int pi = int(std::upper_bound(P.prefill_first.begin(), P.prefill_first.end(), item) - P.prefill_first.begin()) - 1;
      const AttentionGroup& grp = a.groups[P.prefill_group[size_t(pi)]];
      const int idx = item - P.prefill_first[size_t(pi)];
      const int n_tiles = (grp.n_q + TQ - 1) / TQ;
      const int tile = n_tiles - 1 - idx / H, g = idx % H;
      const int q0 = tile * TQ, nq = std::min(TQ, grp.n_q - q0);
      tm.prepare(K, TQ * G, D, Dv);
      init_tile(t, a, *grp.kv, nq * G);
      t.pos_first = grp.pos0 + q0;
      const float* qrows[1024];
      for (int qi = 0; qi < nq; ++qi)
        for (int h = 0; h < G; ++h)
          qrows[qi * G + h] = a.q + size_t(grp.row0 + q0 + qi) * a.n_heads * D + size_t(g * G + h) * D;
      const int last = grp.pos0 + q0 + nq - 1;
      const KeyRange all{0, last + 1};
      // Segment by segment from a fresh state, the states merged in order (the canonical arithmetic of a row).
      const int nseg = last / kFlashSegment + 1;
      if (nseg > 1) {
        tm.acc.resize(size_t(t.M) * SF);
        tm.one.resize(size_t(SF));
        for (int r = 0; r < t.M; ++r) tm.acc[size_t(r) * SF + 1] = 0;  // empty: the first merge copies
      }
      for (int sg = 0; sg < nseg; ++sg) {
        K.begin(t, qrows, a.scale);
        walk_chunks(*grp.kv, a.layer, g, &all, 1, long(sg) * kFlashSegment,
                    std::min<long>(last + 1, long(sg + 1) * kFlashSegment), last, stage, K, t);
        if (nseg == 1) break;
        for (int r = 0; r < t.M; ++r) {
          tm.one[0] = t.m[r];
          tm.one[1] = t.l[r];
          std::memcpy(tm.one.data() + 2, t.o + size_t(r) * Dv, size_t(Dv) * 4);
          attn::state_merge(tm.acc.data() + size_t(r) * SF, tm.one.data(), Dv);
        }
      }
      for (int qi = 0; qi < nq; ++qi)
        for (int h = 0; h < G; ++h) {
          const int r = qi * G + h;
          float* out = a.out + size_t(grp.row0 + q0 + qi) * a.n_heads * Dv + size_t(g * G + h) * Dv;
          if (nseg > 1) {
            attn::state_output(tm.acc.data() + size_t(r) * SF, out, Dv);
          } else {
            const float inv = t.l[r] > 0 ? 1.0f / t.l[r] : 0.0f;  // as attn::state_output
            for (int i = 0; i < Dv; ++i) out[i] = t.o[size_t(r) * Dv + i] * inv;
          }
        }
      return;
    }
    const DecodeItem& it = P.items[size_t(item - n_prefill)];
    const int di = it.di, g = it.g;
    const AttentionGroup& grp = a.groups[P.decode_group[size_t(di)]];
    const KeySelection* sel = P.sel[size_t(di)];
    const KeyRange all{0, grp.pos0 + 1};
    const KeyRange* rg = sel ? sel->ranges + size_t(g) * sel->stride : &all;
    const int nr = sel ? sel->count[g] : 1;
    const long total = P.keys[size_t(di) * H + g];
    const bool runs = K.decode_run && (mode == FlashDecode::F32 || (mode == FlashDecode::Auto && sel));
    tm.prepare(K, G, D, Dv, runs);
    init_tile(t, a, *grp.kv, G);
    t.pos_first = grp.pos0;
    const float* qrows[256];
    for (int h = 0; h < G; ++h) qrows[h] = a.q + size_t(grp.row0) * a.n_heads * D + size_t(g * G + h) * D;
    const int ns = P.slots[size_t(di)];
    for (int sp = it.s0; sp < it.s1; ++sp) {
      const long k0 = sel ? total * sp / ns : long(sp) * kFlashSegment;
      const long k1 = sel ? total * (sp + 1) / ns : std::min(total, long(sp + 1) * kFlashSegment);
      if (runs) {
        K.decode_begin(t, qrows, a.scale);
        walk_runs(*grp.kv, a.layer, g, rg, nr, k0, k1, grp.pos0, stage, K, t);
      } else {
        K.begin(t, qrows, a.scale);
        walk_chunks(*grp.kv, a.layer, g, rg, nr, k0, k1, grp.pos0, stage, K, t);
      }
      float* p = P.states.data() + (size_t(P.slot0[size_t(di)]) + size_t(g) * ns + size_t(sp)) * G * SF;
      for (int h = 0; h < G; ++h) {
        float* ph = p + size_t(h) * SF;
        ph[0] = t.m[h];
        ph[1] = t.l[h];
        std::memcpy(ph + 2, t.o + size_t(h) * Dv, size_t(Dv) * 4);
      }
    }
  };
  const int T = std::min(n_items, AttentionScratch::kMaxTasks);
  run_tasks(pool, T, [&](int task) {
    for (int item = task; item < n_items; item += T) run_item(item, task);
  });
  // Merge each decode step's states (log-sum-exp) in order into its output.
  for (int di = 0; di < n_decode; ++di) {
    const AttentionGroup& grp = a.groups[P.decode_group[size_t(di)]];
    const int ns = P.slots[size_t(di)];
    for (int g = 0; g < H; ++g) {
      float* st = P.states.data() + (size_t(P.slot0[size_t(di)]) + size_t(g) * ns) * G * SF;
      for (int h = 0; h < G; ++h) {
        float* acc = st + size_t(h) * SF;
        for (int sp = 1; sp < ns; ++sp) attn::state_merge(acc, st + (size_t(sp) * G + size_t(h)) * SF, Dv);
        attn::state_output(acc, a.out + size_t(grp.row0) * a.n_heads * Dv + size_t(g * G + h) * Dv, Dv);
      }
    }
  }
  return true;
}

void attention_reference(const AttentionArgs& a, const KeySelection* const* sel) {
  const int G = a.n_heads / a.n_kv_heads, D = a.head_dim, Dv = a.head_dim_v;
  constexpr int BT = KVCache::kBlockTokens;
  std::vector<float> kr(static_cast<size_t>(D)), vr(static_cast<size_t>(Dv));
  std::vector<double> sc, acc(static_cast<size_t>(Dv));
  std::vector<int> keys;
  int di = 0;
  for (int gi = 0; gi < a.n_groups; ++gi) {
    const AttentionGroup& grp = a.groups[gi];
    const KVCache& kv = *grp.kv;
    const KVLayout& L = kv.layout();
    std::vector<uint8_t> stage(L.k_head_bytes + L.v_head_bytes);
    const KeySelection* gs = (sel && grp.n_q == 1) ? sel[di] : nullptr;
    if (grp.n_q == 1) ++di;
    for (int i = 0; i < grp.n_q; ++i)
      for (int g = 0; g < a.n_kv_heads; ++g) {
        keys.clear();
        if (gs) {
          for (int r = 0; r < gs->count[g]; ++r) {
            const KeyRange& R = gs->ranges[size_t(g) * gs->stride + r];
            for (int t = R.t0; t < R.t1; ++t) keys.push_back(t);
          }
        } else {
          for (int t = 0; t <= grp.pos0 + i; ++t) keys.push_back(t);
        }
        for (int h = 0; h < G; ++h) {
          const float* q = a.q + size_t(grp.row0 + i) * a.n_heads * D + size_t(g * G + h) * D;
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
          float* out = a.out + size_t(grp.row0 + i) * a.n_heads * Dv + size_t(g * G + h) * Dv;
          for (int c = 0; c < Dv; ++c) out[c] = sum > 0 ? float(acc[size_t(c)] / sum) : 0.0f;
        }
      }
  }
}

}  // namespace cj
