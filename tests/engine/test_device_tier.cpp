// The host-side half of a device backend, tested without a GPU: the plan of layers and KV pages on the device
// (--gpu-layers, --device-kv-mb), the pool with a device tier in front (a fake device arena stands in for GPU
// memory), and the CPU's attention over the pages that left the device, merged by log-sum-exp with the attention
// over the pages still on it.
#include <cmath>
#include <cstring>
#include <random>

#include "engine/kv/attn_pages.h"
#include "engine/kv/attn_state.h"
#include "engine/kv/device_plan.h"
#include "engine_test_util.h"

namespace cj {
namespace {

constexpr size_t MiB = size_t(1) << 20;

DevicePlanInput plan_in() {
  DevicePlanInput in;
  in.device_free = 1000 * MiB;
  in.reserve = 100 * MiB;
  in.shared_bytes = 100 * MiB;
  in.layer_bytes.assign(8, 100 * MiB);
  in.page_bytes = MiB;
  in.kv_need_bytes = 64 * MiB;
  in.min_kv_bytes = 8 * MiB;
  return in;
}

TEST(DevicePlan, AutoTakesTheLayersThatFitLeavingTheKvBudget) {
  DevicePlanInput in = plan_in();
  auto p = plan_device(in);  // 800 MiB after reserve and shared: 7 layers + 8 MiB minimum KV
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->gpu_layers, 7);
  EXPECT_EQ(p->weight_bytes, 700 * MiB);
  EXPECT_EQ(p->kv_slots, 64);  // the context needs 64 pages and 100 MiB are left: the need, not more
  in.device_kv_bytes = 250 * MiB;  // a budget given first, layers after
  p = plan_device(in);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->gpu_layers, 5);
  EXPECT_EQ(p->kv_slots, 250);
  in.device_free = 20000 * MiB;  // everything fits
  in.device_kv_bytes = 0;
  p = plan_device(in);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->gpu_layers, 8);
  EXPECT_EQ(p->kv_slots, 64);
}

TEST(DevicePlan, ExplicitLayersAndBudgetsThatDoNotFitAreRefusedWithTheSizes) {
  DevicePlanInput in = plan_in();
  in.gpu_layers = 8;
  auto p = plan_device(in);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("--gpu-layers 8 needs 800 MiB"), std::string::npos) << p.error();
  in.gpu_layers = 3;
  p = plan_device(in);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->gpu_layers, 3);
  EXPECT_EQ(p->kv_slots, 64);
  in.device_kv_bytes = 600 * MiB;
  p = plan_device(in);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("lower --gpu-layers or --device-kv-mb"), std::string::npos) << p.error();
  in.gpu_layers = 9;
  EXPECT_FALSE(plan_device(in).ok());
  in.gpu_layers = 0;  // everything on the CPU: no KV needed on the device
  in.device_kv_bytes = 0;
  p = plan_device(in);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->gpu_layers, 0);
  in = plan_in();
  in.device_kv_bytes = 4 * MiB;  // below one step's pages
  in.gpu_layers = 1;
  p = plan_device(in);
  EXPECT_FALSE(p.ok());
  in = plan_in();
  in.shared_bytes = 950 * MiB;
  p = plan_device(in);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("embeddings"), std::string::npos);
}

class FakeDevice final : public KVArena {
 public:
  FakeDevice(size_t pb, int slots) : KVArena(pb, slots), mem_(pb * size_t(slots)) {}
  KVTier kind() const override { return KVTier::Device; }
  bool read(int slot, size_t off, size_t n, uint8_t* dst) const override {
    ++reads;
    std::memcpy(dst, mem_.data() + size_t(slot) * page_bytes() + off, n);
    return true;
  }
  bool write(int slot, size_t off, const uint8_t* src, size_t n) override {
    std::memcpy(mem_.data() + size_t(slot) * page_bytes() + off, src, n);
    return true;
  }
  std::string describe() const override { return "fake device"; }
  std::vector<uint8_t> mem_;
  mutable int reads = 0;
};

// A sequence longer than the device budget: its old pages move to the host; the device part and the host part
// of the attention, merged, equal one pass over all keys and a naive double-precision reference, for f32, f16 and
// q8_0 pages. The host part reads no device page.
class PageSplit : public ::testing::TestWithParam<KVType> {};

TEST_P(PageSplit, DeviceAndHostPartsMergeToTheWholeAttention) {
  ModelConfig c;
  c.n_layers = 1;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 32;
  c.head_dim_v = 32;
  const int H = 4, HK = 2, D = 32, G = 2, S = attn::state_floats(D);
  auto L = KVLayout::make(c, GetParam());
  ASSERT_TRUE(L.ok());
  auto* dev = new FakeDevice(L->page_bytes, 3);
  KVPoolOptions po;
  po.host_bytes = 8 * L->page_bytes;
  auto pool = make_device_pool(*L, std::unique_ptr<KVArena>(dev), po);
  ASSERT_TRUE(pool.ok()) << pool.error();
  KVCacheOptions ko;
  ko.type = GetParam();
  ko.n_ctx = 2048;
  ko.sink_blocks = 0;
  ko.recent_blocks = 2;
  auto kv = KVCache::create(c, ko, pool->get());
  ASSERT_TRUE(kv.ok()) << kv.error();
  const int N = 1100;  // 5 blocks: 3 on the device, 2 on the host
  std::mt19937 rng(uint32_t(int(GetParam()) + 3));
  std::normal_distribution<float> nd;
  std::vector<float> keys(size_t(N) * HK * D), vals(size_t(N) * HK * D), q(size_t(H) * D);
  for (auto& x : keys) x = nd(rng);
  for (auto& x : vals) x = nd(rng);
  for (auto& x : q) x = nd(rng);
  std::vector<int32_t> ids(size_t(N), 1);
  for (int p0 = 0; p0 < N; p0 += 256) {
    const int n = std::min(256, N - p0);
    ASSERT_TRUE((*kv)->prepare(p0, n).ok()) << (*pool)->error();
    for (int p = p0; p < p0 + n; ++p) {
      // The CPU stores through the pool's host memory; a device-resident page is written through the arena.
      const KVSlot s = (*kv)->slot(0, p);
      ASSERT_EQ((*pool)->tier(s.page), KVTier::Device);
      std::vector<uint8_t> row(L->k_row_bytes);
      for (int g = 0; g < HK; ++g) {
        std::vector<uint8_t> kr(L->k_row_bytes), vr(L->v_row_bytes);
        kv_encode_row(L->type, keys.data() + (size_t(p) * HK + g) * D, D, kr.data());
        kv_encode_row(L->type, vals.data() + (size_t(p) * HK + g) * D, D, vr.data());
        const int slot = (*pool)->slot_of(s.page);
        dev->write(slot, L->k_offset(g) + size_t(s.row) * L->k_row_bytes, kr.data(), kr.size());
        dev->write(slot, L->v_offset(g) + size_t(s.row) * L->v_row_bytes, vr.data(), vr.size());
      }
    }
    (*kv)->commit(p0, ids.data() + p0, n);
  }
  const int off = attn::blocks_off_device(**kv, 0, N);
  EXPECT_EQ(off, 2);
  attn::PageAttnArgs a;
  a.n_heads = H;
  a.n_kv_heads = HK;
  a.head_dim = D;
  a.head_dim_v = D;
  a.scale = 1.0f / std::sqrt(float(D));
  std::vector<float> all(size_t(H) * S), on(size_t(H) * S), offs(size_t(H) * S), work(attn::page_attn_work_floats(*L));
  std::vector<uint8_t> stage(attn::page_attn_stage_bytes(*L));
  a.pages = attn::PageSet::OffDevice;
  dev->reads = 0;
  attn::attend_pages(**kv, a, q.data(), N, offs.data(), work.data(), stage.data());
  EXPECT_EQ(dev->reads, 0) << "the host part read a device page";
  a.pages = attn::PageSet::OnDevice;
  attn::attend_pages(**kv, a, q.data(), N, on.data(), work.data(), stage.data());
  a.pages = attn::PageSet::All;
  attn::attend_pages(**kv, a, q.data(), N, all.data(), work.data(), stage.data());
  const double tol = GetParam() == KVType::F32 ? 1e-5 : GetParam() == KVType::F16 ? 2e-3 : 2e-2;
  double num = 0, den = 0, num_all = 0, off_only = 0;
  for (int h = 0; h < H; ++h) {
    float* st = on.data() + size_t(h) * S;
    attn::state_merge(st, offs.data() + size_t(h) * S, D);
    std::vector<float> o(D), o_all(D), o_off(D);
    attn::state_output(st, o.data(), D);
    attn::state_output(all.data() + size_t(h) * S, o_all.data(), D);
    attn::state_output(offs.data() + size_t(h) * S, o_off.data(), D);
    // Naive reference over the unencoded keys.
    const int g = h / G;
    std::vector<double> s(static_cast<size_t>(N));
    double mx = -1e300, l = 0;
    for (int t = 0; t < N; ++t) {
      double d = 0;
      for (int k = 0; k < D; ++k) d += double(q[size_t(h) * D + k]) * keys[(size_t(t) * HK + g) * D + k];
      mx = std::max(mx, s[size_t(t)] = d / std::sqrt(double(D)));
    }
    for (auto& x : s) l += (x = std::exp(x - mx));
    for (int k = 0; k < D; ++k) {
      double r = 0;
      for (int t = 0; t < N; ++t) r += s[size_t(t)] * vals[(size_t(t) * HK + g) * D + k];
      r /= l;
      num += (o[size_t(k)] - r) * (o[size_t(k)] - r);
      num_all += (o[size_t(k)] - o_all[size_t(k)]) * (o[size_t(k)] - o_all[size_t(k)]);
      off_only += (o_off[size_t(k)] - r) * (o_off[size_t(k)] - r);
      den += r * r;
    }
  }
  EXPECT_LE(std::sqrt(num / den), tol);
  EXPECT_LE(std::sqrt(num_all / den), 1e-5);
  EXPECT_GT(std::sqrt(off_only / den), 10 * tol) << "the host part alone should not be the whole attention";
  kv->reset();
}

INSTANTIATE_TEST_SUITE_P(Types, PageSplit, ::testing::Values(KVType::F32, KVType::F16, KVType::Q8_0),
                         [](const auto& info) { return std::string(kv_type_name(info.param)); });

}  // namespace
}  // namespace cj
