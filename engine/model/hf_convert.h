// Converts a Hugging Face model folder (config.json, *.safetensors, tokenizer.json) of architecture
// Qwen2ForCausalLM, Qwen3ForCausalLM or LlamaForCausalLM into a GGUF file with llama.cpp's tensor names and
// metadata keys, written by our own gguf::Writer. Matrices are stored in the requested type; norms and biases
// stay F32.
#pragma once
#include <functional>
#include <string>

#include "engine/base/result.h"
#include "engine/format/dtype.h"

namespace cj {

struct HfConvertOptions {
  std::string dir;              // folder with config.json, model.safetensors (or sharded), tokenizer.json
  std::string out;              // GGUF path
  DType type = DType::F16;      // type of 2-D weight matrices
  std::string name;             // general.name (default: folder name)
  std::function<void(const std::string&)> progress;  // one line per tensor, may be empty
};

struct HfConvertReport {
  std::string arch;
  int tensors = 0;
  size_t bytes = 0;
};

Result<HfConvertReport> convert_hf_to_gguf(const HfConvertOptions& opt);

}  // namespace cj
