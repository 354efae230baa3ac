// The flash-attention kernels (engine/attention_flash.h) against the scalar reference: prefill tiles and split-K
// decode, several lengths (inside one page, across pages, partial chunks), head layouts (MHA, GQA 4 and 7, head
// sizes 32/64/128), KV types (f32, f16, q8_0), thread counts, every instruction set the CPU has, selected key
// ranges, and pages on the disk tier. Inputs are fresh random numbers per case; the error measure is
// ||out - ref|| / ||ref|| over the whole output.
#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu/attention_flash.h"
#include "engine/cpu/cpu_features.h"
#include "engine/cpu/forward_attention.h"
#include "engine/cpu/thread_pool.h"
#include "engine_test_util.h"

namespace cj::test {
namespace {

struct Shape {
  int n_heads, n_kv_heads, head_dim;
};

ModelConfig config_of(const Shape& s) {
  ModelConfig c;
  c.n_layers = 1;
  c.n_heads = s.n_heads;
  c.n_kv_heads = s.n_kv_heads;
  c.head_dim = s.head_dim;
  c.head_dim_v = s.head_dim;
  c.n_embd = s.n_heads * s.head_dim;
  return c;
}

// Fills positions [0, n) of layer 0 with random keys and values (some keys larger, so that softmaxes are peaky).
void fill(KVCache& kv, const ModelConfig& c, int n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(c.kv_dim())), v(static_cast<size_t>(c.v_dim()));
  ASSERT_TRUE(kv.prepare(0, n).ok());
  for (int p = 0; p < n; ++p) {
    const float boost = (p % 37 == 5) ? 3.0f : 1.0f;
    for (float& x : k) x = nd(rng) * boost;
    for (float& x : v) x = nd(rng);
    kv.store(0, p, k.data(), v.data());
  }
  std::vector<int32_t> toks(static_cast<size_t>(n), 1);
  kv.commit(0, toks.data(), n);
}

double norm_err(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

std::vector<FlashIsa> isas() {
  std::vector<FlashIsa> v;
  const CpuFeatures& f = cpu_features();
  if (f.avx512 && f.avx512_bf16) v.push_back(FlashIsa::Avx512Bf16);
  if (f.avx2) v.push_back(FlashIsa::Avx2);
  return v;
}

// What a case runs through: every instruction set the CPU has; on AVX-512 BF16 also the previous decode path (64-key
// chunks packed to bf16, FlashDecode::Packed), which exact decode steps take by default.
struct Variant {
  FlashIsa isa;
  bool packed;
};
std::vector<Variant> variants() {
  std::vector<Variant> v;
  for (FlashIsa isa : isas()) {
    v.push_back({isa, false});
    if (isa == FlashIsa::Avx512Bf16) v.push_back({isa, true});
  }
  return v;
}

// bf16 inputs to the products (AVX-512 BF16 prefill tiles): ~3e-3 typical; the packed decode path reaches 1.6e-2
// over 9,200 q8_0 keys; f32 kernels (AVX2, and the AVX-512 decode kernel: f32 products straight from the f16 /
// q8_0 rows): rounding only, ~1.5e-6.
double tolerance(const Variant& v, bool decode) {
  if (v.isa != FlashIsa::Avx512Bf16) return 2e-5;
  if (!decode) return 1.5e-2;
  return v.packed ? 3e-2 : 2e-5;
}

struct Case {
  Shape shape;
  KVType type;
  int pos0, n_q, threads;
};

// Runs the case through every instruction set the CPU has; returns the normalized errors against the reference.
std::vector<double> run_case(const Case& cs, uint32_t seed, const KeySelection* sel = nullptr,
                             KVCache* given = nullptr) {
  const ModelConfig c = config_of(cs.shape);
  std::mt19937 rng(seed);
  std::unique_ptr<KVCache> own;
  KVCache* kv = given;
  if (!kv) {
    own = std::make_unique<KVCache>(c, cs.pos0 + cs.n_q, cs.type);
    kv = own.get();
    fill(*kv, c, cs.pos0 + cs.n_q, rng);
  }
  std::normal_distribution<float> nd(0.0f, 1.5f);
  std::vector<float> q(static_cast<size_t>(cs.n_q) * c.q_dim());
  for (float& x : q) x = nd(rng);
  std::vector<float> out(static_cast<size_t>(cs.n_q) * c.attn_out_dim(), NAN), ref(out.size(), 0.0f);
  AttentionGroup grp;
  grp.kv = kv;
  grp.pos0 = cs.pos0;
  grp.n_q = cs.n_q;
  AttentionArgs a;
  a.groups = &grp;
  a.n_groups = 1;
  a.layer = 0;
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.head_dim;
  a.head_dim_v = c.head_dim_v;
  a.scale = 1.0f / std::sqrt(float(c.head_dim));
  a.q = q.data();
  a.out = out.data();
  AttentionScratch s;
  s.reserve(c.n_heads, c.n_kv_heads, c.head_dim_v, kv->layout().k_head_bytes + kv->layout().v_head_bytes);
  std::unique_ptr<ThreadPool> pool = cs.threads > 1 ? std::make_unique<ThreadPool>(cs.threads) : nullptr;
  a.out = ref.data();
  attention_reference(a, sel ? &sel : nullptr);
  std::vector<double> errs;
  for (const Variant& v : variants()) {
    std::fill(out.begin(), out.end(), NAN);
    a.out = out.data();
    set_flash_decode(v.packed ? FlashDecode::Packed : FlashDecode::F32);
    EXPECT_TRUE(flash_attention(a, s, pool.get(), cs.threads, sel ? &sel : nullptr, v.isa));
    set_flash_decode(FlashDecode::Auto);  // the default
    for (float x : out) EXPECT_TRUE(std::isfinite(x));
    errs.push_back(norm_err(out, ref));
  }
  return errs;
}

std::string describe(const Case& c, const Variant& v);

void expect_close(const Case& c, const std::vector<double>& errs, const std::string& what = "") {
  for (size_t i = 0; i < errs.size(); ++i)
    EXPECT_LE(errs[i], tolerance(variants()[i], c.n_q == 1)) << describe(c, variants()[i]) << what;
}

std::string describe(const Case& c, const Variant& v) {
  return std::string(flash_isa_name(v.isa)) + (v.packed ? " (packed decode)" : "") + " heads " + std::to_string(c.shape.n_heads) + "/" +
         std::to_string(c.shape.n_kv_heads) + " d" + std::to_string(c.shape.head_dim) + " " + kv_type_name(c.type) +
         " pos0 " + std::to_string(c.pos0) + " n_q " + std::to_string(c.n_q) + " threads " + std::to_string(c.threads);
}

const Shape kShapes[] = {{4, 4, 32}, {14, 2, 64}, {8, 2, 128}, {6, 3, 64}, {4, 2, 32}};
const KVType kTypes[] = {KVType::F32, KVType::F16, KVType::Q8_0};

TEST(FlashAttention, PrefillMatchesReference) {
  if (isas().empty()) GTEST_SKIP() << "no AVX2";
  // (pos0, n_q): one chunk, partial chunks, across a page, a chunk after a long context.
  const int spans[][2] = {{0, 2}, {0, 37}, {0, 64}, {5, 130}, {200, 100}, {300, 257}, {1000, 48}};
  uint32_t seed = 1;
  std::vector<double> worst(variants().size(), 0.0);
  for (const Shape& sh : kShapes)
    for (KVType t : kTypes)
      for (const auto& sp : spans) {
        const Case c{sh, t, sp[0], sp[1], (seed % 3) ? 2 : 1};
        const std::vector<double> e = run_case(c, seed++);
        for (size_t i = 0; i < e.size(); ++i) worst[i] = std::max(worst[i], e[i]);
        expect_close(c, e);
      }
  for (size_t i = 0; i < worst.size(); ++i)
    if (!variants()[i].packed)
      std::printf("prefill %s: worst normalized error %.3g\n", flash_isa_name(variants()[i].isa), worst[i]);
}

TEST(FlashAttention, DecodeMatchesReference) {
  if (isas().empty()) GTEST_SKIP() << "no AVX2";
  // Inside one run of 16 keys, partial runs, page edges, several pages and splits, 36 pages.
  const int positions[] = {0, 1, 15, 16, 63, 64, 255, 256, 777, 3000, 9200};
  uint32_t seed = 100;
  std::vector<std::vector<double>> worst(std::size(kTypes), std::vector<double>(variants().size(), 0.0));
  for (const Shape& sh : kShapes)
    for (size_t ti = 0; ti < std::size(kTypes); ++ti)
      for (int p : positions)
        for (int threads : {1, 2, 3}) {
          if (p > 3000 && threads != 2) continue;  // the long case once per shape and type
          const Case c{sh, kTypes[ti], p, 1, threads};
          const std::vector<double> e = run_case(c, seed++);
          for (size_t i = 0; i < e.size(); ++i) worst[ti][i] = std::max(worst[ti][i], e[i]);
          expect_close(c, e);
        }
  for (size_t ti = 0; ti < std::size(kTypes); ++ti)
    for (size_t i = 0; i < variants().size(); ++i)
      std::printf("decode %s %s%s: worst normalized error %.3g\n", kv_type_name(kTypes[ti]),
                  flash_isa_name(variants()[i].isa), variants()[i].packed ? " (packed)" : "", worst[ti][i]);
}

TEST(FlashAttention, SelectedRangesMatchReference) {
  if (isas().empty()) GTEST_SKIP() << "no AVX2";
  // Per KV head its own ranges: odd boundaries, single keys, a range inside one chunk, the last key.
  const int n = 2000;
  std::vector<KeyRange> rg = {{0, 32},     {97, 98},    {256, 512}, {700, 733}, {1999, 2001},  // head 0
                              {0, 1},      {64, 1000},  {1500, 1600}, {2000, 2001}, {0, 0},     // head 1
                              {1024, 1056}, {0, 0},     {0, 0},       {0, 0},      {0, 0}};     // head 2
  const int count[] = {5, 4, 1};
  KeySelection sel{rg.data(), count, 5};
  uint32_t seed = 500;
  for (KVType t : kTypes)
    for (int threads : {1, 2}) {
      const Case c{{6, 3, 64}, t, n, 1, threads};
      expect_close(c, run_case(c, seed++, &sel), " selected");
    }
}

// Many short ranges (more than a decode call takes pieces, partial groups of 16 followed by other pieces, units
// of 32 keys as page selection makes them) over several pages.
TEST(FlashAttention, ManyShortRangesMatchReference) {
  if (isas().empty()) GTEST_SKIP() << "no AVX2";
  const int n = 5000;
  std::vector<KeyRange> rg;
  for (int t = 3, i = 0; t < n - 40; t += 7 + (i % 5) * 3, ++i) rg.push_back({t, t + 1 + (i % 3) + (i % 17 == 0 ? 4 : 0)});  // disjoint: length <= 7 <= step
  const int per = int(rg.size());
  ASSERT_GT(per, 2 * 64);
  for (int t = 0; t + 32 <= n; t += 32 * 5) rg.push_back({t, t + 32});  // head 1: 32-key units
  rg.resize(size_t(2 * per), KeyRange{0, 0});
  const int count[] = {per, int((n - 32) / 160 + 1)};
  KeySelection sel{rg.data(), count, per};
  uint32_t seed = 900;
  for (KVType t : kTypes)
    for (int threads : {1, 2}) {
      const Case c{{14, 2, 64}, t, n, 1, threads};
      expect_close(c, run_case(c, seed++, &sel), " many ranges");
    }
}

TEST(FlashAttention, DiskPagesAreStaged) {
  if (isas().empty()) GTEST_SKIP() << "no AVX2";
  const Shape sh{14, 2, 64};
  const ModelConfig c = config_of(sh);
  KVCacheOptions o;
  o.type = KVType::F16;
  o.n_ctx = 4096;
  o.pool.host_bytes = 7 * KVLayout::make(c, KVType::F16)->page_bytes;  // sinks + recent window + 2
  o.pool.disk_path = temp_path("flash_spill");
  auto kv = KVCache::create(c, o);
  ASSERT_TRUE(kv.ok()) << kv.error();
  std::mt19937 rng(9);
  const int n = 16 * 256;
  // Fill block by block, as a prefill does, so that old blocks are demoted.
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(c.kv_dim())), v(static_cast<size_t>(c.v_dim()));
  std::vector<int32_t> toks(256, 3);
  for (int b = 0; b < 15; ++b) {
    ASSERT_TRUE((*kv)->prepare(b * 256, 256).ok());
    for (int p = b * 256; p < (b + 1) * 256; ++p) {
      for (float& x : k) x = nd(rng);
      for (float& x : v) x = nd(rng);
      (*kv)->store(0, p, k.data(), v.data());
    }
    (*kv)->commit(b * 256, toks.data(), 256);
  }
  ASSERT_GT((*kv)->pool().stats().disk_used, 0u);
  ASSERT_TRUE((*kv)->prepare(15 * 256, 200).ok());
  for (int p = 15 * 256; p < 15 * 256 + 200; ++p) {
    for (float& x : k) x = nd(rng);
    for (float& x : v) x = nd(rng);
    (*kv)->store(0, p, k.data(), v.data());
  }
  (*kv)->commit(15 * 256, toks.data(), 200);
  (void)n;
  // Prefill of the last 200 positions and a decode step at the end, both reading the disk pages.
  const Case pre{sh, KVType::F16, 15 * 256, 200, 2};
  expect_close(pre, run_case(pre, 1, nullptr, kv->get()));
  const Case dec{sh, KVType::F16, 15 * 256 + 199, 1, 2};
  expect_close(dec, run_case(dec, 2, nullptr, kv->get()));
  EXPECT_GT((*kv)->pool().stats().disk_reads, 0u);
}

// One batch of several sequences (engine batches): a prefill run, two decode steps at different depths (one of
// them with selected keys) and a second prefill run, over separate caches, against the reference.
TEST(FlashAttention, BatchOfSequencesMatchesReference) {
  if (isas().empty()) GTEST_SKIP() << "no AVX2";
  const Shape sh{14, 2, 64};
  const ModelConfig c = config_of(sh);
  std::mt19937 rng(77);
  const int lens[4] = {300, 1500, 40, 700};  // tokens in each cache (the run's queries are the last ones)
  const int nq[4] = {60, 1, 40, 1};
  std::vector<std::unique_ptr<KVCache>> kvs;
  std::vector<AttentionGroup> groups(4);
  int rows = 0;
  for (int i = 0; i < 4; ++i) {
    kvs.push_back(std::make_unique<KVCache>(c, lens[i], KVType::F16));
    fill(*kvs.back(), c, lens[i], rng);
    groups[size_t(i)] = AttentionGroup{kvs.back().get(), lens[i] - nq[i], nq[i], rows};
    rows += nq[i];
  }
  std::normal_distribution<float> nd(0.0f, 1.5f);
  std::vector<float> q(size_t(rows) * c.q_dim());
  for (float& x : q) x = nd(rng);
  std::vector<float> out(size_t(rows) * c.attn_out_dim()), ref(out.size());
  // The selected step (group 3) has 700 keys: per KV head its own ranges inside them, the last key included.
  std::vector<KeyRange> rg = {{0, 64}, {300, 420}, {650, 700}, {0, 32}, {400, 700}, {0, 0}};
  const int count[] = {3, 2};
  KeySelection one{rg.data(), count, 3};
  const KeySelection* sels[2] = {nullptr, &one};  // the decode steps in batch order: exact, then selected
  AttentionArgs a;
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = a.head_dim_v = c.head_dim;
  a.scale = 0.125f;
  a.groups = groups.data();
  a.n_groups = 4;
  a.q = q.data();
  a.out = ref.data();
  attention_reference(a, sels);
  AttentionScratch s;
  s.reserve(c.n_heads, c.n_kv_heads, c.head_dim_v, kvs[0]->layout().k_head_bytes + kvs[0]->layout().v_head_bytes, 4);
  ThreadPool pool(2);
  for (size_t i = 0; i < isas().size(); ++i) {
    a.out = out.data();
    ASSERT_TRUE(flash_attention(a, s, &pool, 2, sels, isas()[i]));
    EXPECT_LE(norm_err(out, ref), tolerance(Variant{isas()[i], false}, false)) << flash_isa_name(isas()[i]);
  }
}

}  // namespace
}  // namespace cj::test
