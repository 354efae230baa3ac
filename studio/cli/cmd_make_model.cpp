// changjuan-cli make-model: writes a random-weight GGUF model of any shape and type (tests, benchmarks).
#include <cstdio>

#include "engine/model/model_maker.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_make_model(const Args& a) {
  MakeModelSpec s;
  if (!arch_from_name(*a.get("arch"), &s.arch)) return fail("--arch must be llama, qwen2, qwen3, qwen3moe or deepseek2");
  auto geti = [&](const char* name, int def, int* out) -> bool {
    auto v = a.get_int(name, def);
    if (!v.ok()) {
      fail(v.error());
      return false;
    }
    if (*v < 0 || *v > (1 << 30)) {
      fail(std::string("--") + name + " is out of range");
      return false;
    }
    *out = int(*v);
    return true;
  };
  if (!geti("layers", 2, &s.n_layers) || !geti("embd", 64, &s.n_embd) || !geti("heads", 4, &s.n_heads) ||
      !geti("kv-heads", -1 + 1, &s.n_kv_heads) || !geti("ff", 0, &s.n_ff) || !geti("head-dim", 0, &s.head_dim) ||
      !geti("vocab", 0, &s.n_vocab) || !geti("ctx-train", 32768, &s.n_ctx_train) ||
      !geti("rope-orig-ctx", 0, &s.rope_orig_ctx) || !geti("experts", 8, &s.n_expert) ||
      !geti("experts-used", 2, &s.n_expert_used) || !geti("expert-ff", 0, &s.n_ff_exp) ||
      !geti("dense-lead", 0, &s.n_dense_lead) || !geti("q-lora", 64, &s.q_lora_rank) ||
      !geti("kv-lora", 32, &s.kv_lora_rank) || !geti("qk-nope", 16, &s.qk_nope) || !geti("qk-rope", 8, &s.qk_rope) ||
      !geti("v-head", 16, &s.v_head) || !geti("shared-experts", 1, &s.n_expert_shared))
    return 1;
  if (s.n_kv_heads == 0) s.n_kv_heads = s.n_heads;
  if (s.n_ff == 0) s.n_ff = 4 * s.n_embd;
  auto seed = a.get_int("seed", 1);
  if (!seed.ok()) return fail(seed.error());
  s.seed = uint64_t(*seed);
  if (!dtype_from_name(a.get_or("type", "f32"), &s.type)) return fail("unknown --type " + a.get_or("type", ""));
  s.tied = !a.has("untied");
  auto es = a.get_double("expert-scale", 1.0);
  if (!es.ok()) return fail(es.error());
  s.expert_weights_scale = float(*es);
  s.expert_weights_norm = a.has("expert-norm");
  s.sigmoid_gating = a.has("sigmoid");
  if (s.arch == Arch::Llama) s.freq_base = 10000.0f;
  auto fb = a.get_double("rope-base", s.freq_base);
  if (!fb.ok()) return fail(fb.error());
  s.freq_base = float(*fb);
  s.rope_scaling = a.get_or("rope-scaling", "");
  if (!s.rope_scaling.empty() && s.rope_scaling != "yarn" && s.rope_scaling != "linear")
    return fail("--rope-scaling must be yarn or linear");
  auto rf = a.get_double("rope-factor", 1.0);
  if (!rf.ok()) return fail(rf.error());
  s.rope_factor = float(*rf);
  VocabSpec vocab;
  if (auto t = a.get("tokenizer")) {
    auto v = load_tokenizer_file(*t);
    if (!v.ok()) return fail(v.error());
    vocab = std::move(v.value());
    s.vocab = &vocab;
  }
  Status st = make_model(s, *a.get("out"));
  if (!st.ok()) return fail(st.error());
  std::fprintf(stderr, "wrote %s\n", a.get("out")->c_str());
  return 0;
}

Registrar reg({.name = "make-model",
               .summary = "write a random-weight GGUF model of a chosen shape and type (for tests and benchmarks)",
               .options = {{"arch", "A", "qwen2, qwen3, qwen3moe, deepseek2 or llama", true},
                           {"layers", "N", "transformer blocks (default 2)"},
                           {"embd", "N", "embedding width (default 64)"},
                           {"heads", "N", "query heads (default 4)"},
                           {"kv-heads", "N", "key/value heads (default: heads)"},
                           {"ff", "N", "feed-forward width (default 4*embd)"},
                           {"head-dim", "N", "head size (default embd/heads)"},
                           {"vocab", "N", "vocabulary size (default: the tokenizer's, or 256)"},
                           {"type", "T", "f32|f16|bf16|q8_0|q4_0|q4_k|q6_k (default f32)"},
                           {"tokenizer", "F", "tokenizer.json or llama2.c tokenizer .bin to embed"},
                           {"untied", "", "write a separate output.weight (default: tied to token_embd)"},
                           {"ctx-train", "N", "context_length metadata (default 32768)"},
                           {"rope-base", "X", "rope.freq_base (default 1e6; llama 1e4)"},
                           {"rope-scaling", "S", "yarn or linear"},
                           {"rope-factor", "X", "rope.scaling.factor"},
                           {"rope-orig-ctx", "N", "rope.scaling.original_context_length"},
                           {"experts", "N", "qwen3moe/deepseek2: experts per block (default 8)"},
                           {"experts-used", "N", "MoE: experts active per token (default 2)"},
                           {"expert-ff", "N", "MoE: width of one expert (default: ff)"},
                           {"dense-lead", "N", "MoE: leading blocks with a dense feed-forward (default 0)"},
                           {"q-lora", "N", "deepseek2: q_lora_rank (default 64)"},
                           {"kv-lora", "N", "deepseek2: kv_lora_rank, the cached latent (default 32)"},
                           {"qk-nope", "N", "deepseek2: per-head key part without RoPE (default 16)"},
                           {"qk-rope", "N", "deepseek2: per-head RoPE part (default 8)"},
                           {"v-head", "N", "deepseek2: per-head value size (default 16)"},
                           {"shared-experts", "N", "deepseek2: shared experts (default 1)"},
                           {"expert-scale", "X", "deepseek2: expert_weights_scale (default 1)"},
                           {"expert-norm", "", "deepseek2: renormalise the top-k weights"},
                           {"sigmoid", "", "deepseek2: sigmoid gating with a selection bias (default softmax)"},
                           {"seed", "S", "random seed (default 1)"},
                           {"out", "M.gguf", "output file", true}},
               .run = run_make_model});

}  // namespace
}  // namespace cj::cli
