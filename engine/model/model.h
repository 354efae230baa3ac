// A loaded model: the GGUF file (mmapped, never copied), its configuration, views of every weight tensor, and
// the tokenizer stored in the file. Backends read the weights through these views.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/format/gguf.h"
#include "engine/model/model_config.h"
#include "engine/format/dtype.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj {

// A weight matrix (or vector when rows == 1) stored row-major: `rows` rows of `cols` elements of `type`; or a
// stack of n_mats such matrices one after another (a 3-D GGUF tensor: the experts of a MoE block, the per-head
// matrices of MLA), matrix e being mat(e).
struct WeightView {
  DType type = DType::F32;
  const void* data = nullptr;  // [n_mats, rows, row_bytes(type, cols)]
  int64_t rows = 0;            // output features (ggml dims[1])
  int64_t cols = 0;            // input features (ggml dims[0])
  int64_t n_mats = 1;          // ggml dims[2] (1 for a matrix)
  bool present() const { return data != nullptr; }
  size_t mat_bytes() const { return data ? row_bytes(type, cols) * size_t(rows) : 0; }  // one matrix
  size_t bytes() const { return mat_bytes() * size_t(n_mats); }
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + size_t(r) * row_bytes(type, cols); }
  WeightView mat(int64_t e) const {
    WeightView v = *this;
    v.data = static_cast<const uint8_t*>(data) + size_t(e) * mat_bytes();
    v.n_mats = 1;
    return v;
  }
};

struct LayerWeights {
  WeightView attn_norm;                  // [n_embd] f32
  WeightView wq, wk, wv;                 // [q_dim, n_embd], [kv_dim, n_embd], [v_dim, n_embd]
  WeightView bq, bk, bv;                 // qwen2: [q_dim], [kv_dim], [v_dim] f32
  WeightView q_norm, k_norm;             // qwen3: [head_dim] f32
  WeightView wo;                         // [n_embd, attn_out_dim]
  WeightView ffn_norm;                   // [n_embd] f32
  WeightView w_gate, w_up;               // [n_ff, n_embd] (dense blocks)
  WeightView w_down;                     // [n_embd, n_ff]
  // Mixture of experts (qwen3moe, deepseek2 after the leading dense blocks).
  WeightView router;                     // ffn_gate_inp [n_expert, n_embd]
  WeightView probs_bias;                 // exp_probs_b [n_expert] f32, optional: added to the probabilities to select
  WeightView gate_exps, up_exps;         // [n_expert][n_ff_exp, n_embd]
  WeightView down_exps;                  // [n_expert][n_embd, n_ff_exp]
  WeightView gate_shexp, up_shexp;       // deepseek2: [n_shared * n_ff_exp, n_embd]
  WeightView down_shexp;                 // [n_embd, n_shared * n_ff_exp]
  // Multi-head latent attention (deepseek2); H = n_heads, Dq = qk_nope + qk_rope. wq (above) is [H * Dq, n_embd]
  // when there is no q_lora_rank; wo is [n_embd, H * v_head].
  WeightView wq_a;                       // [q_lora, n_embd]
  WeightView q_a_norm;                   // [q_lora] f32
  WeightView wq_b;                       // [H * Dq, q_lora]
  WeightView wkv_a;                      // attn_kv_a_mqa [kv_lora + qk_rope, n_embd]
  WeightView kv_a_norm;                  // [kv_lora] f32
  WeightView wk_b;                       // attn_k_b [H][kv_lora, qk_nope]: head h's query part into the latent space
  WeightView wv_b;                       // attn_v_b [H][v_head, kv_lora]: head h's value out of the latent space
};

class Model {
 public:
  // Opens, validates and maps the model. The tokenizer is optional (tokenizer() is null without one).
  static Result<std::unique_ptr<Model>> load(const std::string& path);
  // The same from a parsed file (an in-memory image: fuzzing, tests).
  static Result<std::unique_ptr<Model>> from_file(gguf::File f);

  const ModelConfig& config() const { return cfg_; }
  const gguf::File& file() const { return file_; }
  const Tokenizer* tokenizer() const { return tok_.get(); }
  const std::string& tokenizer_error() const { return tok_error_; }

  WeightView token_embd;                 // [n_vocab, n_embd]
  WeightView output_norm;                // [n_embd] f32
  WeightView output;                     // [n_vocab, n_embd] (== token_embd when tied)
  WeightView rope_freqs;                 // optional [rope n_dims / 2] f32 angle divisors (rope_freqs.weight)
  std::vector<LayerWeights> layers;      // [n_layers]

  // Bytes of weights read per decoded token: every matrix once, one embedding row, and of each MoE block the
  // router and n_expert_used of its n_expert experts (the active parameters).
  size_t weight_bytes_per_token() const;
  // Bytes of all weights (every expert).
  size_t weight_bytes_total() const;
  // Human-readable summary: "qwen2 24 layers 896 embd … q8_0".
  std::string describe() const;

 private:
  explicit Model(gguf::File f) : file_(std::move(f)) {}
  Status bind_mla(int layer);
  gguf::File file_;
  ModelConfig cfg_;
  std::unique_ptr<Tokenizer> tok_;
  std::string tok_error_;
  std::vector<std::vector<float>> owned_;  // weights the loader derived (attn_k_b / attn_v_b from an attn_kv_b)
};

// A fingerprint of a model (shape, tensor names and types, sampled weight bytes): seeds the prefix cache's hash
// chain and is checked when a session snapshot is loaded.
uint64_t model_fingerprint(const Model& m);

}  // namespace cj
