// Causal attention over the blocked KV cache for the CPU backend (GQA: the query heads of a group read their
// KV head's keys and values once per block), plus the small vector kernels it needs (f32 and f16 keys/values;
// AVX2/FMA/F16C chosen at run time, scalar otherwise).
#pragma once
#include <vector>

#include "engine/kv/kv_cache.h"

namespace cj {

class ThreadPool;

// A run of n_q consecutive queries of one sequence in a batch: rows row0 .. row0 + n_q - 1 of q/out, at positions
// pos0 .. pos0 + n_q - 1; query i attends that sequence's keys 0 .. pos0 + i.
struct AttentionGroup {
  const KVCache* kv = nullptr;
  int pos0 = 0;
  int n_q = 0;
  int row0 = 0;
};

struct AttentionArgs {
  int layer = 0;
  int n_heads = 0, n_kv_heads = 0, head_dim = 0, head_dim_v = 0;
  float scale = 1;     // 1 / sqrt(head_dim)
  const AttentionGroup* groups = nullptr;  // [n_groups]
  int n_groups = 0;
  const float* q = nullptr;  // [rows, n_heads * head_dim]
  float* out = nullptr;      // [rows, n_heads * head_dim_v]
};

// Scratch the attention needs, sized once per backend; nothing allocates per call. A task handles a tile of up
// to kTileQ consecutive queries of one KV head (a prefill run) or a range of key blocks for one query (a decode
// step; the partial states of a query's ranges are merged by log-sum-exp, engine/kv/attn_state.h), and
// keeps an online softmax per (query, head) while it walks the keys kSubKeys at a time: the keys and values of
// a sub-block stay in L1 while every query of the tile and every query head of the GQA group uses them.
class AttentionScratch {
 public:
  static constexpr int kTileQ = 16;     // queries per prefill tile
  static constexpr int kSubKeys = 64;   // keys per sub-block
  static constexpr int kMaxTasks = 64;  // concurrent tasks (prefill tiles are interleaved over them)
  static constexpr int kMaxSplits = 16; // decode key splits per KV head
  // stage_bytes: one KV head of a page (k_head_bytes + v_head_bytes), for pages on the disk tier; max_groups:
  // decode queries (sequences) one batch may hold.
  void reserve(int n_heads, int n_kv_heads, int head_dim_v, size_t stage_bytes, int max_groups = 1);
  float* task(int t) { return buf_.data() + size_t(t) * per_task_; }
  uint8_t* stage(int t) { return stage_.data() + size_t(t) * stage_bytes_; }
  float* partial() { return partial_.data(); }

  int group_ = 1, head_dim_v_ = 0;
  size_t per_task_ = 0;
  std::vector<float> buf_;      // [kMaxTasks, kTileQ * group * (kSubKeys + head_dim_v + 2)]
  size_t stage_bytes_ = 0;
  std::vector<uint8_t> stage_;  // [kMaxTasks, stage_bytes] disk pages read here (K of one head, then V)
  int max_partials_ = 0;        // decode work items (query, KV head, key split) whose states fit partial_
  std::vector<float> partial_;  // [max_partials, group, 2 + head_dim_v] decode partial states (attn_state.h)
};

void attention(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads);

// Vector kernels.
float dot_f32(const float* a, const float* b, int n);
float dot_f32_f16(const float* a, const uint16_t* b, int n);
void axpy_f32(float* y, float alpha, const float* x, int n);        // y += alpha * x
void axpy_f16(float* y, float alpha, const uint16_t* x, int n);
float dot_f32_q8(const float* a, const uint8_t* b, int n);          // b: q8_0 rows (n multiple of 32)
void axpy_q8(float* y, float alpha, const uint8_t* x, int n);

}  // namespace cj
