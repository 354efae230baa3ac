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
};

// Writes the model. k-quant types need rows that are multiples of 256 elements: a matrix whose row length is
// not falls back to q4_0 (for q4_k) or q8_0 (for q6_k), as llama.cpp's quantizer does with its fallbacks.
Status make_model(const MakeModelSpec& s, const std::string& out_path);

// The type a matrix with rows of `cols` elements gets when `t` is requested (see above).
DType effective_type(DType t, int64_t cols);

// Loads a tokenizer file: tokenizer.json (Hugging Face) or a llama2.c tokenizer .bin.
Result<VocabSpec> load_tokenizer_file(const std::string& path);

}  // namespace cj
