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

// A group of products in ONE dispatch of the pool: the experts of a MoE block (each on the tokens routed to it),
// the per-head matrices of latent attention, fused q/k/v. Job j: Y[i * ldy + r] = dot(W[r, :], input row i) for r in
// [0, rows), i in [0, n), input row i being X + (idx ? idx[i] : i) * ldx. Inputs are prepared (quantized) once per
// distinct (X, ldx, idx, n, cols, activation format): jobs on the same rows share it. Rows are cut into items of
// about equal cost (bytes for a few rows, products for many), largest first, handed out dynamically. Scratch is
// grow-only and thread-local (nothing allocates in the token loop after the first calls).
struct GemmJob {
  DType type = DType::F32;
  const void* W = nullptr;        // [rows, row_bytes(type, cols)]
  int64_t rows = 0, cols = 0;
  const float* X = nullptr;       // input rows, ldx floats apart
  size_t ldx = 0;
  const int32_t* idx = nullptr;   // [n] rows of X to use (null: rows 0 .. n-1)
  int64_t n = 0;                  // input rows (0: the job is skipped)
  float* Y = nullptr;             // [n, ldy]
  size_t ldy = 0;
};
void matmul_grouped(const GemmJob* jobs, int n_jobs, ThreadPool* pool);

// The instruction set the kernels run with on this CPU: "scalar", "avx2" or "avx512" (CJ_ISA in the
// environment can force a lower one).
const char* kernel_isa_name();

}  // namespace cj
