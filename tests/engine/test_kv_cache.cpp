// The paged, tiered KV cache (engine/kv_pool.h, engine/kv_cache.h): placement on host or disk does not change a
// single logit, the prefix cache and copy-on-write give the same logits as a fresh run, page reference counts,
// LRU demotion order, budget accounting and errors, q8_0 storage against f16.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/engine.h"
#include "engine/cpu/attention_flash.h"
#include "engine/cpu/forward_attention.h"
#include "engine/kv/kv_cache.h"
#include "engine/kv/kv_pool.h"
#include "engine/kv/kv_session.h"
#include <fstream>
#include "engine/model/model.h"
#include "engine_test_util.h"

namespace cj {
namespace {

using test::make_tiny;
using test::some_tokens;
using test::temp_path;

MakeModelSpec tiny_spec() {
  MakeModelSpec s;
  s.arch = Arch::Qwen2;
  s.n_layers = 2;
  s.n_embd = 64;
  s.n_heads = 2;
  s.n_kv_heads = 1;
  s.n_ff = 128;
  s.n_vocab = 256;
  return s;  // head_dim 32: q8_0 works
}

std::vector<float> run(Sequence& be, const std::vector<TokenId>& t, int chunk) {
  const int V = be.model().config().n_vocab;
  std::vector<float> out(t.size() * size_t(V));
  for (size_t i = 0; i < t.size(); i += size_t(chunk)) {
    const int n = int(std::min(t.size() - i, size_t(chunk)));
    Status s = be.eval(t.data() + i, n, out.data() + i * V, n);
    EXPECT_TRUE(s.ok()) << s.error();
  }
  return out;
}

TEST(KvPaged, HostAndDiskPlacementGiveIdenticalLogits) {
  auto m = Model::load(make_tiny("kv_place", tiny_spec()));
  ASSERT_TRUE(m.ok());
  const auto toks = some_tokens(3100, 256);
  EngineOptions o;
  o.n_ctx = 4096;
  o.n_threads = 2;
  auto host = open_sequence(**m, o);
  ASSERT_TRUE(host.ok());
  // Room for 6 blocks of both layers on the host (1 sink + 4 recent + 1): the middle blocks spill to disk.
  const size_t page = (*host)->kv_cache().layout().page_bytes;
  o.kv_host_bytes = 12 * page + page / 2;
  o.kv_disk = temp_path("kv_place.spill");
  auto tiered = open_sequence(**m, o);
  ASSERT_TRUE(tiered.ok()) << tiered.error();
  // Prefill in chunks, then decode token by token over the tail.
  std::vector<TokenId> head(toks.begin(), toks.begin() + 3000), tail(toks.begin() + 3000, toks.end());
  auto a = run(**host, head, 128), b = run(**tiered, head, 128);
  auto a2 = run(**host, tail, 1), b2 = run(**tiered, tail, 1);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4));
  EXPECT_EQ(0, std::memcmp(a2.data(), b2.data(), a2.size() * 4));
  const KVPoolStats s = (*tiered)->kv_cache().pool().stats();
  EXPECT_GT(s.demoted, 0u);
  EXPECT_GT(s.disk_reads, 0u);
  EXPECT_LE(s.host_peak, s.host_budget);
  EXPECT_EQ(s.host_capacity, 12 * page);
  EXPECT_EQ((*tiered)->kv_cache().tier(0, 0), KVTier::Host);  // the sink stays hot
  EXPECT_EQ((*tiered)->kv_cache().tier(0, 2), KVTier::Disk);  // a cold middle block went to disk
  EXPECT_EQ((*tiered)->kv_cache().tier(1, 11), KVTier::Host);  // the recent window stays hot
}

TEST(KvPaged, PrefixCacheAndCopyOnWriteEqualAFreshRun) {
  auto m = Model::load(make_tiny("kv_prefix", tiny_spec()));
  ASSERT_TRUE(m.ok());
  const int V = 256;
  EngineOptions o;
  o.n_ctx = 1024;
  o.kv_host_bytes = 0;
  auto be = open_sequence(**m, o);
  ASSERT_TRUE(be.ok());
  const auto x = some_tokens(700, V, 1), z = some_tokens(300, V, 2);
  run(**be, x, 256);
  // Another text: nothing in common, the cache is cleared but x's two full blocks stay in the prefix cache.
  EXPECT_EQ((*be)->reuse_prefix(z.data(), int(z.size())), 0);
  run(**be, z, 256);
  EXPECT_EQ((*be)->kv_cache().pool().stats().cached_blocks, 3);  // x: 2, z: 1
  // x's first 600 tokens + new ones: 512 come back from the prefix cache.
  std::vector<TokenId> y(x.begin(), x.begin() + 600);
  for (TokenId t : some_tokens(100, V, 3)) y.push_back(t);
  EXPECT_EQ((*be)->reuse_prefix(y.data(), int(y.size())), 512);
  std::vector<TokenId> rest(y.begin() + 512, y.end());
  auto warm = run(**be, rest, 64);
  auto fresh_be = open_sequence(**m, o);
  auto fresh = run(**fresh_be, y, 256);
  EXPECT_EQ(0, std::memcmp(warm.data(), fresh.data() + 512 * size_t(V), warm.size() * 4));
  // Truncate into the middle of a cached block and write: copy-on-write keeps the cached block intact.
  (*be)->truncate(300);
  std::vector<TokenId> w(y.begin(), y.begin() + 300);
  for (TokenId t : some_tokens(50, V, 4)) w.push_back(t);
  std::vector<TokenId> wrest(w.begin() + 300, w.end());
  auto w1 = run(**be, wrest, 50);
  auto fresh_w = run(**open_sequence(**m, o), w, 350);
  EXPECT_EQ(0, std::memcmp(w1.data(), fresh_w.data() + 300 * size_t(V), w1.size() * 4));
  EXPECT_EQ((*be)->reuse_prefix(y.data(), int(y.size())), 512);  // block 1 of x is still cached, unchanged
  auto again = run(**be, rest, 64);
  EXPECT_EQ(0, std::memcmp(again.data(), warm.data(), warm.size() * 4));
  // Asking for the whole cached text leaves one token to evaluate.
  std::vector<TokenId> x512(x.begin(), x.begin() + 512);
  EXPECT_EQ((*be)->reuse_prefix(x512.data(), 512), 511);
}

// Latent attention (deepseek2) stores one row of kv_lora + rope values per token and layer in the same pool: disk
// placement and the prefix cache work on it as on any model.
TEST(KvPaged, LatentCacheTiersAndPrefixReuse) {
  MakeModelSpec s;
  s.arch = Arch::Deepseek2;
  s.n_layers = 2;
  s.n_dense_lead = 1;
  s.n_embd = 64;
  s.n_heads = 2;
  s.n_ff = 64;
  s.n_vocab = 256;
  s.n_expert = 4;
  s.n_expert_used = 2;
  s.n_ff_exp = 32;
  s.q_lora_rank = 32;
  s.kv_lora_rank = 32;
  s.qk_nope = 16;
  s.qk_rope = 8;
  s.v_head = 16;
  auto m = Model::load(make_tiny("kv_latent", s));
  ASSERT_TRUE(m.ok()) << m.error();
  const auto toks = some_tokens(3100, 256, 8);
  EngineOptions o;
  o.n_ctx = 4096;
  o.n_threads = 2;
  auto host = open_sequence(**m, o);
  ASSERT_TRUE(host.ok());
  const size_t page = (*host)->kv_cache().layout().page_bytes;
  EXPECT_EQ(page, size_t(256) * (32 + 8) * 2);  // f16 rows of kv_lora + rope, no V section
  o.kv_host_bytes = 12 * page + page / 2;  // 6 blocks of both layers: the middle of 13 spill to disk
  o.kv_disk = temp_path("kv_latent.spill");
  auto tiered = open_sequence(**m, o);
  ASSERT_TRUE(tiered.ok()) << tiered.error();
  std::vector<TokenId> head(toks.begin(), toks.begin() + 3050), tail(toks.begin() + 3050, toks.end());
  auto a = run(**host, head, 128), b = run(**tiered, head, 128);
  auto a2 = run(**host, tail, 1), b2 = run(**tiered, tail, 1);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4));
  EXPECT_EQ(0, std::memcmp(a2.data(), b2.data(), a2.size() * 4));
  EXPECT_GT((*tiered)->kv_cache().pool().stats().disk_reads, 0u);
  // Prefix cache: 512 of 600 shared tokens come back; the rest equals a fresh run.
  EngineOptions p;
  p.n_ctx = 1024;
  auto be = open_sequence(**m, p);
  ASSERT_TRUE(be.ok());
  std::vector<TokenId> x(toks.begin(), toks.begin() + 600);
  run(**be, x, 256);
  const auto z = some_tokens(300, 256, 10);  // another text: x's full blocks stay in the prefix cache
  EXPECT_EQ((*be)->reuse_prefix(z.data(), int(z.size())), 0);
  run(**be, z, 256);
  std::vector<TokenId> y(x.begin(), x.begin() + 550);
  for (TokenId t : some_tokens(60, 256, 9)) y.push_back(t);
  EXPECT_EQ((*be)->reuse_prefix(y.data(), int(y.size())), 512);
  auto warm = run(**be, std::vector<TokenId>(y.begin() + 512, y.end()), 64);
  auto fresh = run(**open_sequence(**m, p), y, 256);
  EXPECT_EQ(0, std::memcmp(warm.data(), fresh.data() + 512 * size_t(256), warm.size() * 4));
}

ModelConfig small_cfg() {
  ModelConfig c;
  c.n_layers = 1;
  c.n_kv_heads = 1;
  c.head_dim = 32;
  c.head_dim_v = 32;
  return c;
}

TEST(KvPool, RefcountsCacheMembershipAndRelease) {
  auto L = KVLayout::make(small_cfg(), KVType::F16);
  ASSERT_TRUE(L.ok());
  KVPoolOptions po;
  po.host_bytes = 4 * L->page_bytes;
  auto pool = KVPool::create(*L, po);
  ASSERT_TRUE(pool.ok());
  KVPool& p = **pool;
  const int a = p.alloc();
  ASSERT_GE(a, 0);
  p.ref(a);  // a second sequence (fork)
  EXPECT_EQ(p.refs(a), 2);
  p.insert(42, &a);
  int got = -1;
  EXPECT_TRUE(p.lookup(42, &got));
  EXPECT_EQ(got, a);
  p.unref(a);
  p.unref(a);  // both sequences freed it: the prefix cache keeps it
  EXPECT_EQ(p.tier(a), KVTier::Host);
  EXPECT_EQ(p.stats().host_used, L->page_bytes);
  // Filling the host tier (no disk) drops the cache-only page.
  for (int i = 0; i < 4; ++i) EXPECT_GE(p.alloc(), 0);
  EXPECT_FALSE(p.lookup(42, &got));
  EXPECT_EQ(p.stats().dropped, 1u);
  EXPECT_LT(p.alloc(), 0);  // all four live: full
  EXPECT_NE(p.error().find("budget"), std::string::npos) << p.error();
}

TEST(KvPool, DemotesLeastRecentlyWrittenColdPageToDisk) {
  auto L = KVLayout::make(small_cfg(), KVType::F16);
  ASSERT_TRUE(L.ok());
  KVPoolOptions po;
  po.host_bytes = 3 * L->page_bytes + 100;  // 3 pages; the rest of the budget is unused
  po.disk_path = temp_path("kv_demote.spill");
  po.disk_bytes = 2 * L->page_bytes;
  auto pool = KVPool::create(*L, po);
  ASSERT_TRUE(pool.ok());
  KVPool& p = **pool;
  const int a = p.alloc(), b = p.alloc(), c = p.alloc();
  std::memset(p.host(a), 0xab, L->page_bytes);
  p.set_hot(a, true);  // a sink: never demoted although oldest
  p.make_writable(b);  // b written again: now newer than c
  const int d = p.alloc();
  ASSERT_GE(d, 0);
  EXPECT_EQ(p.tier(a), KVTier::Host);
  EXPECT_EQ(p.tier(c), KVTier::Disk);
  EXPECT_EQ(p.tier(b), KVTier::Host);
  const int e = p.alloc();
  ASSERT_GE(e, 0);
  EXPECT_EQ(p.tier(b), KVTier::Disk);
  // Disk full and every host page live: the budget error names the flags.
  p.set_hot(d, true);
  p.set_hot(e, true);
  EXPECT_LT(p.alloc(), 0);
  EXPECT_NE(p.error().find("--kv-host-mb"), std::string::npos) << p.error();
  // Bring c back from disk; a (never moved) still reads its bytes.
  std::vector<uint8_t> stage(L->page_bytes);
  p.set_hot(e, false);
  p.unref(e);  // frees a host slot
  ASSERT_TRUE(p.make_writable(c));
  EXPECT_EQ(p.tier(c), KVTier::Host);
  const uint8_t* ra = p.read(a, 0, 16, stage.data());
  EXPECT_EQ(ra[0], 0xab);
  const KVPoolStats s = p.stats();
  EXPECT_EQ(s.host_capacity, 3 * L->page_bytes);
  EXPECT_LE(s.host_peak, s.host_capacity);
  EXPECT_EQ(s.disk_peak, 2 * L->page_bytes);
  EXPECT_EQ(s.promoted, 1u);
}

TEST(KvPaged, BudgetErrorsAreClear) {
  auto m = Model::load(make_tiny("kv_budget", tiny_spec()));
  ASSERT_TRUE(m.ok());
  EngineOptions o;
  o.n_ctx = 4096;
  o.kv_host_bytes = 4096;  // far below the hot blocks
  auto be = open_sequence(**m, o);
  ASSERT_FALSE(be.ok());
  EXPECT_NE(be.error().find("--kv-host-mb"), std::string::npos) << be.error();
  // Without a disk tier a long prompt fills the host budget: eval fails with a message, nothing crashes.
  auto probe = open_sequence(**m, EngineOptions{});
  ASSERT_TRUE(probe.ok());
  o.kv_host_bytes = 8 * 2 * (*probe)->kv_cache().layout().page_bytes;
  auto small = open_sequence(**m, o);
  ASSERT_TRUE(small.ok()) << small.error();
  const auto toks = some_tokens(3000, 256);
  std::vector<float> logits(256);
  Status s = (*small)->eval(toks.data(), int(toks.size()), logits.data(), 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("--kv-disk"), std::string::npos) << s.error();
  o.kv_type = KVType::Q8_0;
  MakeModelSpec odd = tiny_spec();
  odd.n_embd = 48;  // head_dim 24: no q8_0
  auto m2 = Model::load(make_tiny("kv_odd", odd));
  ASSERT_TRUE(m2.ok());
  auto bad = open_sequence(**m2, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("q8_0"), std::string::npos);
}

TEST(KvPaged, Q8CacheIsCloseToF16) {
  auto m = Model::load(make_tiny("kv_q8", tiny_spec()));
  ASSERT_TRUE(m.ok());
  const auto toks = some_tokens(600, 256);
  EngineOptions o;
  o.n_ctx = 1024;
  o.kv_type = KVType::F32;
  auto f32 = test::engine_logits(**m, toks, o);
  o.kv_type = KVType::F16;
  auto f16 = test::engine_logits(**m, toks, o);
  o.kv_type = KVType::Q8_0;
  auto q8 = test::engine_logits(**m, toks, o);
  const double e16 = test::max_row_rel_err(f16, f32, 256), e8 = test::max_row_rel_err(q8, f32, 256);
  // f16 KV: on AVX512-BF16 CPUs the flash kernel multiplies bf16-rounded queries, keys, weights and values (f32
  // sums; issue 25, docs/long_context.md), ~7e-3 on this model; the f32 kernel only rounds the cache to f16.
  EXPECT_LT(e16, flash_isa() == FlashIsa::Avx512Bf16 ? 1e-2 : 2e-3);
  if (flash_isa() == FlashIsa::Avx512Bf16) {
    set_flash_isa(FlashIsa::Avx2);
    o.kv_type = KVType::F16;
    const double e16_f32 = test::max_row_rel_err(test::engine_logits(**m, toks, o), f32, 256);
    set_flash_isa(FlashIsa::Avx512Bf16);
    EXPECT_LT(e16_f32, 2e-3);
    std::printf("f16 KV through the f32 kernel: %.2e\n", e16_f32);
  }
  EXPECT_LT(e8, 4e-2);  // stated tolerance for q8_0 KV: 4% relative logit error per row on this model
  EXPECT_GT(e8, 0.0);
  std::printf("max row rel err vs f32 KV: f16 %.2e, q8_0 %.2e\n", e16, e8);
}

// Decode steps (one token per call, so that every attention is a decode step) with an f16 cache stay as close to an
// f32 cache as the rounding of the cache itself: the decode kernel multiplies in f32 straight from the f16 rows. The
// previous decode path (keys and values packed to bf16 per step, the default for exact steps) is ~10x further off.
TEST(KvPaged, F16CacheDecodeStepsAreAsCloseToF32AsTheRounding) {
  auto m = Model::load(make_tiny("kv_f16_decode", tiny_spec()));
  ASSERT_TRUE(m.ok());
  const auto toks = some_tokens(400, 256, 11);
  EngineOptions o;
  o.n_ctx = 512;
  auto logits = [&](KVType t) {
    o.kv_type = t;
    auto be = open_sequence(**m, o);
    EXPECT_TRUE(be.ok());
    return run(**be, toks, 1);
  };
  const auto f32 = logits(KVType::F32);
  set_flash_decode(FlashDecode::F32);  // the f32 decode kernel (exact steps: opt-in, CJ_FLASH_DECODE=f32)
  const double e16 = test::max_row_rel_err(logits(KVType::F16), f32, 256);
  set_flash_decode(FlashDecode::Auto);
  EXPECT_LT(e16, 2e-3);
  if (flash_isa() == FlashIsa::Avx512Bf16) {
    const double packed = test::max_row_rel_err(logits(KVType::F16), f32, 256);
    std::printf("decode steps, f16 KV vs f32 KV: %.2e (packed bf16 decode path: %.2e)\n", e16, packed);
  }
}

TEST(KvPaged, Q8RowCodecRoundTrips) {
  std::vector<float> x(64), y(64);
  for (int i = 0; i < 64; ++i) x[i] = std::sin(float(i)) * (i < 32 ? 1.0f : 100.0f);
  std::vector<uint8_t> buf(kv_row_bytes(KVType::Q8_0, 64));
  EXPECT_EQ(buf.size(), 68u);
  kv_encode_row(KVType::Q8_0, x.data(), 64, buf.data());
  kv_decode_row(KVType::Q8_0, buf.data(), 64, y.data());
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(y[i], x[i], (i < 32 ? 1.0f : 100.0f) / 127.0f * 0.51f + 1e-3f) << i;
  float q[64];
  for (int i = 0; i < 64; ++i) q[i] = float(i % 7) - 3;
  double ref = 0;
  for (int i = 0; i < 64; ++i) ref += double(q[i]) * y[i];
  EXPECT_NEAR(dot_f32_q8(q, buf.data(), 64), ref, 1e-3 * std::fabs(ref) + 1e-3);
}

TEST(KvSession, SaveRestoreContinueEqualsUninterrupted) {
  auto m = Model::load(make_tiny("kv_sess", tiny_spec()));
  ASSERT_TRUE(m.ok());
  const auto x = some_tokens(600, 256, 5), cont = some_tokens(40, 256, 6);
  EngineOptions o;
  o.n_ctx = 1024;
  auto whole = open_sequence(**m, o);
  run(**whole, x, 256);
  auto ref = run(**whole, cont, 1);
  // Saved from a tiered cache (some pages on disk), restored into a host-only one.
  EngineOptions ot = o;
  ot.kv_host_bytes = 12 * (*whole)->kv_cache().layout().page_bytes;
  ot.kv_disk = temp_path("kv_sess.spill");
  auto first = open_sequence(**m, ot);
  ASSERT_TRUE(first.ok()) << first.error();
  run(**first, x, 100);
  const std::string snap = temp_path("kv_sess.snap");
  ASSERT_TRUE(save_kv_session(snap, (*first)->kv_cache(), 7).ok());
  auto second = open_sequence(**m, o);
  Status ls = load_kv_session(snap, (*second)->kv_cache(), 7);
  ASSERT_TRUE(ls.ok()) << ls.error();
  EXPECT_EQ((*second)->n_past(), 600);
  auto got = run(**second, cont, 1);
  EXPECT_EQ(0, std::memcmp(got.data(), ref.data(), ref.size() * 4));

  auto expect_refused = [&](const std::string& file, KVCache& kv, uint64_t tok, const std::string& what) {
    Status s = load_kv_session(file, kv, tok);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find(what), std::string::npos) << s.error();
    EXPECT_EQ(kv.n_tokens(), 0);
  };
  auto fresh = open_sequence(**m, o);
  KVCache& kv = (*fresh)->kv_cache();
  expect_refused(snap, kv, 8, "tokenizer");
  std::string bytes;
  {
    std::ifstream in(snap, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& name, const std::string& b) {
    std::string p = temp_path(name);
    std::ofstream(p, std::ios::binary) << b;
    return p;
  };
  std::string corrupt = bytes;
  corrupt[corrupt.size() - 1000] ^= 0x10;
  expect_refused(write("kv_corrupt.snap", corrupt), kv, 7, "corrupt");
  expect_refused(write("kv_trunc.snap", bytes.substr(0, bytes.size() - 5)), kv, 7, "truncated");
  expect_refused(write("kv_junk.snap", "hello"), kv, 7, "not a Changjuan");
  EngineOptions oq = o;
  oq.kv_type = KVType::Q8_0;
  auto q8 = open_sequence(**m, oq);
  expect_refused(snap, (*q8)->kv_cache(), 7, "KV type f16");
  MakeModelSpec other = tiny_spec();
  other.seed = 99;
  auto m2 = Model::load(make_tiny("kv_sess_other", other));
  ASSERT_TRUE(m2.ok());
  auto be2 = open_sequence(**m2, o);
  expect_refused(snap, (*be2)->kv_cache(), 7, "another model");
  EngineOptions small = o;
  small.n_ctx = 512;
  auto be3 = open_sequence(**m, small);
  expect_refused(snap, (*be3)->kv_cache(), 7, "raise --ctx");
}

}  // namespace
}  // namespace cj

namespace cj {
namespace {

// A tier the CPU cannot address (as GPU memory is), backed by a vector: what a device tier implements.
class FakeDeviceArena final : public KVArena {
 public:
  FakeDeviceArena(size_t pb, int slots) : KVArena(pb, slots), mem_(pb * size_t(slots)) {}
  KVTier kind() const override { return KVTier::Device; }
  bool read(int slot, size_t off, size_t n, uint8_t* dst) const override {
    std::memcpy(dst, mem_.data() + size_t(slot) * page_bytes() + off, n);
    return true;
  }
  bool write(int slot, size_t off, const uint8_t* src, size_t n) override {
    std::memcpy(mem_.data() + size_t(slot) * page_bytes() + off, src, n);
    return true;
  }
  std::string describe() const override { return "fake device"; }
  std::vector<uint8_t> mem_;
};

// A device tier in front of host and disk, as the home of written pages: the pool's logic is unchanged; the least
// recently used cold page moves down one tier at a time, and reads of non-addressable tiers are staged.
TEST(KvPool, ADeviceTierPlugsInFrontWithoutChangingThePool) {
  auto L = KVLayout::make(small_cfg(), KVType::F16);
  ASSERT_TRUE(L.ok());
  const size_t pb = L->page_bytes;
  std::vector<std::unique_ptr<KVArena>> tiers;
  auto* dev = new FakeDeviceArena(pb, 2);
  tiers.emplace_back(dev);
  tiers.push_back(std::move(make_host_arena(pb, 1).value()));
  tiers.push_back(std::move(make_disk_arena(pb, 2, temp_path("kv_dev.spill")).value()));
  auto pool = KVPool::create(*L, std::move(tiers), /*home=*/0);
  ASSERT_TRUE(pool.ok()) << pool.error();
  KVPool& p = **pool;
  const int a = p.alloc(), b = p.alloc();
  ASSERT_GE(b, 0);
  EXPECT_EQ(p.tier(a), KVTier::Device);
  std::memset(dev->mem_.data(), 0x5a, pb);  // a's bytes (slot 0)
  const int c = p.alloc();                   // a (oldest) moves to the host
  ASSERT_GE(c, 0);
  EXPECT_EQ(p.tier(a), KVTier::Host);
  EXPECT_EQ(p.host(a)[7], 0x5a);
  const int d = p.alloc();  // b to the host, a on to disk
  ASSERT_GE(d, 0);
  EXPECT_EQ(p.tier(b), KVTier::Host);
  EXPECT_EQ(p.tier(a), KVTier::Disk);
  std::vector<uint8_t> stage(pb);
  EXPECT_EQ(p.read(a, 0, 16, stage.data())[3], 0x5a);
  ASSERT_TRUE(p.make_writable(a));  // back home, through the tiers
  EXPECT_EQ(p.tier(a), KVTier::Device);
  EXPECT_EQ(p.read(a, 0, 16, stage.data())[0], 0x5a);
  const KVPoolStats s = p.stats();
  ASSERT_EQ(s.tiers.size(), 3u);
  EXPECT_EQ(s.tiers[0].kind, KVTier::Device);
  EXPECT_EQ(s.tiers[0].used, 2 * pb);
  EXPECT_GE(s.demoted, 3u);
  EXPECT_EQ(s.promoted, 1u);
}

}  // namespace
}  // namespace cj
