// Multi-head latent attention of the CPU backend (recipe AttnKind::Mla, deepseek2), in the absorbed form: each
// token caches ONE row [c (kv_lora_rank), k_pe (qk_rope)] per layer; a head's query is multiplied into the latent
// space (W_kb[h] q_nope) so that every head attends the cached rows directly (MQA over rows of kv_lora + qk_rope,
// the value being the first kv_lora values of the row), and the latent output goes through W_vb[h] afterwards.
// Kept apart from the GQA attention (forward_attention.cpp): all query heads share one cached row per key, so a
// sub-block of rows is converted to f32 once and used by every head of every query of a tile.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/forward_attention.h"
#include "engine/cpu/quant.h"

namespace cj {

class ThreadPool;

class MlaScratch {
 public:
  static constexpr int kTileQ = 8;      // queries per prefill tile (each with all heads)
  static constexpr int kSubKeys = 32;   // rows per sub-block (converted to f32 once)
  static constexpr int kMaxSplits = 16; // decode key splits per query
  void reserve(const Recipe& r, int n_batch, int n_threads, int max_sequences, size_t stage_bytes);

  // Projections, [B = n_batch] rows:
  std::vector<float> qa;    // [B, q_lora_rank] (q_lora_rank > 0)
  std::vector<float> qf;    // [B, H * (qk_nope + qk_rope)] per-head queries before absorption
  std::vector<float> kvr;   // [B, kv_lora + qk_rope] the new cache rows (f32)
  std::vector<float> lat;   // [B, H * kv_lora] attention output in the latent space
  std::vector<GemmJob> jobs;  // [H + 2]
  // Attention, per task:
  int n_tasks = 0;
  size_t per_task = 0;          // floats
  std::vector<float> task_buf;  // [n_tasks, per_task]: rows [kSubKeys, Dk], scores [kTileQ * H, kSubKeys],
                                // m, l [kTileQ * H], acc [kTileQ * H, kv_lora]
  size_t stage_bytes = 0;
  std::vector<uint8_t> stage;   // [n_tasks, stage_bytes] a disk page's rows
  int max_partials = 0;         // decode (query, split) items whose states fit partial
  std::vector<float> partial;   // [max_partials, H, 2 + kv_lora]
};

// The attention block of one layer for the n tokens of the batch (xn: [n, n_embd] normalized input): projections,
// RoPE, the cache rows stored through b.kv[b.seq[i]] (slots prepared by the engine), absorbed attention over each
// run's rows, W_vb. out: [n, H * v_head] (the input of attn_output). cos/sin: [n, qk_rope / 2] of each row's
// position. fuse: run the query and kv_a products of a single token in one dispatch. Returns the bytes of weights read.
size_t mla_attention_block(const LayerWeights& L, const Recipe& r, int layer, const Batch& b, const float* xn, int n,
                           const AttentionGroup* groups, int n_groups, const float* cos, const float* sin,
                           float* q_abs, float* out, MlaScratch& s, ThreadPool* pool, int n_threads);

}  // namespace cj
