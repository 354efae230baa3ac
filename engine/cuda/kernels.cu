// The decode-path kernels (kernels.h). Written for memory bandwidth in the simplest form that is correct: a warp
// per weight row reading it once for up to 8 input vectors; a warp per (query, head, key range) in the attention.
// Faster forms (vectorised Q8_0 loads, tensor-core prefill) replace these behind the same declarations.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>

#include "engine/cuda/elem.h"
#include "engine/cuda/kernels.h"

namespace cj::cuda {

namespace {

constexpr int kMaxX = 8;        // input vectors per gemv pass
constexpr int kMaxPerLane = 8;  // head_dim / 32 (head sizes up to 256)
constexpr int kQ8 = 32, kQ8Bytes = 34;

cudaStream_t st(Stream s) { return static_cast<cudaStream_t>(s); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float f16(const uint8_t* p) { return __half2float(*reinterpret_cast<const __half*>(p)); }

__device__ __forceinline__ float load_elem(int t, const uint8_t* row, int c) { return elem(t, row, c); }

int code(DType t) { return elem_code(t); }

__global__ void k_embed(int t, const uint8_t* table, size_t row_bytes, int E, const int32_t* tokens, float* x) {
  const int i = blockIdx.x;
  const uint8_t* row = table + size_t(tokens[i]) * row_bytes;
  for (int c = threadIdx.x; c < E; c += blockDim.x) x[size_t(i) * E + c] = load_elem(t, row, c);
}

__global__ void k_rmsnorm(const float* x, const float* w, float* y, int dim, float eps) {
  __shared__ float part[32];
  const float* xr = x + size_t(blockIdx.x) * dim;
  float ss = 0;
  for (int c = threadIdx.x; c < dim; c += blockDim.x) ss += xr[c] * xr[c];
  ss = warp_sum(ss);
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = ss;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < (blockDim.x + 31) / 32 ? part[threadIdx.x] : 0.0f;
    v = warp_sum(v);
    if (threadIdx.x == 0) part[0] = v;
  }
  __syncthreads();
  const float scale = rsqrtf(part[0] / float(dim) + eps);
  float* yr = y + size_t(blockIdx.x) * dim;
  for (int c = threadIdx.x; c < dim; c += blockDim.x) yr[c] = xr[c] * scale * w[c];
}

__global__ void k_add_bias(float* y, const float* b, int rows, int dim) {
  const size_t n = size_t(rows) * dim;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    y[i] += b[i % dim];
}

__global__ void k_add(float* y, const float* x, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    y[i] += x[i];
}

__global__ void k_swiglu(float* g, const float* u, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

__global__ void k_rope(float* x, int n_heads, int head_dim, int n_dims, bool neox, const float* cos,
                       const float* sin) {
  const int i = blockIdx.x, half = n_dims / 2;
  const float* c = cos + size_t(i) * half;
  const float* s = sin + size_t(i) * half;
  for (int idx = threadIdx.x; idx < n_heads * half; idx += blockDim.x) {
    const int h = idx / half, j = idx % half;
    float* v = x + (size_t(i) * n_heads + h) * head_dim;
    const int a = neox ? j : 2 * j, b = neox ? j + half : 2 * j + 1;
    const float va = v[a], vb = v[b];
    v[a] = va * c[j] - vb * s[j];
    v[b] = va * s[j] + vb * c[j];
  }
}

// One warp per row; 4 rows per block.
template <int T>
__global__ void k_gemv(const uint8_t* W, size_t row_bytes, int rows, int cols, const float* x, int nx, float* y) {
  const int r = blockIdx.x * 4 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  if (r >= rows) return;
  const uint8_t* w = W + size_t(r) * row_bytes;
  float acc[kMaxX] = {};
  if (T == 0) {
    const float* wr = reinterpret_cast<const float*>(w);
    for (int c = lane; c < cols; c += 32) {
      const float wv = wr[c];
#pragma unroll
      for (int j = 0; j < kMaxX; ++j)
        if (j < nx) acc[j] += wv * x[size_t(j) * cols + c];
    }
  } else if (T == 1) {
    if ((cols & 1) == 0) {
      const __half2* wr = reinterpret_cast<const __half2*>(w);
      for (int c = lane; c < cols / 2; c += 32) {
        const float2 wv = __half22float2(wr[c]);
#pragma unroll
        for (int j = 0; j < kMaxX; ++j)
          if (j < nx) acc[j] += wv.x * x[size_t(j) * cols + 2 * c] + wv.y * x[size_t(j) * cols + 2 * c + 1];
      }
    } else {
      const __half* wr = reinterpret_cast<const __half*>(w);
      for (int c = lane; c < cols; c += 32) {
        const float wv = __half2float(wr[c]);
#pragma unroll
        for (int j = 0; j < kMaxX; ++j)
          if (j < nx) acc[j] += wv * x[size_t(j) * cols + c];
      }
    }
  } else {
    // Q8_0: a lane takes one 32-value block at a time; its 16 two-byte words are read as pairs of quants.
    const int nb = cols / kQ8;
    for (int b = lane; b < nb; b += 32) {
      const uint8_t* blk = w + size_t(b) * kQ8Bytes;
      const float d = f16(blk);
      const int16_t* q2 = reinterpret_cast<const int16_t*>(blk + 2);
      float part[kMaxX] = {};
#pragma unroll
      for (int e = 0; e < kQ8 / 2; ++e) {
        const int16_t pair = q2[e];
        const float q0 = float(int8_t(pair & 0xff)), q1 = float(int8_t(pair >> 8));
        const int c = b * kQ8 + 2 * e;
#pragma unroll
        for (int j = 0; j < kMaxX; ++j)
          if (j < nx) part[j] += q0 * x[size_t(j) * cols + c] + q1 * x[size_t(j) * cols + c + 1];
      }
#pragma unroll
      for (int j = 0; j < kMaxX; ++j) acc[j] += d * part[j];
    }
  }
#pragma unroll
  for (int j = 0; j < kMaxX; ++j) {
    if (j >= nx) break;
    const float v = warp_sum(acc[j]);
    if (lane == 0) y[size_t(j) * rows + r] = v;
  }
}

// Any other type (bf16, q4_0, q4_K, q6_K): element by element through elem.h (lanes read neighbouring elements).
__global__ void k_gemv_any(int t, const uint8_t* W, size_t row_bytes, int rows, int cols, const float* x, int nx,
                           float* y) {
  const int r = blockIdx.x * 4 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  if (r >= rows) return;
  const uint8_t* w = W + size_t(r) * row_bytes;
  float acc[kMaxX] = {};
  for (int c = lane; c < cols; c += 32) {
    const float wv = elem(t, w, c);
#pragma unroll
    for (int j = 0; j < kMaxX; ++j)
      if (j < nx) acc[j] += wv * x[size_t(j) * cols + c];
  }
#pragma unroll
  for (int j = 0; j < kMaxX; ++j) {
    if (j >= nx) break;
    const float v = warp_sum(acc[j]);
    if (lane == 0) y[size_t(j) * rows + r] = v;
  }
}

// One block of 128 threads per token.
__global__ void k_store_kv(DevKV kv, const float* k, const float* v, const int32_t* slot, const int32_t* row) {
  const int i = blockIdx.x;
  uint8_t* page = kv.arena + size_t(slot[i]) * kv.page_bytes;
  const size_t r = size_t(row[i]);
  const int HK = kv.n_kv_heads, Dk = kv.head_dim, Dv = kv.head_dim_v;
  const float* ki = k + size_t(i) * HK * Dk;
  const float* vi = v + size_t(i) * HK * Dv;
  uint8_t* vbase = page + size_t(HK) * kv.k_head_bytes;
  if (kv.kv_type != 2) {
    for (int e = threadIdx.x; e < HK * (Dk + Dv); e += blockDim.x) {
      const bool isk = e < HK * Dk;
      const int e2 = isk ? e : e - HK * Dk, D = isk ? Dk : Dv, g = e2 / D, c = e2 % D;
      uint8_t* dst = isk ? page + g * kv.k_head_bytes + r * kv.k_row_bytes : vbase + g * kv.v_head_bytes + r * kv.v_row_bytes;
      const float val = isk ? ki[e2] : vi[e2];
      if (kv.kv_type == 0) reinterpret_cast<float*>(dst)[c] = val;
      else reinterpret_cast<__half*>(dst)[c] = __float2half_rn(val);
    }
    return;
  }
  // q8_0: a warp per 32-value block (scale d = f16(max|x| / 127), quants round(x / d)).
  const int lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  const int kb = HK * Dk / kQ8, vb = HK * Dv / kQ8;
  for (int blk = threadIdx.x >> 5; blk < kb + vb; blk += warps) {
    const bool isk = blk < kb;
    const int b2 = isk ? blk : blk - kb, per = (isk ? Dk : Dv) / kQ8, g = b2 / per, w = b2 % per;
    const float val = (isk ? ki : vi)[size_t(b2) * kQ8 + lane];
    const float amax = warp_max(fabsf(val));
    const __half dh = __float2half_rn(amax / 127.0f);
    const float d = __half2float(dh), id = d > 0 ? 1.0f / d : 0.0f;
    int q = __float2int_rn(val * id);
    q = q < -127 ? -127 : q > 127 ? 127 : q;
    uint8_t* dst = (isk ? page + g * kv.k_head_bytes + r * kv.k_row_bytes : vbase + g * kv.v_head_bytes + r * kv.v_row_bytes) +
                   size_t(w) * kQ8Bytes;
    if (lane == 0) *reinterpret_cast<__half*>(dst) = dh;
    reinterpret_cast<int8_t*>(dst + 2)[lane] = int8_t(q);
  }
}

// grid (n_splits, n_heads, n), one warp each.
__global__ void k_flash_decode(DevKV kv, const float* q, int n_heads, float scale, const int32_t* n_keys,
                               const int32_t* table, const int32_t* table_off, float* states) {
  const int split = blockIdx.x, h = blockIdx.y, i = blockIdx.z, n_splits = gridDim.x, lane = threadIdx.x;
  const int Dk = kv.head_dim, Dv = kv.head_dim_v, G = n_heads / kv.n_kv_heads, g = h / G;
  const int nk = n_keys[i], nblocks = (nk + 255) / 256;
  const int b0 = int(int64_t(split) * nblocks / n_splits), b1 = int(int64_t(split + 1) * nblocks / n_splits);
  float qr[kMaxPerLane], acc[kMaxPerLane];
  const float* qi = q + (size_t(i) * n_heads + h) * Dk;
#pragma unroll
  for (int j = 0; j < kMaxPerLane; ++j) {
    const int d = lane + 32 * j;
    qr[j] = d < Dk ? qi[d] : 0.0f;
    acc[j] = 0;
  }
  float m = -INFINITY, l = 0;
  const int32_t* tab = table + table_off[i];
  for (int b = b0; b < b1; ++b) {
    const int slot = tab[b];
    if (slot < 0) continue;  // off the device: the CPU's part
    const uint8_t* page = kv.arena + size_t(slot) * kv.page_bytes;
    const uint8_t* K = page + size_t(g) * kv.k_head_bytes;
    const uint8_t* V = page + size_t(kv.n_kv_heads) * kv.k_head_bytes + size_t(g) * kv.v_head_bytes;
    const int rows = min(256, nk - b * 256);
    for (int t = 0; t < rows; ++t) {
      const uint8_t* kr = K + size_t(t) * kv.k_row_bytes;
      float s = 0;
#pragma unroll
      for (int j = 0; j < kMaxPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < Dk) s += qr[j] * load_elem(kv.kv_type, kr, d);
      }
      s = warp_sum(s) * scale;
      const float mn = fmaxf(m, s), w = expf(m - mn), p = expf(s - mn);
      m = mn;
      l = l * w + p;
      const uint8_t* vr = V + size_t(t) * kv.v_row_bytes;
#pragma unroll
      for (int j = 0; j < kMaxPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < Dv) acc[j] = acc[j] * w + p * load_elem(kv.kv_type, vr, d);
      }
    }
  }
  float* out = states + ((size_t(i) * n_heads + h) * n_splits + split) * (2 + Dv);
  if (lane == 0) {
    out[0] = m;
    out[1] = l;
  }
#pragma unroll
  for (int j = 0; j < kMaxPerLane; ++j) {
    const int d = lane + 32 * j;
    if (d < Dv) out[2 + d] = acc[j];
  }
}

// grid (n, n_heads), one warp each.
__global__ void k_merge(const float* states, int n_splits, const float* host, int n_heads, int Dv, float* out) {
  const int i = blockIdx.x, h = blockIdx.y, S = 2 + Dv;
  const float* st = states + (size_t(i) * n_heads + h) * n_splits * S;
  const float* hs = host ? host + (size_t(i) * n_heads + h) * S : nullptr;
  float M = -INFINITY;
  for (int sp = 0; sp < n_splits; ++sp)
    if (st[sp * S + 1] > 0) M = fmaxf(M, st[sp * S]);
  if (hs && hs[1] > 0) M = fmaxf(M, hs[0]);
  float L = 0;
  for (int sp = 0; sp < n_splits; ++sp)
    if (st[sp * S + 1] > 0) L += st[sp * S + 1] * expf(st[sp * S] - M);
  if (hs && hs[1] > 0) L += hs[1] * expf(hs[0] - M);
  const float inv = L > 0 ? 1.0f / L : 0.0f;
  for (int d = threadIdx.x; d < Dv; d += blockDim.x) {
    float a = 0;
    for (int sp = 0; sp < n_splits; ++sp)
      if (st[sp * S + 1] > 0) a += st[sp * S + 2 + d] * expf(st[sp * S] - M);
    if (hs && hs[1] > 0) a += hs[2 + d] * expf(hs[0] - M);
    out[(size_t(i) * n_heads + h) * Dv + d] = a * inv;
  }
}

unsigned grid_for(size_t n) { return unsigned(std::min<size_t>((n + 255) / 256, 65535)); }

}  // namespace

void* dev_alloc(size_t bytes, std::string* err) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
  if (e != cudaSuccess) {
    if (err) *err = std::string("cudaMalloc of ") + std::to_string(bytes >> 20) + " MiB: " + cudaGetErrorString(e);
    cudaGetLastError();
    return nullptr;
  }
  return p;
}
void dev_free(void* p) {
  if (p) cudaFree(p);
}
bool to_device(void* dst, const void* src, size_t bytes, Stream s) {
  if (cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, st(s)) != cudaSuccess) return false;
  return cudaStreamSynchronize(st(s)) == cudaSuccess;
}
bool to_host(void* dst, const void* src, size_t bytes, Stream s) {
  if (cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, st(s)) != cudaSuccess) return false;
  return cudaStreamSynchronize(st(s)) == cudaSuccess;
}
bool dev_fill(void* dst, uint8_t byte, size_t bytes) { return cudaMemset(dst, byte, bytes) == cudaSuccess; }
std::string last_error() {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(cudaGetErrorString(e));
}
bool sync(Stream s) { return cudaStreamSynchronize(st(s)) == cudaSuccess; }

bool gemv_supported(DType t) { return code(t) >= 0; }

void embed(DType t, const void* table, int E, const int32_t* tokens, int n, float* x, Stream s) {
  k_embed<<<n, 256, 0, st(s)>>>(code(t), static_cast<const uint8_t*>(table), row_bytes(t, E), E, tokens, x);
}
void rmsnorm(const float* x, const float* w, float* y, int rows, int dim, float eps, Stream s) {
  k_rmsnorm<<<rows, dim >= 256 ? 256 : 32 * ((dim + 31) / 32), 0, st(s)>>>(x, w, y, dim, eps);
}
void add_bias(float* y, const float* b, int rows, int dim, Stream s) {
  k_add_bias<<<grid_for(size_t(rows) * dim), 256, 0, st(s)>>>(y, b, rows, dim);
}
void add(float* y, const float* x, size_t n, Stream s) { k_add<<<grid_for(n), 256, 0, st(s)>>>(y, x, n); }
void swiglu(float* g, const float* u, size_t n, Stream s) { k_swiglu<<<grid_for(n), 256, 0, st(s)>>>(g, u, n); }
void rope(float* x, int n_tokens, int n_heads, int head_dim, int n_dims, bool neox, const float* cos,
          const float* sin, Stream s) {
  k_rope<<<n_tokens, 128, 0, st(s)>>>(x, n_heads, head_dim, n_dims, neox, cos, sin);
}
void gemv(DType t, const void* W, int rows, int cols, const float* x, int n_x, float* y, Stream s) {
  const auto* w = static_cast<const uint8_t*>(W);
  const size_t rb = row_bytes(t, cols);
  const unsigned blocks = unsigned((rows + 3) / 4);
  for (int j0 = 0; j0 < n_x; j0 += kMaxX) {
    const int nx = std::min(kMaxX, n_x - j0);
    const float* xj = x + size_t(j0) * cols;
    float* yj = y + size_t(j0) * rows;
    switch (code(t)) {
      case 0: k_gemv<0><<<blocks, 128, 0, st(s)>>>(w, rb, rows, cols, xj, nx, yj); break;
      case 1: k_gemv<1><<<blocks, 128, 0, st(s)>>>(w, rb, rows, cols, xj, nx, yj); break;
      case 2: k_gemv<2><<<blocks, 128, 0, st(s)>>>(w, rb, rows, cols, xj, nx, yj); break;
      default: k_gemv_any<<<blocks, 128, 0, st(s)>>>(code(t), w, rb, rows, cols, xj, nx, yj); break;
    }
  }
}
void store_kv(const DevKV& kv, const float* k, const float* v, const int32_t* slot, const int32_t* row, int n,
              Stream s) {
  k_store_kv<<<n, 128, 0, st(s)>>>(kv, k, v, slot, row);
}
void flash_decode(const DevKV& kv, const float* q, int n, int n_heads, float scale, const int32_t* n_keys,
                  const int32_t* table, const int32_t* table_off, int n_splits, float* states, Stream s) {
  k_flash_decode<<<dim3(unsigned(n_splits), unsigned(n_heads), unsigned(n)), 32, 0, st(s)>>>(
      kv, q, n_heads, scale, n_keys, table, table_off, states);
}
void merge_states(const float* states, int n_splits, const float* host_states, int n, int n_heads, int head_dim_v,
                  float* out, Stream s) {
  k_merge<<<dim3(unsigned(n), unsigned(n_heads)), 32, 0, st(s)>>>(states, n_splits, host_states, n_heads,
                                                                   head_dim_v, out);
}

}  // namespace cj::cuda

namespace cj::cuda {
bool device_memory(int device, size_t* free_bytes, size_t* total_bytes, std::string* why) {
  cudaError_t e = cudaSetDevice(device);
  if (e == cudaSuccess) e = cudaMemGetInfo(free_bytes, total_bytes);
  if (e != cudaSuccess) {
    if (why) *why = cudaGetErrorString(e);
    cudaGetLastError();
    return false;
  }
  return true;
}
}  // namespace cj::cuda

namespace cj::cuda {
namespace {
__global__ void k_read(const float4* p, size_t n, float* sink) {
  float acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const float4 v = p[i];
    acc += v.x + v.y + v.z + v.w;
  }
  if (acc == 1234.5f) *sink = acc;  // keeps the loads; practically never true
}
}  // namespace

double device_read_bandwidth_gbs(size_t bytes, int reps, std::string* why) {
  bytes = bytes / 16 * 16;
  void* buf = dev_alloc(bytes + 16, why);
  if (!buf) return 0;
  cudaMemset(buf, 0, bytes + 16);
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  const unsigned grid = unsigned(std::max(1, sms) * 8);
  const auto* p = static_cast<const float4*>(buf);
  float* sink = reinterpret_cast<float*>(static_cast<uint8_t*>(buf) + bytes);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  k_read<<<grid, 512>>>(p, bytes / 16, sink);
  float best_ms = 1e30f;
  for (int r = 0; r < reps; ++r) {
    cudaEventRecord(a);
    k_read<<<grid, 512>>>(p, bytes / 16, sink);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    best_ms = std::min(best_ms, ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  dev_free(buf);
  const std::string e = last_error();
  if (!e.empty()) {
    if (why) *why = e;
    return 0;
  }
  return double(bytes) / (double(best_ms) * 1e-3) / 1e9;
}
}  // namespace cj::cuda
