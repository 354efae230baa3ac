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

// One kernel per type and CPU for every number of activation rows: prep and gemm. A gemm may pick different tile
// shapes or code paths by n (one row, a small batch, a prefill), but every path computes each (weight row,
// activation row) product with the same operations in the same order, so a row's output bits do not depend on n,
// on the rows beside it, on the row range of the call or on the thread count (tests/kernels/
// test_batch_invariance.cpp). A prompt tail prefilled after a cached prefix then gives the bits of a whole prefill,
// and a sequence decoded beside others gives the bits it gives alone.
struct TypeKernels {
  q::ActFormat act = q::ActFormat::F32;
  PrepFn prep = nullptr;  // null for ActFormat::F32 (x used as is)
  GemmFn gemm = nullptr;
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
// A decode step of up to this many sequences goes through the gemms' small-batch paths: AVX-512 q8_0 transposes
// each 16-row weight tile in registers and uses it for all the rows at once; q4_K streams 4 weight rows beside all
// of them (its matvec tiles). Bit-identical to the other paths (see TypeKernels).
constexpr int64_t kSmallBatchMaxRows = 8;
// Whether the gemms use their small-batch paths (on by default; CJ_NO_SMALL_BATCH=1 in the environment turns them
// off at start). Only for benchmarks comparing the paths in one run: the results are the same bits either way.
void set_small_batch(bool on);
bool small_batch();
// The isa the public matvec/matmul use: the best supported one, or CJ_ISA=scalar|avx2|avx512 from the
// environment when that is supported (for comparisons and debugging).
Isa active_isa();

// Runs the prepared product through a chosen kernel set; the public matvec/matmul call this with active_isa().
void matmul_isa(Isa isa, DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
                ThreadPool* pool);

}  // namespace cj::kern
