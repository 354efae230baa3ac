// Tensor element types with the exact GGUF/ggml block layouts, and the kernels over them: dequantize, quantize
// (reference quantizers for the model writer), and matrix-vector / matrix-matrix products for the forward pass.
// Every kernel has a scalar reference; SIMD versions (AVX2, AVX-512/VNNI) are chosen at run time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cj {

class ThreadPool;

// ggml type ids (the values stored in GGUF tensor infos).
enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  Q4_K = 12,
  Q6_K = 14,
  BF16 = 30,
};

struct TypeTraits {
  const char* name;        // "f32", "q8_0", … (as on the CLI)
  int64_t block_elems;     // elements per block (1 for f32/f16/bf16, 32 for q4_0/q8_0, 256 for k-quants)
  size_t block_bytes;      // bytes per block
};

bool dtype_known(uint32_t ggml_type);
const TypeTraits& dtype_traits(DType t);
bool dtype_from_name(std::string_view name, DType* out);
// Bytes of a row of n elements (n must be a multiple of block_elems).
size_t row_bytes(DType t, int64_t n);

void dequantize_row(DType t, const void* src, float* dst, int64_t n);
void quantize_row(DType t, const float* src, void* dst, int64_t n);

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
