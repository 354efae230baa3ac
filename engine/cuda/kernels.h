// The CUDA kernels of the decode path, behind plain C++ declarations (no CUDA header), so that the backend's host
// code and the tests call them with device pointers. Every launch is asynchronous on `stream` (a cudaStream_t;
// null: the default stream). Weight types: f32, f16 and q8_0 with their own GEMV paths; bf16, q4_0, q4_K and
// q6_K element by element through elem.h (correct, not yet fast).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/format/dtype.h"

namespace cj::cuda {

using Stream = void*;

// Device memory (tests and the backend): null on failure, *err set.
void* dev_alloc(size_t bytes, std::string* err);
void dev_free(void* p);
bool to_device(void* dst, const void* src, size_t bytes, Stream s = nullptr);    // synchronous on s
bool to_host(void* dst, const void* src, size_t bytes, Stream s = nullptr);      // synchronous on s
bool dev_fill(void* dst, uint8_t byte, size_t bytes);
// The last launch or runtime error ("" when none); clears it.
std::string last_error();
bool sync(Stream s);

bool gemv_supported(DType t);

// x[i, :] = row tokens[i] of the table [n_vocab, E] (type t), dequantised to f32.
void embed(DType t, const void* table, int E, const int32_t* tokens, int n, float* x, Stream s);
// y[r] = x[r] / rms(x[r]) * w for rows of dim floats (x, y [rows, dim]; y may be x).
void rmsnorm(const float* x, const float* w, float* y, int rows, int dim, float eps, Stream s);
// y[r, :] += b for rows of dim floats.
void add_bias(float* y, const float* b, int rows, int dim, Stream s);
// y[i] += x[i].
void add(float* y, const float* x, size_t n, Stream s);
// gate[i] = silu(gate[i]) * up[i].
void swiglu(float* gate, const float* up, size_t n, Stream s);
// Rotates x [n_tokens, n_heads, head_dim] in place: pairs (2i, 2i+1) or, neox, (i, i + n_dims/2), with the
// per-token tables cos/sin [n_tokens, n_dims / 2].
void rope(float* x, int n_tokens, int n_heads, int head_dim, int n_dims, bool neox, const float* cos,
          const float* sin, Stream s);
// y[j, r] = W[r, :] . x[j, :] for j < n_x (W [rows, cols] of type t; x [n_x, cols]; y [n_x, rows]). The weights
// are read once for up to 8 vectors.
void gemv(DType t, const void* W, int rows, int cols, const float* x, int n_x, float* y, Stream s);

// KV pages on the device: a page is slot * page_bytes from `arena`; K of KV head g at g * k_head_bytes, V at
// n_kv_heads * k_head_bytes + g * v_head_bytes; rows of k_row_bytes / v_row_bytes (kv_type 0 f32, 1 f16, 2 q8_0,
// as KVType).
struct DevKV {
  uint8_t* arena = nullptr;
  size_t page_bytes = 0, k_head_bytes = 0, v_head_bytes = 0, k_row_bytes = 0, v_row_bytes = 0;
  int kv_type = 1, n_kv_heads = 0, head_dim = 0, head_dim_v = 0;
};
// Stores token i's k [n_kv_heads * head_dim] and v rows into page slot[i], row row[i] (encoded as the CPU's
// kv_encode_row does).
void store_kv(const DevKV& kv, const float* k, const float* v, const int32_t* slot, const int32_t* row, int n,
              Stream s);

// Flash-decoding: query i (q [n, n_heads, head_dim]) attends keys 0 .. n_keys[i]-1 of the blocks listed in
// table + table_off[i] (one slot per 256-token block, -1: the page is not on the device and is skipped), the
// keys cut into n_splits ranges of blocks; partial states (engine/kv/attn_state.h) go to
// states [n, n_heads, n_splits, 2 + head_dim_v].
void flash_decode(const DevKV& kv, const float* q, int n, int n_heads, float scale, const int32_t* n_keys,
                  const int32_t* table, const int32_t* table_off, int n_splits, float* states, Stream s);
// out [n, n_heads * head_dim_v] = merge of the n_splits states of each (query, head) and, when host_states is
// not null, of host_states [n, n_heads, 2 + head_dim_v] (the CPU's part over pages off the device).
void merge_states(const float* states, int n_splits, const float* host_states, int n, int n_heads, int head_dim_v,
                  float* out, Stream s);

}  // namespace cj::cuda

namespace cj::cuda {
// The device the backend uses (0) and its memory; false with *why when none is usable.
bool device_memory(int device, size_t* free_bytes, size_t* total_bytes, std::string* why);
}  // namespace cj::cuda

namespace cj::cuda {
// The device's memory read bandwidth in GB/s: a kernel summing a buffer of `bytes` (16-byte loads), best of
// `reps` timed runs after a warm-up; 0 on failure (*why says why).
double device_read_bandwidth_gbs(size_t bytes, int reps, std::string* why);
}  // namespace cj::cuda
