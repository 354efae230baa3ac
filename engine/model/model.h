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

// A weight matrix (or vector when rows == 1) stored row-major: `rows` rows of `cols` elements of `type`.
struct WeightView {
  DType type = DType::F32;
  const void* data = nullptr;  // [rows, row_bytes(type, cols)]
  int64_t rows = 0;            // output features (ggml dims[1])
  int64_t cols = 0;            // input features (ggml dims[0])
  bool present() const { return data != nullptr; }
  size_t bytes() const { return data ? row_bytes(type, cols) * size_t(rows) : 0; }
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + size_t(r) * row_bytes(type, cols); }
};

struct LayerWeights {
  WeightView attn_norm;                  // [n_embd] f32
  WeightView wq, wk, wv;                 // [q_dim, n_embd], [kv_dim, n_embd], [v_dim, n_embd]
  WeightView bq, bk, bv;                 // qwen2: [q_dim], [kv_dim], [v_dim] f32
  WeightView q_norm, k_norm;             // qwen3: [head_dim] f32
  WeightView wo;                         // [n_embd, attn_out_dim]
  WeightView ffn_norm;                   // [n_embd] f32
  WeightView w_gate, w_up;               // [n_ff, n_embd]
  WeightView w_down;                     // [n_embd, n_ff]
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

  // Bytes of weights read per decoded token (every matrix once, one embedding row).
  size_t weight_bytes_per_token() const;
  // Human-readable summary: "qwen2 24 layers 896 embd … q8_0".
  std::string describe() const;

 private:
  explicit Model(gguf::File f) : file_(std::move(f)) {}
  gguf::File file_;
  ModelConfig cfg_;
  std::unique_ptr<Tokenizer> tok_;
  std::string tok_error_;
};

// A fingerprint of a model (shape, tensor names and types, sampled weight bytes): seeds the prefix cache's hash
// chain and is checked when a session snapshot is loaded.
uint64_t model_fingerprint(const Model& m);

}  // namespace cj
