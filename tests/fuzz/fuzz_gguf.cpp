// GGUF: the validating reader, the vocabulary and hyper-parameters it holds, the model's weight views, and a
// tokenizer built from the vocabulary (when small enough to build quickly).
#include <string>

#include "engine/format/gguf.h"
#include "engine/model/model.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_entry.h"

int cj_fuzz_gguf(const uint8_t* data, size_t size) {
  auto f = cj::gguf::File::parse(data, size, "fuzz.gguf");
  if (!f.ok()) return 0;
  if (auto v = cj::gguf::read_vocab(*f); v.ok() && v->tokens.size() <= 4096) {
    if (auto t = cj::Tokenizer::from_vocab(*v); t.ok()) {
      auto ids = (*t)->encode("林黛玉 said <|im_start|>hi\n", true);
      (void)(*t)->decode(ids);
    }
  }
  if (auto c = cj::config_from_gguf(*f); c.ok()) {
    auto m = cj::Model::from_file(std::move(f.value()));
    if (m.ok()) (void)(*m)->weight_bytes_per_token();
  }
  return 0;
}

CJ_FUZZ_MAIN(gguf)
