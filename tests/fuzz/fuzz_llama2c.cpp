// llama2.c: the checkpoint header checked against the image's size, and the tokenizer .bin (then, when small, a
// SentencePiece tokenizer built from it). The first byte chooses which; the rest is the file.
#include <string_view>

#include "engine/model/llama2c.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_entry.h"

int cj_fuzz_llama2c(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    (void)cj::read_llama2c_header(rest, "fuzz.bin");
    return 0;
  }
  auto spec = cj::parse_llama2c_tokenizer(rest, "fuzz-tok.bin");
  if (!spec.ok() || spec->tokens.size() > 4096) return 0;
  auto t = cj::Tokenizer::from_vocab(*spec);
  if (!t.ok()) return 0;
  auto ids = (*t)->encode("Once upon a time, 林黛玉 <s>", true);
  (void)(*t)->decode(ids);
  return 0;
}

CJ_FUZZ_MAIN(llama2c)
