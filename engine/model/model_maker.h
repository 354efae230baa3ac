// Random-weight GGUF models of any shape and type, for tests and benchmarks. Weights are scaled so that
// activations stay sane (matrices ~ U with std 1/sqrt(fan_in), norms ~ 1, embeddings ~ unit rms), which keeps
// logits comparisons meaningful. A tokenizer (VocabSpec) can be embedded; the vocabulary is padded to n_vocab.
#pragma once
#include <cstdint>
#include <string>

#include "engine/base/result.h"
#include "engine/model/model_config.h"
#include "engine/format/dtype.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj {

struct MakeModelSpec {
  Arch arch = Arch::Qwen2;
  int n_layers = 2, n_embd = 64, n_heads = 4, n_kv_heads = 2, n_ff = 128;
  int head_dim = 0;          // 0: n_embd / n_heads
  int n_vocab = 0;           // 0: the tokenizer's size (256 without one)
  DType type = DType::F32;   // type of the 2-D weight matrices (norms and biases stay f32)
  bool tied = true;          // no output.weight (logits use token_embd)
  uint64_t seed = 1;
  int n_ctx_train = 32768;
  float freq_base = 1000000.0f;
  float rms_eps = 1e-6f;
  std::string rope_scaling;  // "", "linear" or "yarn"
  float rope_factor = 1;
  int rope_orig_ctx = 0;
  bool rope_freqs = false;   // write rope_freqs.weight (Llama 3.1-style per-pair angle divisors, random in [1, 8])
  const VocabSpec* vocab = nullptr;  // optional tokenizer to embed
  // Mixture of experts (qwen3moe): n_expert SwiGLU experts of width n_ff_exp, n_expert_used active per token; the
  // first n_dense_lead blocks keep the dense SwiGLU of width n_ff.
  int n_expert = 8, n_expert_used = 2, n_ff_exp = 0;  // n_ff_exp 0: n_ff
  int n_dense_lead = 0;
  // deepseek2: multi-head latent attention (q through a low-rank q_lora, or directly with q_lora_rank 0; a cached latent of kv_lora values and one
  // RoPE key of qk_rope values; per-head keys of qk_nope + qk_rope, values of v_head, attn_k_b / attn_v_b written
  // split as newer converters do), n_expert_shared shared experts, expert weights scale/normalisation, the gating
  // function (sigmoid also writes the selection bias exp_probs_b).
  int q_lora_rank = 64, kv_lora_rank = 32, qk_nope = 16, qk_rope = 8, v_head = 16;
  int n_expert_shared = 1;
  float expert_weights_scale = 1;
  bool expert_weights_norm = false;
  bool sigmoid_gating = false;
};

// Writes the model. k-quant types need rows that are multiples of 256 elements: a matrix whose row length is
// not falls back to q4_0 (for q4_k) or q8_0 (for q6_k), as llama.cpp's quantizer does with its fallbacks.
Status make_model(const MakeModelSpec& s, const std::string& out_path);

// The type a matrix with rows of `cols` elements gets when `t` is requested (see above).
DType effective_type(DType t, int64_t cols);

// Loads a tokenizer file: tokenizer.json (Hugging Face) or a llama2.c tokenizer .bin.
Result<VocabSpec> load_tokenizer_file(const std::string& path);

}  // namespace cj
