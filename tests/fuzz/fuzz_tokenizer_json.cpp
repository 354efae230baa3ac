// tokenizer.json: the forward-only JSON cursor, the vocabulary and merges, the pre-tokenizer, and (when small)
// a tokenizer built from it encoding and decoding a few strings with special tokens.
#include <string_view>

#include "engine/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_entry.h"

int cj_fuzz_tokenizer_json(const uint8_t* data, size_t size) {
  auto spec = cj::parse_hf_tokenizer_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!spec.ok() || spec->tokens.size() > 4096 || spec->merges.size() > 4096) return 0;
  auto t = cj::Tokenizer::from_vocab(*spec);
  if (!t.ok()) return 0;
  for (std::string_view s : {"abc ab a", "林黛玉进了荣国府。\n", "<|im_end|>x\xff"}) {
    auto ids = (*t)->encode(s, true);
    (void)(*t)->decode(ids);
  }
  return 0;
}

CJ_FUZZ_MAIN(tokenizer_json)
