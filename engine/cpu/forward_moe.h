// The mixture-of-experts feed-forward of the CPU backend (recipe FfnKind::Moe): routing, then every active expert's
// SwiGLU over exactly the rows routed to it, in two dispatches of the pool (all gate/up products, all down
// products: matmul_grouped). One decode token reads only its n_used experts' rows; a prefill chunk or a decode
// step of many sequences groups its rows by expert, so each expert's weights are read once per forward pass.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/cpu/quant.h"
#include "engine/model/model.h"
#include "engine/model/recipe.h"

namespace cj {

class ThreadPool;

// Routing of one token (llama.cpp's build_moe_ffn): p = softmax or sigmoid of the router logits; the selection
// score p + bias (bias optional) restricted, with groups, to the n_group_used groups whose two best scores sum
// highest; the n_used best scores in decreasing order -> experts[]; weights[] = p of those, divided by their sum
// (clamped below at 2^-14) when norm_weights, times weights_scale. logits [n_expert] is overwritten with p.
void moe_route(const MoeRecipe& m, float* logits, const float* bias, int32_t* experts, float* weights);

struct MoeScratch {
  void reserve(const Recipe& r, int n_batch);
  std::vector<float> logits;      // [B, n_expert] router logits, then probabilities
  std::vector<int32_t> sel;       // [B, n_used] expert of each (row, slot)
  std::vector<float> wts;         // [B, n_used] its weight
  std::vector<int32_t> count;     // [n_expert] rows routed to each expert
  std::vector<int32_t> offset;    // [n_expert + 1] first gathered row of each expert
  std::vector<int32_t> active;    // [n_expert] the experts with rows (a few rows: one task each)
  std::vector<int32_t> rows;      // [B * n_used] batch row of each gathered row (grouped by expert)
  std::vector<int32_t> where;     // [B * n_used] gathered row of (row, slot)
  std::vector<float> gate, up;    // [B * n_used, n_ff_exp] (gate becomes silu(gate) * up)
  std::vector<float> down;        // [B * n_used, n_embd]
  std::vector<float> sh_gate, sh_up;  // [B, n_ff_shared]
  std::vector<float> sh_down;     // [B, n_embd]
  std::vector<GemmJob> jobs;      // [2 * n_expert + 2]
  // One token (decode): every active expert's SwiGLU as ONE task of one dispatch.
  size_t xprep_stride = 0, hprep_stride = 0;
  std::vector<uint8_t> xprep;     // [4, xprep_stride] the input prepared per gate / up type (+ 64 to align)
  std::vector<uint8_t> hprep;     // [n_used + 1, hprep_stride] each task's silu(gate) * up prepared for down
};

// x[i] += MoE(xn[i]) for the n rows. One row (a decode token): the router on the caller, then ONE dispatch whose
// tasks are whole experts (gate, up, silu, down of one active expert; the shared experts one more task), the same
// kernels on the same prepared input as the grouped path, so the results are identical. A few rows (a decode step
// of several sequences, <= 16): grouped by expert, then ONE dispatch whose tasks are the active experts (each reads
// its weights once for all its rows). More rows (prefill): the grouped path, every expert's rows cut across the
// pool (two dispatches). (xn: [n, n_embd] normalized input, x: [n, n_embd] residual stream). Returns
// the bytes of weights the products read (router, each distinct active expert once, shared experts).
size_t moe_ffn(const LayerWeights& L, const Recipe& r, const float* xn, int n, float* x, MoeScratch& s,
               ThreadPool* pool);

}  // namespace cj
