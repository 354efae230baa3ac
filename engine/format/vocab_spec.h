// The neutral description of a vocabulary, as GGUF stores it (tokenizer.ggml.* keys): what the GGUF reader, the
// tokenizer.json and llama2.c loaders produce and the tokenizers (engine/tokenizer) are built from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cj {

using TokenId = int32_t;

// Mirrors the GGUF tokenizer.ggml.* keys.
struct VocabSpec {
  std::string model;                  // "gpt2" (byte-level BPE) or "llama" (SentencePiece BPE)
  std::string pre;                    // pre-tokenizer for gpt2: "qwen2" (the Qwen2 regex); "" for llama
  std::vector<std::string> tokens;    // [n_vocab] token text (byte-level mapped for gpt2, ▁ for spaces in llama)
  std::vector<float> scores;          // [n_vocab] or empty (llama: merge priority)
  std::vector<int32_t> token_types;   // [n_vocab] or empty: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  std::vector<std::string> merges;    // gpt2: "a b", in rank order
  TokenId bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
  bool add_bos = false;               // prepend BOS when encoding a prompt
  bool add_space_prefix = false;      // llama: prepend a space (▁) to the text
  std::string chat_template;          // jinja text if known (informational)
};

}  // namespace cj
