// Internal kernel tables behind quant.h: one set of kernels per instruction set, the scalar set being the
// reference. Tests call a specific set directly to compare it with the scalar one.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/cpu/quant.h"
#include "engine/format/quant_blocks.h"

namespace cj::kern {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };
const char* isa_name(Isa isa);

// Converts one f32 row x[cols] into the prepared activation format (see quant_blocks.h) at dst.
using PrepFn = void (*)(const float* x, void* dst, int64_t cols);
// For r in [r0, r1) and i in [0, n): Y[i * ldy + r] = dot(W row r, prepared activation row i).
// W rows are w_stride bytes apart; prepared rows a_stride bytes apart.
using GemmFn = void (*)(const void* W, size_t w_stride, int64_t r0, int64_t r1, int64_t cols, const void* A,
                        size_t a_stride, int64_t n, float* Y, int64_t ldy);

struct TypeKernels {
  q::ActFormat act = q::ActFormat::F32;
  PrepFn prep = nullptr;  // null for ActFormat::F32 (x used as is)
  GemmFn gemm = nullptr;
  // Optional matvec kernels (used for n < 4 activation rows, i.e. decode): their own activation preparation
  // (same format size, act_row_bytes(act, cols)) and product. Null: prep/gemm serve every n.
  PrepFn prep_vec = nullptr;
  GemmFn gemv = nullptr;
};

// Kernels of type t for isa; false when that set lacks the type or the CPU lacks the isa.
bool get_kernels(DType t, Isa isa, TypeKernels* out);
// Per-isa tables (defined in the per-isa source files; call only when the CPU has the isa).
bool get_kernels_scalar(DType t, TypeKernels* out);
bool get_kernels_avx2(DType t, TypeKernels* out);
bool get_kernels_avx512(DType t, TypeKernels* out);

// The reference activation preparation (signed quants in natural order), usable by any set.
void prep_q8a(const float* x, void* dst, int64_t cols);
void prep_q8ka(const float* x, void* dst, int64_t cols);

bool isa_supported(Isa isa);
// Up to this many activation rows matmul_isa uses the matvec kernels (TypeKernels::gemv): they stream 4 weight rows
// beside up to 4 activation rows without the tiled kernels' unpacking. They would pay off up to 8 rows (a decode
// step of 8 sequences): changjuan-bench --benchmark_filter=BM_matmul_ab, 2 threads, quiet machine, ffn_down shape,
// at 8 rows 0.84x (q8_0), 0.45x (q4_0), 0.93x (q4_K) the tiled kernels' time, bench --sequences 8 2.3x -> 2.5x one
// sequence. But the two kernel sets round differently, and a prompt's tail prefilled after a cached prefix (a few
// rows) must give the bits a whole prefill gave, or the same seed samples another text (HttpTest.FreshSeed* failed
// so under load with 8). Raising this needs the gemv and tiled kernels to agree bit for bit per row first.
constexpr int64_t kGemvMaxRows = 3;
// Whether matmul_isa uses the matvec kernels for n <= kGemvMaxRows. On by default; CJ_OLD_GEMV=1 in the
// environment turns it off at start; benchmarks flip it to compare the decode and tiled kernels in one run.
void set_use_gemv(bool on);
bool use_gemv();
// The isa the public matvec/matmul use: the best supported one, or CJ_ISA=scalar|avx2|avx512 from the
// environment when that is supported (for comparisons and debugging).
Isa active_isa();

// Runs the prepared product through a chosen kernel set; the public matvec/matmul call this with active_isa().
void matmul_isa(Isa isa, DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
                ThreadPool* pool);

}  // namespace cj::kern
