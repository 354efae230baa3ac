// Type traits, scalar dequantize/quantize for every type, and the matvec/matmul dispatch (activation
// preparation into thread-local scratch, rows split across the thread pool, kernels chosen per CPU).
#include "engine/quant.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "engine/base/result.h"
#include "engine/cpu_features.h"
#include "engine/quant_blocks.h"
#include "engine/quant_kernels.h"
#include "engine/thread_pool.h"

namespace cj {

using namespace cj::q;

namespace {
const TypeTraits kF32{"f32", 1, 4};
const TypeTraits kF16{"f16", 1, 2};
const TypeTraits kBF16{"bf16", 1, 2};
const TypeTraits kQ8_0{"q8_0", 32, sizeof(BlockQ8_0)};
const TypeTraits kQ4_0{"q4_0", 32, sizeof(BlockQ4_0)};
const TypeTraits kQ4_K{"q4_k", 256, sizeof(BlockQ4_K)};
const TypeTraits kQ6_K{"q6_k", 256, sizeof(BlockQ6_K)};
constexpr DType kAll[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K};
}  // namespace

bool dtype_known(uint32_t ggml_type) {
  for (DType t : kAll) {
    if (static_cast<uint32_t>(t) == ggml_type) return true;
  }
  return false;
}

const TypeTraits& dtype_traits(DType t) {
  switch (t) {
    case DType::F32: return kF32;
    case DType::F16: return kF16;
    case DType::BF16: return kBF16;
    case DType::Q8_0: return kQ8_0;
    case DType::Q4_0: return kQ4_0;
    case DType::Q4_K: return kQ4_K;
    case DType::Q6_K: return kQ6_K;
  }
  CJ_ASSERT(false && "unknown dtype");
  return kF32;
}

bool dtype_from_name(std::string_view name, DType* out) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (DType t : kAll) {
    if (lower == dtype_traits(t).name) {
      *out = t;
      return true;
    }
  }
  return false;
}

size_t row_bytes(DType t, int64_t n) {
  const TypeTraits& tr = dtype_traits(t);
  CJ_ASSERT(n % tr.block_elems == 0);
  return static_cast<size_t>(n / tr.block_elems) * tr.block_bytes;
}

// ---------------------------------------------------------------------------------------------- dequantize

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  CJ_ASSERT(n % dtype_traits(t).block_elems == 0);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::Q8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(src);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float d = f16_to_f32(b[k].d);
        for (int i = 0; i < kQK; ++i) dst[k * kQK + i] = d * b[k].qs[i];
      }
      return;
    }
    case DType::Q4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(src);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float d = f16_to_f32(b[k].d);
        for (int j = 0; j < 16; ++j) {
          dst[k * kQK + j] = d * static_cast<float>((b[k].qs[j] & 0xF) - 8);
          dst[k * kQK + j + 16] = d * static_cast<float>((b[k].qs[j] >> 4) - 8);
        }
      }
      return;
    }
    case DType::Q4_K: {
      const auto* b = static_cast<const BlockQ4_K*>(src);
      for (int64_t k = 0; k < n / kQKK; ++k) {
        const float d = f16_to_f32(b[k].d), dmin = f16_to_f32(b[k].dmin);
        uint8_t sc[8], m[8];
        unpack_q4k_scales(b[k].scales, sc, m);
        float* y = dst + k * kQKK;
        for (int g = 0; g < 4; ++g) {
          const float d1 = d * sc[2 * g], m1 = dmin * m[2 * g];
          const float d2 = d * sc[2 * g + 1], m2 = dmin * m[2 * g + 1];
          for (int l = 0; l < 32; ++l) {
            y[64 * g + l] = d1 * static_cast<float>(b[k].qs[32 * g + l] & 0xF) - m1;
            y[64 * g + 32 + l] = d2 * static_cast<float>(b[k].qs[32 * g + l] >> 4) - m2;
          }
        }
      }
      return;
    }
    case DType::Q6_K: {
      const auto* b = static_cast<const BlockQ6_K*>(src);
      for (int64_t k = 0; k < n / kQKK; ++k) {
        const float d = f16_to_f32(b[k].d);
        for (int h = 0; h < 2; ++h) {
          const uint8_t* ql = b[k].ql + 64 * h;
          const uint8_t* qh = b[k].qh + 32 * h;
          const int8_t* sc = b[k].scales + 8 * h;
          float* y = dst + k * kQKK + 128 * h;
          for (int l = 0; l < 32; ++l) {
            const int q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[l / 16] * static_cast<float>(q1);
            y[l + 32] = d * sc[2 + l / 16] * static_cast<float>(q2);
            y[l + 64] = d * sc[4 + l / 16] * static_cast<float>(q3);
            y[l + 96] = d * sc[6 + l / 16] * static_cast<float>(q4);
          }
        }
      }
      return;
    }
  }
  CJ_ASSERT(false && "unknown dtype");
}

// ------------------------------------------------------------------------------------------------ quantize

namespace {

// Round to nearest (ties to even) for |v| < 2^22 without a libm call: adding 1.5 * 2^23 leaves the rounded integer
// in the low mantissa bits.
inline int nearest_int(float v) {
  const float f = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &f, 4);
  return (i & 0x007FFFFF) - 0x00400000;
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float* xb = x + k * kQK;
    float amax = 0;
    for (int i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[k].d = f32_to_f16(d);
    for (int i = 0; i < kQK; ++i) y[k].qs[i] = static_cast<int8_t>(std::clamp(nearest_int(xb[i] * id), -127, 127));
  }
}

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float* xb = x + k * kQK;
    // The value of largest magnitude maps to -8 exactly, so the full range [-8, 7] is used on its side.
    float vmax = 0;
    for (int i = 0; i < kQK; ++i) {
      if (std::fabs(xb[i]) > std::fabs(vmax)) vmax = xb[i];
    }
    const float d = vmax / -8.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[k].d = f32_to_f16(d);
    for (int j = 0; j < 16; ++j) {
      const int a = std::clamp(nearest_int(xb[j] * id) + 8, 0, 15);
      const int b = std::clamp(nearest_int(xb[j + 16] * id) + 8, 0, 15);
      y[k].qs[j] = static_cast<uint8_t>(a | (b << 4));
    }
  }
}

// Best (scale, min) for 32 values with q in [0, 15]: x ~= scale * q - min, min >= 0. Tries a few candidate ranges
// around [min(x), max(x)] and keeps the one with the lowest squared error.
void fit_scale_min_4bit(const float* x, float* scale, float* min) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < 32; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (lo > 0) lo = 0;
  if (hi <= lo) {
    *scale = 0;
    *min = -lo;
    return;
  }
  float best_err = INFINITY, best_s = (hi - lo) / 15, best_m = -lo;
  for (int step = 0; step <= 4; ++step) {  // 15 candidates: fast enough for 7B-sized model writing
    const float s = (hi - lo) / (14.0f + 0.5f * static_cast<float>(step));
    const float inv = 1.0f / s;
    for (int shift = -1; shift <= 1; ++shift) {
      const float m = std::fmax(0.0f, -lo + 0.25f * static_cast<float>(shift) * s);
      float err = 0;
      for (int i = 0; i < 32; ++i) {
        const int q = std::clamp(nearest_int((x[i] + m) * inv), 0, 15);
        const float e = s * static_cast<float>(q) - m - x[i];
        err += e * e;
      }
      if (err < best_err) {
        best_err = err;
        best_s = s;
        best_m = m;
      }
    }
  }
  *scale = best_s;
  *min = best_m;
}

void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t n) {
  for (int64_t k = 0; k < n / kQKK; ++k) {
    const float* xb = x + k * kQKK;
    float scales[8], mins[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
      fit_scale_min_4bit(xb + 32 * j, &scales[j], &mins[j]);
      max_scale = std::fmax(max_scale, scales[j]);
      max_min = std::fmax(max_min, mins[j]);
    }
    const float d = max_scale / 63.0f, dmin = max_min / 63.0f;
    y[k].d = f32_to_f16(d);
    y[k].dmin = f32_to_f16(dmin);
    const float dq = f16_to_f32(y[k].d), dminq = f16_to_f32(y[k].dmin);
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      sc[j] = static_cast<uint8_t>(dq > 0 ? std::clamp(nearest_int(scales[j] / dq), 0, 63) : 0);
      m[j] = static_cast<uint8_t>(dminq > 0 ? std::clamp(nearest_int(mins[j] / dminq), 0, 63) : 0);
    }
    pack_q4k_scales(sc, m, y[k].scales);
    uint8_t q[kQKK];
    for (int j = 0; j < 8; ++j) {
      const float s = dq * sc[j], mm = dminq * m[j];
      for (int i = 0; i < 32; ++i) {
        q[32 * j + i] = static_cast<uint8_t>(s > 0 ? std::clamp(nearest_int((xb[32 * j + i] + mm) / s), 0, 15) : 0);
      }
    }
    for (int g = 0; g < 4; ++g) {
      for (int l = 0; l < 32; ++l) y[k].qs[32 * g + l] = static_cast<uint8_t>(q[64 * g + l] | (q[64 * g + 32 + l] << 4));
    }
  }
}

void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t n) {
  for (int64_t k = 0; k < n / kQKK; ++k) {
    const float* xb = x + k * kQKK;
    // Per 16 values: the value of largest magnitude maps to -32 (its sub-block scale is signed).
    float sub[16];
    float max_abs_sub = 0, max_sub = 0;
    for (int s = 0; s < 16; ++s) {
      float vmax = 0;
      for (int i = 0; i < 16; ++i) {
        if (std::fabs(xb[16 * s + i]) > std::fabs(vmax)) vmax = xb[16 * s + i];
      }
      sub[s] = vmax / -32.0f;
      if (std::fabs(sub[s]) > max_abs_sub) {
        max_abs_sub = std::fabs(sub[s]);
        max_sub = sub[s];
      }
    }
    float d = max_sub / -128.0f;  // the largest sub-scale becomes -128 (or 127 on the other side, clamped)
    y[k].d = f32_to_f16(d);
    d = f16_to_f32(y[k].d);
    uint8_t q[kQKK];
    for (int s = 0; s < 16; ++s) {
      const int sc = d != 0 ? std::clamp(nearest_int(sub[s] / d), -128, 127) : 0;
      y[k].scales[s] = static_cast<int8_t>(sc);
      const float ds = d * static_cast<float>(sc);
      for (int i = 0; i < 16; ++i) {
        const int qv = ds != 0 ? std::clamp(nearest_int(xb[16 * s + i] / ds), -32, 31) : 0;
        q[16 * s + i] = static_cast<uint8_t>(qv + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        y[k].ql[64 * h + l] = static_cast<uint8_t>((qq[l] & 0xF) | ((qq[l + 64] & 0xF) << 4));
        y[k].ql[64 * h + l + 32] = static_cast<uint8_t>((qq[l + 32] & 0xF) | ((qq[l + 96] & 0xF) << 4));
        y[k].qh[32 * h + l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) | ((qq[l + 64] >> 4) << 4) |
                                                   ((qq[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  CJ_ASSERT(n % dtype_traits(t).block_elems == 0);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q8_0: quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), n); return;
    case DType::Q4_0: quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), n); return;
    case DType::Q4_K: quantize_q4_K(src, static_cast<BlockQ4_K*>(dst), n); return;
    case DType::Q6_K: quantize_q6_K(src, static_cast<BlockQ6_K*>(dst), n); return;
  }
  CJ_ASSERT(false && "unknown dtype");
}

// ------------------------------------------------------------------------------------------------ dispatch

namespace kern {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return cpu_features().avx2;
    case Isa::Avx512: return cpu_features().avx512 && cpu_features().avx512_vnni;
  }
  return false;
}

Isa active_isa() {
  static const Isa isa = [] {
    Isa best = isa_supported(Isa::Avx512) ? Isa::Avx512 : isa_supported(Isa::Avx2) ? Isa::Avx2 : Isa::Scalar;
    if (const char* env = std::getenv("CJ_ISA")) {
      for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
        if (std::strcmp(env, isa_name(i)) == 0 && isa_supported(i)) best = i;
      }
    }
    return best;
  }();
  return isa;
}

namespace {
std::atomic<bool> g_use_gemv{std::getenv("CJ_OLD_GEMV") == nullptr};
}  // namespace
void set_use_gemv(bool on) { g_use_gemv.store(on, std::memory_order_relaxed); }
bool use_gemv() { return g_use_gemv.load(std::memory_order_relaxed); }

bool get_kernels(DType t, Isa isa, TypeKernels* out) {
  if (!isa_supported(isa)) return false;
  switch (isa) {
    case Isa::Scalar: return get_kernels_scalar(t, out);
    case Isa::Avx2: return get_kernels_avx2(t, out);
    case Isa::Avx512: return get_kernels_avx512(t, out);
  }
  return false;
}

namespace {

// Grows-only 64-byte-aligned scratch, one per calling thread: after the first calls of a given size nothing
// allocates in the token loop.
struct Scratch {
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<uint8_t[], Free> buf;
  size_t cap = 0;
  uint8_t* get(size_t bytes) {
    if (bytes > cap) {
      buf.reset(static_cast<uint8_t*>(::operator new[](bytes, std::align_val_t(64))));
      cap = bytes;
    }
    return buf.get();
  }
};
thread_local Scratch t_scratch;

struct PrepCtx {
  PrepFn prep;
  const float* X;
  int64_t cols;
  uint8_t* A;
  size_t a_stride;
  int64_t n;
  int64_t rows_per_task;
};

struct GemmCtx {
  GemmFn gemm;
  const void* W;
  size_t w_stride;
  int64_t rows, cols;
  const void* A;
  size_t a_stride;
  int64_t n;
  float* Y;
  int64_t rows_per_task;
};

}  // namespace

void matmul_isa(Isa isa, DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
                ThreadPool* pool) {
  TypeKernels k;
  if (!get_kernels(t, isa, &k) && !get_kernels(t, Isa::Scalar, &k)) CJ_ASSERT(false && "no kernels for type");
  CJ_ASSERT(cols % dtype_traits(t).block_elems == 0);
  if (rows <= 0 || n <= 0) return;
  if (n < 4 && k.gemv && use_gemv()) {
    k.prep = k.prep_vec;
    k.gemm = k.gemv;
  }
  const int threads = pool ? pool->size() : 1;

  const void* A = X;
  size_t a_stride = static_cast<size_t>(cols) * 4;
  if (k.prep) {
    a_stride = q::act_row_bytes(k.act, cols);
    uint8_t* buf = t_scratch.get(a_stride * static_cast<size_t>(n));
    PrepCtx pc{k.prep, X, cols, buf, a_stride, n, std::max<int64_t>(1, (n + threads * 4 - 1) / (threads * 4))};
    const int tasks = static_cast<int>((n + pc.rows_per_task - 1) / pc.rows_per_task);
    auto prep_task = [](void* c, int task) {
      auto* p = static_cast<PrepCtx*>(c);
      const int64_t i0 = task * p->rows_per_task, i1 = std::min(p->n, i0 + p->rows_per_task);
      for (int64_t i = i0; i < i1; ++i) p->prep(p->X + i * p->cols, p->A + static_cast<size_t>(i) * p->a_stride, p->cols);
    };
    if (pool && n > 1) {
      pool->run(tasks, prep_task, &pc);
    } else {
      for (int i = 0; i < tasks; ++i) prep_task(&pc, i);
    }
    A = buf;
  }

  // Rows in chunks of a multiple of 16 (the SIMD kernels work on row groups), about 8 chunks per thread so that
  // threads slowed by other work are balanced.
  int64_t chunk = (rows + threads * 8 - 1) / (threads * 8);
  chunk = std::max<int64_t>(16, (chunk + 15) / 16 * 16);
  if (threads == 1) chunk = rows;
  GemmCtx gc{k.gemm, W, row_bytes(t, cols), rows, cols, A, a_stride, n, Y, chunk};
  const int tasks = static_cast<int>((rows + chunk - 1) / chunk);
  auto gemm_task = [](void* c, int task) {
    auto* g = static_cast<GemmCtx*>(c);
    const int64_t r0 = task * g->rows_per_task, r1 = std::min(g->rows, r0 + g->rows_per_task);
    g->gemm(g->W, g->w_stride, r0, r1, g->cols, g->A, g->a_stride, g->n, g->Y, g->rows);
  };
  if (pool) {
    pool->run(tasks, gemm_task, &gc);
  } else {
    for (int i = 0; i < tasks; ++i) gemm_task(&gc, i);
  }
}

}  // namespace kern

namespace {
// The kernels matvec uses for type t (the decode pair when there is one and it is on).
kern::TypeKernels vec_kernels(DType t) {
  kern::TypeKernels k;
  if (!kern::get_kernels(t, kern::active_isa(), &k) && !kern::get_kernels(t, kern::Isa::Scalar, &k))
    CJ_ASSERT(false && "no kernels for type");
  if (k.gemv && kern::use_gemv()) {
    k.prep = k.prep_vec;
    k.gemm = k.gemv;
  }
  return k;
}
}  // namespace

size_t matvec_prep_bytes(DType t, int64_t cols) {
  kern::TypeKernels k;
  if (!kern::get_kernels(t, kern::Isa::Scalar, &k)) return 0;
  return q::act_row_bytes(k.act, cols);
}

void matvec_prepare(DType t, const float* x, int64_t cols, void* buf) {
  CJ_ASSERT(cols % dtype_traits(t).block_elems == 0);
  const kern::TypeKernels k = vec_kernels(t);
  if (k.prep)
    k.prep(x, buf, cols);
  else
    std::memcpy(buf, x, static_cast<size_t>(cols) * 4);
}

void matvec_rows(DType t, const void* W, int64_t rows, int64_t cols, const void* prepared, float* y) {
  if (rows <= 0) return;
  const kern::TypeKernels k = vec_kernels(t);
  k.gemm(W, row_bytes(t, cols), 0, rows, cols, prepared, matvec_prep_bytes(t, cols), 1, y, rows);
}

void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y, ThreadPool* pool) {
  kern::matmul_isa(kern::active_isa(), t, W, rows, cols, x, 1, y, pool);
}

void matmul(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y, ThreadPool* pool) {
  kern::matmul_isa(kern::active_isa(), t, W, rows, cols, X, n, Y, pool);
}

const char* kernel_isa_name() { return kern::isa_name(kern::active_isa()); }

}  // namespace cj
