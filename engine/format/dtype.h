// Tensor element types with the exact GGUF/ggml block layouts (block structs in quant_blocks.h): the type table and
// the reference dequantization / quantization. Format definitions only: no backend's kernels live here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cj {

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

}  // namespace cj
