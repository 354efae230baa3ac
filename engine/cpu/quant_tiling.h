// The tiling driver shared by the SIMD kernel sets: a kernel class K provides kNR (weight rows per full tile) and
// tile<NR, NX>(W, w_stride, A, a_stride, cols, Y, ldy) writing Y[i * ldy + r] for r < NR, i < NX (NX <= 4).
// Weight-row tiles are the outer loop and activation-row tiles the inner one, so a tile of weight rows stays in L1
// while every activation row passes by (matmul), and NR rows stream side by side (matvec).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace cj::kern {

// Weight rows of at least this many bytes get no tile prefetch (below): the hardware prefetcher follows a row this
// long (ffn_down, 4864 columns: 5 KB of q8_0); measured, single thread, CJ_PROFILE decode of a Qwen2.5-0.5B-shaped
// q8_0 model: ffn_down 7.7-8.0 ms/token without software prefetch, 8.6-8.8 ms with the tile prefetch.
constexpr size_t kLongRowBytes = 4096;
// ... but with 2 threads streaming NR rows each, fetching each row a little ahead inside the kernel keeps more
// lines in flight. Measured, 2 threads, CJ_PROFILE decode of that model, five alternating runs (medians):
// q8_0 ffn_down 4.52 ms/token without, 3.76 with 768 bytes ahead (3.82 at 384).
constexpr size_t kLongRowPrefetch = 768;
// q4_K matvec, every row (on top of the tile prefetch for short rows): Qwen2.5-0.5B-shaped q4_K model, q4_K ffn_down,
// same protocol: 4.16 ms/token without, 2.79 / 2.52 / 2.62 at 256 / 384 / 512 bytes ahead (3.38 at 384 without the
// tile prefetch); the whole decode 10.30 → 8.24 ms/token.
constexpr size_t kQ4KRowPrefetch = 384;

// Short rows: the rows of a task are contiguous, so one stream; each tile fetches into L2 (prefetcht1) the bytes
// kL2PrefetchAhead beyond its own start, and the kernels' own short-distance prefetch or the L1 prefetcher brings them
// on. Measured, one thread, 2-core VM under other work, the experts of a Qwen3-MoE decode (24 layers x 8 of 64
// experts, 512 x 1024 and 1024 x 512 matrices, read from DRAM), against the earlier tile prefetch (the next-but-one
// tile, prefetchnta): q4_K 10.5 -> 9.2 ms/token, q8_0 36 -> 17 ms/token; distance, same setup with the unrolled q4_K
// kernel: q4_K 8.2 / 7.45 / 7.5 / 7.8 / 8.2 / 8.6 ms/token at 4 / 6 / 8 / 12 / 16 / 24 KB, q8_0 17.0 / 15.3 / 15.9 /
// 17.2 ms/token at 4 / 6 / 8 / 12 KB.
constexpr size_t kL2PrefetchAhead = 8192;
inline void prefetch_l2_ahead(const uint8_t* W, size_t ws, int64_t r, int nr, int64_t r1) {
  const uint8_t* next = W + r * ws + kL2PrefetchAhead;
  const uint8_t* end = W + r1 * ws;
  const size_t bytes = size_t(nr) * ws;
  if (next + bytes > end) return;
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(next + off, 0, 2);
}

// The first kL2PrefetchAhead bytes of a task's rows, before its first tile (the tiles fetch only beyond that): the
// experts' matrices of a MoE decode are a few hundred KB each, started cold (1 % on the expert time above).
inline void prefetch_l2_start(const uint8_t* W, size_t ws, int64_t r0, int64_t r1) {
  const size_t bytes = std::min(kL2PrefetchAhead, size_t(r1 - r0) * ws);
  const uint8_t* p = W + r0 * ws;
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 2);
}

template <class K, int NR>
inline void tile_nx(int nx, const uint8_t* W, size_t ws, const uint8_t* A, size_t as, int64_t cols, float* Y,
                    int64_t ldy) {
  switch (nx) {
    case 4: K::template tile<NR, 4>(W, ws, A, as, cols, Y, ldy); break;
    case 3: K::template tile<NR, 3>(W, ws, A, as, cols, Y, ldy); break;
    case 2: K::template tile<NR, 2>(W, ws, A, as, cols, Y, ldy); break;
    default: K::template tile<NR, 1>(W, ws, A, as, cols, Y, ldy); break;
  }
}

template <class K>
void tiled_gemm(const void* Wv, size_t ws, int64_t r0, int64_t r1, int64_t cols, const void* Av, size_t as, int64_t n,
                float* Y, int64_t ldy) {
  const auto* W = static_cast<const uint8_t*>(Wv);
  const auto* A = static_cast<const uint8_t*>(Av);
  // Activation rows in chunks that stay in L2 (a prefill of hundreds of rows of a 4864-wide input does not);
  // the task's weight rows are re-read once per chunk.
  constexpr int64_t kXChunk = 128;
  if (ws < kLongRowBytes) prefetch_l2_start(W, ws, r0, r1);
  for (int64_t i0 = 0; i0 < n; i0 += kXChunk) {
    const int64_t i1 = std::min(n, i0 + kXChunk);
    int64_t r = r0;
    for (; r + K::kNR <= r1; r += K::kNR) {
      // Short rows (1 KB for a 896-wide q8_0 row) are too short for the hardware prefetcher to ramp up on each
      // row's stream: fetch the bytes a few tiles ahead into L2 while this one computes.
      if (ws < kLongRowBytes) prefetch_l2_ahead(W, ws, r, K::kNR, r1);
      for (int64_t i = i0; i < i1; i += 4) {
        tile_nx<K, K::kNR>(static_cast<int>(std::min<int64_t>(4, i1 - i)), W + r * ws, ws, A + i * as, as, cols,
                           Y + i * ldy + r, ldy);
      }
    }
    for (; r < r1; ++r) {
      for (int64_t i = i0; i < i1; i += 4) {
        tile_nx<K, 1>(static_cast<int>(std::min<int64_t>(4, i1 - i)), W + r * ws, ws, A + i * as, as, cols,
                      Y + i * ldy + r, ldy);
      }
    }
  }
}

}  // namespace cj::kern
