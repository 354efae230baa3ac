// Attention kernels at long contexts on the Qwen2.5-0.5B head layout (14 query heads, 2 KV heads, head size 64):
//   BM_attn_prefill/<isa>/<type>/<pos0>: one 512-query prefill chunk after pos0 cached tokens (the chunk a long
//     prompt's prefill runs at that depth), GFLOP/s of the score and value products (causal: 4·D·keys per row);
//   BM_attn_decode/<isa>/<type>/<depth>: one decode step over depth keys, GB/s of keys and values read.
//   BM_attn_decode_select/<isa>/<depth>: the same step with page selection at 1/8 (f16 KV; scoring the unit
//     summaries, choosing the units, attending them); GB/s of the bytes the step reads (keys, values, summaries).
// isa: 0 = the flash kernel on the best instruction set with decode through the f32 decode kernel (what a selected
// step runs by default), 1 = flash on AVX2, 2 = the previous kernel (engine/forward_attention.cpp, CJ_FLASH=off
// path), 3 = flash on the best instruction set with decode through the tile arithmetic (64-key chunks packed to
// bf16, FlashDecode::Packed: what an exact step runs by default). Threads: CJ_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "engine/cpu/attention_flash.h"
#include "engine/cpu/forward_attention.h"
#include "engine/cpu/page_select.h"
#include "engine/cpu/thread_pool.h"
#include "engine/kv/kv_select.h"

namespace {

using namespace cj;

int threads() {
  const char* e = std::getenv("CJ_BENCH_THREADS");
  return e ? std::max(1, std::atoi(e)) : 2;
}

struct Setup {
  ModelConfig c;
  std::unique_ptr<KVCache> kv;
  AttentionScratch s;
  std::vector<float> q, out;
  std::unique_ptr<ThreadPool> pool;
  AttentionGroup grp;
  Setup(KVType type, int n_tokens, int n_q, bool summaries = false) {
    c.n_layers = 1;
    c.n_heads = 14;
    c.n_kv_heads = 2;
    c.head_dim = c.head_dim_v = 64;
    c.n_embd = 896;
    if (summaries) {
      KVCacheOptions o;
      o.type = type;
      o.n_ctx = n_tokens;
      o.summaries = true;
      auto r = KVCache::create(c, o);
      if (!r.ok()) std::abort();
      kv = std::move(*r);
    } else {
      kv = std::make_unique<KVCache>(c, n_tokens, type);
    }
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> k(size_t(c.kv_dim())), v(size_t(c.v_dim()));
    if (!kv->prepare(0, n_tokens).ok()) std::abort();
    for (int p = 0; p < n_tokens; ++p) {
      for (float& x : k) x = nd(rng);
      for (float& x : v) x = nd(rng);
      kv->store(0, p, k.data(), v.data());
    }
    std::vector<int32_t> toks(size_t(n_tokens), 1);
    kv->commit(0, toks.data(), n_tokens);
    q.resize(size_t(n_q) * c.q_dim());
    for (float& x : q) x = nd(rng);
    out.resize(size_t(n_q) * c.attn_out_dim());
    s.reserve(c.n_heads, c.n_kv_heads, c.head_dim_v, kv->layout().k_head_bytes + kv->layout().v_head_bytes);
    if (threads() > 1) pool = std::make_unique<ThreadPool>(threads());
  }
  AttentionArgs args(int pos0, int n_q) {
    grp = AttentionGroup{kv.get(), pos0, n_q, 0};
    AttentionArgs a;
    a.groups = &grp;
    a.n_groups = 1;
    a.n_heads = c.n_heads;
    a.n_kv_heads = c.n_kv_heads;
    a.head_dim = c.head_dim;
    a.head_dim_v = c.head_dim_v;
    a.scale = 0.125f;
    a.q = q.data();
    a.out = out.data();
    return a;
  }
  void run(const AttentionArgs& a, int isa) {
    if (isa == 2) {  // the previous kernel: attention() with the flash kernel turned off
      const FlashIsa was = flash_isa();
      set_flash_isa(FlashIsa::None);
      attention(a, s, pool.get(), threads());
      set_flash_isa(was);
    } else if (isa == 3) {
      set_flash_decode(FlashDecode::Packed);
      flash_attention(a, s, pool.get(), threads(), nullptr, flash_isa());
      set_flash_decode(FlashDecode::Auto);
    } else {
      set_flash_decode(FlashDecode::F32);  // the f32 decode kernel (selected steps' default; exact: opt-in)
      flash_attention(a, s, pool.get(), threads(), nullptr, isa == 0 ? flash_isa() : FlashIsa::Avx2);
      set_flash_decode(FlashDecode::Auto);
    }
  }
};

KVType type_of(int64_t t) { return t == 0 ? KVType::F16 : KVType::Q8_0; }

void BM_attn_prefill(benchmark::State& state) {
  const int isa = int(state.range(0)), pos0 = int(state.range(2)), nq = 512;
  if (isa == 0 && flash_isa() == FlashIsa::None) return state.SkipWithError("no flash kernel on this CPU");
  Setup st(type_of(state.range(1)), pos0 + nq, nq);
  const AttentionArgs a = st.args(pos0, nq);
  for (auto _ : state) st.run(a, isa);
  const double flops = 4.0 * 64 * 14 * (double(pos0) * nq + double(nq) * (nq + 1) / 2);
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_attn_decode(benchmark::State& state) {
  const int isa = int(state.range(0)), depth = int(state.range(2));
  if ((isa == 0 || isa == 3) && flash_isa() == FlashIsa::None)
    return state.SkipWithError("no flash kernel on this CPU");
  Setup st(type_of(state.range(1)), depth, 1);
  const AttentionArgs a = st.args(depth - 1, 1);
  for (auto _ : state) st.run(a, isa);
  const double bytes = double(depth) * 2 * double(st.kv->layout().k_row_bytes + st.kv->layout().v_row_bytes);
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_attn_decode_select(benchmark::State& state) {
  const int isa = int(state.range(0)), depth = int(state.range(1));
  if ((isa == 0 || isa == 3) && flash_isa() == FlashIsa::None)
    return state.SkipWithError("no flash kernel on this CPU");
  Setup st(KVType::F16, depth, 1, true);
  AttentionArgs a = st.args(depth - 1, 1);
  KVSelectOptions o;
  if (!parse_kv_select("1/8", &o).ok()) std::abort();
  a.select = &o;
  for (auto _ : state) st.run(a, isa);
  const double bytes = double(kv_bytes_read_per_token(*st.kv, o, depth));
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The selection alone (scoring every unit's summary with the query, choosing the units): its share of a selected step.
void BM_select_keys(benchmark::State& state) {
  const int depth = int(state.range(0));
  Setup st(KVType::F16, depth, 1, true);
  KVSelectOptions o;
  if (!parse_kv_select("1/8", &o).ok()) std::abort();
  SelectQuery sq;
  sq.kv = st.kv.get();
  sq.n_heads = st.c.n_heads;
  sq.n_kv_heads = st.c.n_kv_heads;
  sq.head_dim = st.c.head_dim;
  sq.scale = 0.125f;
  sq.pos = depth - 1;
  sq.q = st.q.data();
  for (auto _ : state) benchmark::DoNotOptimize(select_keys(sq, o, st.pool.get(), threads()));
}

BENCHMARK(BM_attn_prefill)
    ->ArgsProduct({{0, 1, 2}, {0}, {0, 7680, 32256}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_attn_decode)
    ->ArgsProduct({{0, 3, 1, 2}, {0, 1}, {2048, 8192, 32768, 131072}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_select_keys)->Arg(131072)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_attn_decode_select)->ArgsProduct({{0, 3}, {32768, 131072}})->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
