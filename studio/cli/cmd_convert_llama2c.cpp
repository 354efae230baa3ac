// changjuan-cli convert-llama2c: a llama2.c checkpoint + tokenizer → a GGUF llama model.
#include <cstdio>

#include "engine/model/llama2c.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_convert(const Args& a) {
  auto r = convert_llama2c(*a.get("model"), *a.get("tokenizer"), *a.get("out"));
  if (!r.ok()) return fail(r.error());
  std::fprintf(stderr, "wrote %s: dim %d, hidden %d, %d layers, %d/%d heads, vocab %d, seq_len %d%s\n",
               a.get("out")->c_str(), r->dim, r->hidden_dim, r->n_layers, r->n_heads, r->n_kv_heads, r->vocab_size,
               r->seq_len, r->shared_classifier ? ", shared classifier" : "");
  return 0;
}

Registrar reg({.name = "convert-llama2c",
               .summary = "convert a llama2.c model (e.g. stories260K.bin + tok512.bin) to GGUF",
               .options = {{"model", "F", "llama2.c checkpoint (.bin)", true},
                           {"tokenizer", "F", "llama2.c tokenizer (.bin)", true},
                           {"out", "M.gguf", "output file", true}},
               .run = run_convert});

}  // namespace
}  // namespace cj::cli
