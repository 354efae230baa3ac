// The CUDA backend's kernels against the CPU reference by normalised error on fresh random inputs (outputs
// poisoned with NaN first), the attention over device pages with pages off the device merged in, and the whole
// forward of tiny models of each architecture and weight type against the CPU backend. Without nvcc at build time
// or without a usable GPU every test SKIPs with the reason.
#include <cmath>
#include <cstring>
#include <random>

#include "engine/cpu/forward_ops.h"
#include "engine/kv/attn_pages.h"
#include "engine/kv/attn_state.h"
#include "engine/kv/device_plan.h"
#include "engine/cuda/elem.h"
#include "engine/model/rope.h"
#include "engine_test_util.h"
#ifdef CHANGJUAN_HAVE_CUDA
#include "engine/cuda/kernels.h"
#endif

namespace cj {
namespace {

#ifdef CHANGJUAN_HAVE_CUDA

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  std::vector<float> v(n);
  for (auto& x : v) x = scale * nd(rng);
  return v;
}

// ||a - b|| / ||b|| over whole arrays.
double nerr(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (!std::isfinite(a[i])) return 1e30;  // a poisoned output left unwritten
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = backend_unavailable("cuda"); !why.empty()) GTEST_SKIP() << why;
  }
};

// A device buffer of floats (or bytes) for one test, poisoned with NaN.
struct Dev {
  void* p = nullptr;
  size_t bytes = 0;
  explicit Dev(size_t b) : bytes(b) {
    std::string err;
    p = cuda::dev_alloc(b, &err);
    EXPECT_NE(p, nullptr) << err;
    cuda::dev_fill(p, 0xff, b);
  }
  template <typename T>
  explicit Dev(const std::vector<T>& v) : Dev(v.size() * sizeof(T)) {
    EXPECT_TRUE(cuda::to_device(p, v.data(), bytes));
  }
  ~Dev() { cuda::dev_free(p); }
  template <typename T>
  T* as() const { return static_cast<T*>(p); }
  std::vector<float> floats() const {
    std::vector<float> v(bytes / 4);
    EXPECT_TRUE(cuda::to_host(v.data(), p, bytes));
    EXPECT_EQ(cuda::last_error(), "");
    return v;
  }
};

std::vector<uint8_t> quantized(DType t, const std::vector<float>& x, int rows, int cols) {
  std::vector<uint8_t> q(row_bytes(t, cols) * size_t(rows));
  for (int r = 0; r < rows; ++r) quantize_row(t, x.data() + size_t(r) * cols, q.data() + row_bytes(t, cols) * r, cols);
  return q;
}
std::vector<float> dequantized(DType t, const std::vector<uint8_t>& q, int rows, int cols) {
  std::vector<float> x(size_t(rows) * cols);
  for (int r = 0; r < rows; ++r) dequantize_row(t, q.data() + row_bytes(t, cols) * r, x.data() + size_t(r) * cols, cols);
  return x;
}

class CudaTypes : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    if (std::string why = backend_unavailable("cuda"); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(CudaTypes, EmbeddingMatchesDequantizedRows) {
  const DType t = GetParam();
  const int V = 50, E = dtype_traits(t).block_elems == 256 ? 512 : 96, n = 7;
  auto q = quantized(t, randn(size_t(V) * E, 1), V, E);
  const std::vector<int32_t> toks = {3, 0, 49, 3, 17, 8, 22};
  std::vector<float> ref(size_t(n) * E);
  for (int i = 0; i < n; ++i) dequantize_row(t, q.data() + row_bytes(t, E) * toks[size_t(i)], ref.data() + size_t(i) * E, E);
  Dev dq(q), dt(toks), out(ref.size() * 4);
  cuda::embed(t, dq.p, E, dt.as<int32_t>(), n, out.as<float>(), nullptr);
  EXPECT_LE(nerr(out.floats(), ref), 1e-6);
}

// Rows of several lengths (one below a warp, odd, a whole 4-row block and a ragged one), 1, 3 and 11 vectors (11:
// two passes of the 8-vector kernel).
TEST_P(CudaTypes, GemvMatchesTheCpuProduct) {
  const DType t = GetParam();
  for (int cols : {64, 96, 256, 4096}) {
    if (cols % dtype_traits(t).block_elems) continue;
    for (int rows : {1, 37, 260}) {
      for (int nx : {1, 3, 11}) {
        auto wq = quantized(t, randn(size_t(rows) * cols, uint32_t(rows + cols)), rows, cols);
        auto w = dequantized(t, wq, rows, cols);
        auto x = randn(size_t(nx) * cols, uint32_t(nx));
        std::vector<float> ref(size_t(nx) * rows);
        for (int j = 0; j < nx; ++j)
          for (int r = 0; r < rows; ++r) {
            double s = 0;
            for (int c = 0; c < cols; ++c) s += double(w[size_t(r) * cols + c]) * x[size_t(j) * cols + c];
            ref[size_t(j) * rows + r] = float(s);
          }
        Dev dw(wq), dx(x), dy(ref.size() * 4);
        cuda::gemv(t, dw.p, rows, cols, dx.as<float>(), nx, dy.as<float>(), nullptr);
        EXPECT_LE(nerr(dy.floats(), ref), 1e-5) << rows << "x" << cols << " nx " << nx;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, CudaTypes,
                         ::testing::Values(DType::F32, DType::F16, DType::Q8_0, DType::BF16, DType::Q4_0, DType::Q4_K,
                                           DType::Q6_K),
                         [](const auto& info) { return std::string(dtype_traits(info.param).name); });

TEST_F(Cuda, RmsNormMatchesTheCpu) {
  for (int dim : {16, 100, 896, 3584}) {
    const int rows = 5;
    auto x = randn(size_t(rows) * dim, uint32_t(dim), 3), w = randn(size_t(dim), 9);
    std::vector<float> ref(x.size());
    for (int r = 0; r < rows; ++r) rmsnorm(x.data() + size_t(r) * dim, w.data(), ref.data() + size_t(r) * dim, dim, 1e-6f);
    Dev dx(x), dw(w), dy(x.size() * 4);
    cuda::rmsnorm(dx.as<float>(), dw.as<float>(), dy.as<float>(), rows, dim, 1e-6f, nullptr);
    EXPECT_LE(nerr(dy.floats(), ref), 1e-6) << dim;
    cuda::rmsnorm(dx.as<float>(), dw.as<float>(), dx.as<float>(), rows, dim, 1e-6f, nullptr);  // in place
    EXPECT_LE(nerr(dx.floats(), ref), 1e-6) << dim;
  }
}

TEST_F(Cuda, ElementwiseOpsMatchTheCpu) {
  const size_t n = 100003;
  auto g = randn(n, 1, 4), u = randn(n, 2), b = randn(37, 3);
  std::vector<float> ref = g;
  silu_mul(ref.data(), u.data(), n);
  Dev dg(g), du(u);
  cuda::swiglu(dg.as<float>(), du.as<float>(), n, nullptr);
  EXPECT_LE(nerr(dg.floats(), ref), 1e-6);
  std::vector<float> sum = g;
  for (size_t i = 0; i < n; ++i) sum[i] += u[i];
  Dev dg2(g);
  cuda::add(dg2.as<float>(), du.as<float>(), n, nullptr);
  EXPECT_LE(nerr(dg2.floats(), sum), 1e-7);
  const int rows = 9;
  auto y = randn(size_t(rows) * 37, 4);
  std::vector<float> yb = y;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < 37; ++c) yb[size_t(r) * 37 + c] += b[size_t(c)];
  Dev dy(y), db(b);
  cuda::add_bias(dy.as<float>(), db.as<float>(), rows, 37, nullptr);
  EXPECT_LE(nerr(dy.floats(), yb), 1e-7);
}

TEST_F(Cuda, RopeMatchesTheCpuTablesForBothPairings) {
  for (bool neox : {false, true}) {
    RopeConfig rc;
    rc.neox = neox;
    rc.n_dims = 64;
    rc.freq_base = 1e6f;
    const Rope rope(rc);
    const int n = 6, H = 5, D = 128, half = rc.n_dims / 2;
    auto x = randn(size_t(n) * H * D, 7);
    std::vector<float> cs(size_t(n) * half), sn(size_t(n) * half), ref = x;
    const int pos[n] = {0, 1, 255, 256, 4000, 131071};
    for (int i = 0; i < n; ++i) {
      rope.cos_sin(pos[i], cs.data() + size_t(i) * half, sn.data() + size_t(i) * half);
      rope.apply(ref.data() + size_t(i) * H * D, H, D, cs.data() + size_t(i) * half, sn.data() + size_t(i) * half);
    }
    Dev dx(x), dc(cs), ds(sn);
    cuda::rope(dx.as<float>(), n, H, D, rc.n_dims, neox, dc.as<float>(), ds.as<float>(), nullptr);
    EXPECT_LE(nerr(dx.floats(), ref), 1e-6) << (neox ? "neox" : "normal");
  }
}

// GPU memory as a KV tier, for the attention test (the backend has its own).
class TestDeviceArena final : public KVArena {
 public:
  TestDeviceArena(size_t pb, int slots) : KVArena(pb, slots) {
    std::string err;
    base_ = static_cast<uint8_t*>(cuda::dev_alloc(pb * size_t(slots), &err));
  }
  ~TestDeviceArena() override { cuda::dev_free(base_); }
  KVTier kind() const override { return KVTier::Device; }
  bool read(int slot, size_t off, size_t n, uint8_t* dst) const override {
    return cuda::to_host(dst, base_ + size_t(slot) * page_bytes() + off, n);
  }
  bool write(int slot, size_t off, const uint8_t* src, size_t n) override {
    return cuda::to_device(base_ + size_t(slot) * page_bytes() + off, src, n);
  }
  std::string describe() const override { return "test GPU arena"; }
  uint8_t* base_ = nullptr;
};

// K/V stored by the kernel, flash-decoding over the device pages and the CPU's part over the pages the pool moved
// to the host, merged on the device: equal to the CPU's attention over all pages (which reads the device pages
// back), for each KV type, decode and prefill-like rows, and a sequence wholly on the device.
class CudaAttention : public ::testing::TestWithParam<KVType> {
 protected:
  void SetUp() override {
    if (std::string why = backend_unavailable("cuda"); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(CudaAttention, DevicePagesAndHostPagesMergeToTheCpuAttention) {
  ModelConfig c;
  c.n_layers = 1;
  c.n_heads = 8;
  c.n_kv_heads = 2;
  c.head_dim = 128;
  c.head_dim_v = 128;
  const int H = 8, HK = 2, D = 128, S = attn::state_floats(D);
  auto L = KVLayout::make(c, GetParam());
  ASSERT_TRUE(L.ok());
  for (int dev_slots : {3, 8}) {
    auto* arena = new TestDeviceArena(L->page_bytes, dev_slots);
    KVPoolOptions po;
    po.host_bytes = 8 * L->page_bytes;
    auto pool = make_device_pool(*L, std::unique_ptr<KVArena>(arena), po);
    ASSERT_TRUE(pool.ok()) << pool.error();
    KVCacheOptions ko;
    ko.type = GetParam();
    ko.n_ctx = 2048;
    ko.sink_blocks = 0;
    ko.recent_blocks = 2;
    auto kv = KVCache::create(c, ko, pool->get());
    ASSERT_TRUE(kv.ok()) << kv.error();
    cuda::DevKV dk;
    dk.arena = arena->base_;
    dk.page_bytes = L->page_bytes;
    dk.k_head_bytes = L->k_head_bytes;
    dk.v_head_bytes = L->v_head_bytes;
    dk.k_row_bytes = L->k_row_bytes;
    dk.v_row_bytes = L->v_row_bytes;
    dk.kv_type = int(L->type);
    dk.n_kv_heads = HK;
    dk.head_dim = D;
    dk.head_dim_v = D;
    const int N = 1100;
    std::vector<int32_t> ids(size_t(N), 1);
    for (int p0 = 0; p0 < N; p0 += 256) {
      const int n = std::min(256, N - p0);
      ASSERT_TRUE((*kv)->prepare(p0, n).ok());
      auto k = randn(size_t(n) * HK * D, uint32_t(p0 + 1)), v = randn(size_t(n) * HK * D, uint32_t(p0 + 2));
      std::vector<int32_t> slot(static_cast<size_t>(n)), row(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        slot[size_t(i)] = (*pool)->slot_of((*kv)->slot(0, p0 + i).page);
        row[size_t(i)] = (p0 + i) % 256;
      }
      Dev dk_(k), dv_(v), ds(slot), dr(row);
      cuda::store_kv(dk, dk_.as<float>(), dv_.as<float>(), ds.as<int32_t>(), dr.as<int32_t>(), n, nullptr);
      ASSERT_TRUE(cuda::sync(nullptr));
      (*kv)->commit(p0, ids.data() + p0, n);
    }
    const int off = attn::blocks_off_device(**kv, 0, N);
    EXPECT_EQ(off, dev_slots == 3 ? 2 : 0);
    // Queries at several positions (a decode step at the end, earlier rows of a prefill).
    const std::vector<int> nkeys = {N, 1, 255, 257, 700, N - 1};
    const int n = int(nkeys.size());
    auto q = randn(size_t(n) * H * D, 99);
    std::vector<int32_t> table(5), toff(size_t(n), 0);
    for (int b = 0; b < 5; ++b) {
      const int p = (*kv)->page(0, b);
      table[size_t(b)] = (*pool)->tier(p) == KVTier::Device ? (*pool)->slot_of(p) : -1;
    }
    std::vector<float> host(size_t(n) * H * S), ref(size_t(n) * H * D), work(attn::page_attn_work_floats(*L)), all(size_t(H) * S);
    std::vector<uint8_t> stage(attn::page_attn_stage_bytes(*L));
    attn::PageAttnArgs a;
    a.n_heads = H;
    a.n_kv_heads = HK;
    a.head_dim = D;
    a.head_dim_v = D;
    a.scale = 1.0f / std::sqrt(float(D));
    for (int i = 0; i < n; ++i) {
      a.pages = attn::PageSet::OffDevice;
      attn::attend_pages(**kv, a, q.data() + size_t(i) * H * D, nkeys[size_t(i)], host.data() + size_t(i) * H * S,
                         work.data(), stage.data());
      a.pages = attn::PageSet::All;
      attn::attend_pages(**kv, a, q.data() + size_t(i) * H * D, nkeys[size_t(i)], all.data(), work.data(), stage.data());
      for (int h = 0; h < H; ++h) attn::state_output(all.data() + size_t(h) * S, ref.data() + (size_t(i) * H + h) * D, D);
    }
    for (int splits : {1, 3, 16}) {
      Dev dq(q), dn(nkeys), dt(table), dto(toff), dst(size_t(n) * H * splits * S * 4), dh(host), dout(ref.size() * 4);
      cuda::flash_decode(dk, dq.as<float>(), n, H, a.scale, dn.as<int32_t>(), dt.as<int32_t>(), dto.as<int32_t>(), splits,
                         dst.as<float>(), nullptr);
      cuda::merge_states(dst.as<float>(), splits, off ? dh.as<float>() : nullptr, n, H, D, dout.as<float>(), nullptr);
      EXPECT_LE(nerr(dout.floats(), ref), 1e-5) << kv_type_name(GetParam()) << " splits " << splits << " device slots "
                                                << dev_slots;
    }
    kv->reset();
  }
}

INSTANTIATE_TEST_SUITE_P(Types, CudaAttention, ::testing::Values(KVType::F32, KVType::F16, KVType::Q8_0),
                         [](const auto& info) { return std::string(kv_type_name(info.param)); });

#endif  // CHANGJUAN_HAVE_CUDA

// The whole forward of tiny models of each architecture, weight type and KV type: the CUDA backend's logits for a
// prompt (over a block boundary) and decode steps equal the CPU backend's; then with a device KV budget of a few
// pages, so that the CPU attends the pages that left the device.
struct FwdCase {
  Arch arch;
  DType type;
  KVType kv;
};

class CudaForward : public ::testing::TestWithParam<FwdCase> {
 protected:
  void SetUp() override {
    if (std::string why = backend_unavailable("cuda"); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(CudaForward, LogitsMatchTheCpuBackend) {
  const FwdCase fc = GetParam();
  MakeModelSpec s;
  s.arch = fc.arch;
  s.type = fc.type;
  s.n_layers = 2;
  s.n_embd = 256;  // k-quant rows need multiples of 256
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.n_ff = 512;
  s.n_vocab = 64;
  s.seed = 3 + int(fc.arch);
  auto m = Model::load(test::make_tiny("cuda_fwd_" + std::to_string(int(fc.arch)) + "_" + std::to_string(int(fc.type)), s));
  ASSERT_TRUE(m.ok()) << m.error();
  const auto toks = test::some_tokens(1600, 64, 5);  // 7 blocks
  EngineOptions o;
  o.n_ctx = 2048;
  o.n_batch = 128;
  o.kv_type = fc.kv;
  auto ref = test::engine_logits(**m, toks, o);
  o.backend = "cuda";
  auto got = test::engine_logits(**m, toks, o);
  // The CPU multiplies quantised weights with 8-bit activations (engine/cpu/quant.h); the GPU keeps f32 ones.
  const bool q8_act = fc.type == DType::Q8_0 || fc.type == DType::Q4_0 || fc.type == DType::Q4_K || fc.type == DType::Q6_K;
  const double tol = q8_act ? 3e-2 : fc.kv == KVType::F32 ? 1e-4 : fc.kv == KVType::Q8_0 ? 1e-2 : 2e-3;
  EXPECT_LE(test::max_row_rel_err(got, ref, 64), tol);
  // A device budget of 6 blocks (of 2 layers): the sink and the recent window stay, a middle block moves to the
  // host and the CPU attends it.
  auto L = KVLayout::make((*m)->config(), fc.kv);
  ASSERT_TRUE(L.ok());
  o.device_kv_bytes = 6 * 2 * L->page_bytes;
  auto seq = open_sequence(**m, o);
  ASSERT_TRUE(seq.ok()) << seq.error();
  std::vector<float> split(toks.size() * 64);
  ASSERT_TRUE((*seq)->eval(toks.data(), int(toks.size()), split.data(), int(toks.size())).ok());
  EXPECT_GT((*seq)->engine().pool().stats().demoted, 0u) << "no page left the device: the CPU part was not used";
  EXPECT_LE(test::max_row_rel_err(split, ref, 64), tol);
}

INSTANTIATE_TEST_SUITE_P(
    Models, CudaForward,
    ::testing::Values(FwdCase{Arch::Llama, DType::F32, KVType::F32}, FwdCase{Arch::Qwen2, DType::F16, KVType::F16},
                      FwdCase{Arch::Qwen3, DType::Q8_0, KVType::F16}, FwdCase{Arch::Llama, DType::Q8_0, KVType::Q8_0},
                      FwdCase{Arch::Qwen2, DType::Q8_0, KVType::F32}, FwdCase{Arch::Qwen3, DType::F16, KVType::Q8_0},
                      FwdCase{Arch::Qwen2, DType::Q4_K, KVType::F16}, FwdCase{Arch::Llama, DType::Q6_K, KVType::F16},
                      FwdCase{Arch::Qwen3, DType::BF16, KVType::F32}, FwdCase{Arch::Qwen2, DType::Q4_0, KVType::F16}),
    [](const auto& info) {
      return std::string(arch_name(info.param.arch)) + "_" + dtype_traits(info.param.type).name + "_kv_" +
             kv_type_name(info.param.kv);
    });

// The element decoder the kernels read every row through (engine/cuda/elem.h), run on the CPU: bit for bit the
// reference dequantisation of each type, on random rows with a wide range of magnitudes (every block layout and
// scale packing is exercised without a GPU).
TEST(CudaElem, DecodesEveryTypeExactlyAsTheReference) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    const int n = 1024;
    std::vector<float> x(n), ref(n);
    for (int i = 0; i < n; ++i) x[size_t(i)] = nd(rng) * std::exp2(float(i % 7) - 3);
    x[5] = 0;
    x[6] = 1e-6f;  // an f16 subnormal
    std::vector<uint8_t> q(row_bytes(t, n));
    quantize_row(t, x.data(), q.data(), n);
    dequantize_row(t, q.data(), ref.data(), n);
    const int code = cuda::elem_code(t);
    ASSERT_GE(code, 0);
    int bad = 0;
    for (int c = 0; c < n; ++c) {
      const float v = cuda::elem(code, q.data(), c);
      if (std::memcmp(&v, &ref[size_t(c)], 4) != 0 && ++bad <= 3)
        ADD_FAILURE() << dtype_traits(t).name << " element " << c << ": " << v << " vs " << ref[size_t(c)];
    }
    EXPECT_EQ(bad, 0) << dtype_traits(t).name;
  }
  EXPECT_EQ(cuda::elem_code(DType(99)), -1);
}

// Without a device (or without nvcc) --backend cuda is one clear line, not a crash or a silent CPU run.
TEST(CudaAvailability, BackendCudaWithoutADeviceIsAClearError) {
  const std::string why = backend_unavailable("cuda");
  if (why.empty()) GTEST_SKIP() << "a CUDA device is present: the refusal is not reachable here";
  EXPECT_EQ(why.find('\n'), std::string::npos);
  EXPECT_NE(why.find("--backend cuda"), std::string::npos) << why;
  MakeModelSpec s;
  s.n_layers = 1;
  s.n_embd = 32;
  s.n_heads = 2;
  s.n_kv_heads = 2;
  s.n_ff = 48;
  s.n_vocab = 64;
  auto m = Model::load(test::make_tiny("cuda_refused", s));
  ASSERT_TRUE(m.ok());
  EngineOptions o;
  o.backend = "cuda";
  auto e = Engine::create(**m, o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(), why);
  o.backend = "cpu";
  o.device_kv_bytes = 1 << 20;
  e = Engine::create(**m, o);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("CUDA backend"), std::string::npos);
  EXPECT_EQ(available_backends(), std::vector<std::string>{"cpu"});
}

}  // namespace
}  // namespace cj
