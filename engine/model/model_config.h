// Model hyper-parameters read from GGUF metadata ({arch}.block_count, {arch}.attention.head_count, …) for the
// architectures the engine runs: llama, qwen2 (QKV bias) and qwen3 (per-head RMSNorm on q and k).
#pragma once
#include <cstdint>
#include <string>

#include "engine/base/result.h"

namespace cj {

namespace gguf {
class File;
}

enum class Arch { Llama, Qwen2, Qwen3 };
const char* arch_name(Arch a);
bool arch_from_name(const std::string& s, Arch* out);

// RoPE as llama.cpp parameterizes it (ggml_rope_ext): which dimension pairs rotate, the frequency base, and the
// YaRN context extension (ext_factor 0 = plain RoPE, with linear position interpolation by freq_scale).
struct RopeConfig {
  bool neox = false;        // NeoX pairs (i, i + n_dims/2) (qwen2/qwen3); else interleaved pairs (2i, 2i+1) (llama)
  int n_dims = 0;           // rotated dimensions per head (rope.dimension_count, default head_dim)
  float freq_base = 10000;  // rope.freq_base
  float freq_scale = 1;     // 1 / rope.scaling.factor (linear or yarn); 1 when none
  float ext_factor = 0;     // YaRN extrapolation mix: 1 for rope.scaling.type == yarn, else 0
  float attn_factor = 1;    // extra magnitude scale of cos/sin (YaRN multiplies in 1 + 0.1 ln(1/freq_scale))
  float beta_fast = 32, beta_slow = 1;
  int n_ctx_orig = 0;       // rope.scaling.original_context_length (default: context_length)
};

struct ModelConfig {
  Arch arch = Arch::Llama;
  int n_layers = 0;
  int n_embd = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;     // key/query head size (attention.key_length, default n_embd / n_heads)
  int head_dim_v = 0;   // value head size (attention.value_length, default head_dim)
  int n_ff = 0;
  int n_vocab = 0;
  int n_ctx_train = 0;  // context_length
  float rms_eps = 1e-5f;
  bool qkv_bias = false;  // qwen2
  bool qk_norm = false;   // qwen3
  bool tied_output = false;  // no output.weight: the logits use token_embd
  RopeConfig rope;

  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }
  int v_dim() const { return n_kv_heads * head_dim_v; }
  int attn_out_dim() const { return n_heads * head_dim_v; }
};

// Reads and checks the hyper-parameters (n_vocab from the token_embd tensor; tied_output from whether
// output.weight exists).
Result<ModelConfig> config_from_gguf(const gguf::File& f);

}  // namespace cj
