// Import of llama.c checkpoints (run.c's format: 7 int32 Config fields, then f32 weights) and tokenizer files
// into a GGUF llama model. llama2.c's RoPE rotates interleaved pairs of the unpermuted weights, which is the GGUF
// llama (normal) layout, so the weights are written as they are.
#pragma once
#include <string>
#include <string_view>

#include "engine/base/result.h"

namespace cj {

struct Llama2cInfo {
  int dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = false;
};

// Reads and checks the 28-byte header of a checkpoint image `data` against its size (named `name` in errors).
Result<Llama2cInfo> read_llama2c_header(std::string_view data, const std::string& name);

Result<Llama2cInfo> convert_llama2c(const std::string& model_bin, const std::string& tokenizer_bin,
                                    const std::string& out_gguf);

}  // namespace cj
