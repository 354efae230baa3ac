// Internal interface between the flash-attention driver (engine/attention_flash.cpp) and its per-instruction-set
// kernels (attention_flash_avx512.cpp: AVX-512 BF16; attention_flash_avx2.cpp: AVX2/FMA f32), each compiled with
// its own flags. See engine/attention_flash.h for the algorithm.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/kv/kv_pool.h"

namespace cj::flash {

constexpr int kChunk = 64;  // keys packed and visited at a time (a chunk never crosses a 256-token page)
constexpr int kRun = 256;   // decode: keys scored before one softmax update (a page's run of one KV head)
constexpr int kSbStride = kRun + 16;  // floats per row of Tile::sb (a piece's last group of 16 may spill past kRun)
constexpr int kMaxPieces = 64;        // pieces per decode_run call

// Decode: n consecutive key (value) rows of one page, k / v at the first ones.
struct Piece {
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  int n = 0;
};

// One work item's state: M rows (row r = query r / G of the tile, head r % G of the group), the online-softmax
// state per row, and the packed buffers. The driver owns the memory (sized by Kernels::*_bytes).
struct Tile {
  int G = 1, D = 0, Dv = 0, M = 0;
  KVType type = KVType::F16;
  size_t krb = 0, vrb = 0;  // bytes of one key / value row
  int pos_first = 0;        // position of the tile's first query (row r sees keys <= pos_first + r / G)
  void* qp = nullptr;       // [M, D] queries times the scale, packed (bf16 or f32)
  float* o = nullptr;       // [M, Dv] unnormalized output
  float* m = nullptr;       // [M] running max of the scores
  float* l = nullptr;       // [M] running sum of exp(score - m)
  void* kt = nullptr;       // one packed chunk of keys
  void* vp = nullptr;       // one packed chunk of values
  void* pb = nullptr;       // probabilities of a block of rows
  float* qf = nullptr;      // decode: [M, D] queries times the scale, f32
  float* sb = nullptr;      // decode: [M, kSbStride] scores, then probabilities, of one decode_run call
};

struct Kernels {
  size_t (*qp_bytes)(int M, int D);
  size_t (*kt_bytes)(int D);
  size_t (*vp_bytes)(int Dv);
  size_t (*pb_bytes)();
  // Packs the M query rows q[r] (f32, D values) times scale; m = -inf, l = 0, o = 0.
  void (*begin)(Tile& t, const float* const* q, float scale);
  // Keys pos t0 .. t0 + nk - 1 (1 <= nk <= kChunk): k, v point at their first rows (krb / vrb apart).
  void (*chunk)(Tile& t, const uint8_t* k, const uint8_t* v, int t0, int nk);
  // Decode (optional; nullptr: decode runs through begin/chunk). decode_begin: qf = q · scale, m, l, o reset.
  // decode_run: 1 <= np <= kMaxPieces pieces of 1..kRun keys each, kRun keys at most in all (a page run, or
  // several selected units of different pages), every key visible to every row: scores in f32 straight from the
  // cache rows (no packing, no bf16), one softmax update per call, O += P·V in f32.
  void (*decode_begin)(Tile& t, const float* const* q, float scale) = nullptr;
  void (*decode_run)(Tile& t, const Piece* p, int np) = nullptr;
};

const Kernels& kernels_avx512bf16();
const Kernels& kernels_avx2();

}  // namespace cj::flash
