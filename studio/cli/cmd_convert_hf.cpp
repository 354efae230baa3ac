// changjuan-cli convert-hf: a Hugging Face Qwen2/Qwen3/Llama folder (safetensors) → GGUF.
#include <cstdio>

#include "engine/model/hf_convert.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_convert_hf(const Args& a) {
  HfConvertOptions o;
  o.dir = *a.get("dir");
  o.out = *a.get("out");
  o.name = a.get_or("name", "");
  if (!dtype_from_name(a.get_or("type", "f16"), &o.type)) return fail("unknown --type " + a.get_or("type", ""));
  if (a.has("verbose")) o.progress = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  auto r = convert_hf_to_gguf(o);
  if (!r.ok()) return fail(r.error());
  std::printf("{\"arch\":\"%s\",\"tensors\":%d,\"bytes\":%zu,\"out\":\"%s\"}\n", r->arch.c_str(), r->tensors, r->bytes,
              o.out.c_str());
  return 0;
}

Registrar reg({.name = "convert-hf",
               .summary = "convert a Hugging Face Qwen2/Qwen3/Llama folder (safetensors) to GGUF",
               .options = {{"dir", "D", "folder with config.json, *.safetensors, tokenizer.json", true},
                           {"out", "M.gguf", "output GGUF file", true},
                           {"type", "T", "matrix type: f32 f16 bf16 q8_0 q4_0 q4_k q6_k (default f16)"},
                           {"name", "S", "general.name"},
                           {"verbose", "", "print each tensor on stderr"}},
               .run = run_convert_hf});

}  // namespace
}  // namespace cj::cli
