// The CPU kernels over the tensor types of engine/format/dtype.h: matrix-vector / matrix-matrix products for the
// forward pass.
// Every kernel has a scalar reference; SIMD versions (AVX2, AVX-512/VNNI) are chosen at run time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/format/dtype.h"

namespace cj {

class ThreadPool;

// y[r] = dot(W[r, :], x) for r in [0, rows). W is rows x cols in type t (row-major, rows contiguous).
// x: [cols] f32, y: [rows] f32. pool may be null (single thread).
void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y, ThreadPool* pool);
// matvec in two steps, for several matrices sharing one input (fused q/k/v, gate/up decode): prepare x once for
// type t into buf (matvec_prep_bytes(t, cols) bytes, 64-byte aligned), then any row range of any matrix of type t
// and width cols against it, single-threaded: y[r] = dot(W[r, :], x) for r in [0, rows).
size_t matvec_prep_bytes(DType t, int64_t cols);
void matvec_prepare(DType t, const float* x, int64_t cols, void* buf);
void matvec_rows(DType t, const void* W, int64_t rows, int64_t cols, const void* prepared, float* y);
// Y[i, r] = dot(W[r, :], X[i, :]) for i in [0, n). X: [n, cols] f32, Y: [n, rows] f32.
void matmul(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y, ThreadPool* pool);

// The instruction set the kernels run with on this CPU: "scalar", "avx2" or "avx512" (CJ_ISA in the
// environment can force a lower one).
const char* kernel_isa_name();

}  // namespace cj
