#include "engine/model/hf_convert.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "engine/base/file.h"
#include "engine/format/gguf.h"
#include "engine/format/safetensors.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj {

namespace fs = std::filesystem;

namespace {

// HF tensor name → GGUF name ("" if not a weight we keep).
std::string gguf_name(const std::string& hf) {
  static const std::regex layer(R"(model\.layers\.(\d+)\.(.+))");
  static const std::pair<const char*, const char*> per_layer[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  std::smatch m;
  if (std::regex_match(hf, m, layer)) {
    for (const auto& [a, b] : per_layer)
      if (m[2] == a) return "blk." + m[1].str() + "." + b;
  }
  return "";
}

// llama.cpp stores llama Q/K with rows permuted so that RoPE pairs are adjacent (the HF checkpoint has them
// split in halves). rows = n_head * head_dim; w is [rows, cols] row-major.
std::vector<float> permute_qk(const std::vector<float>& w, int64_t rows, int64_t cols, int64_t n_head) {
  std::vector<float> out(w.size());
  const int64_t hd = rows / n_head, half = hd / 2;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t src = h * hd + k * half + i, dst = h * hd + 2 * i + k;
        std::copy_n(&w[src * cols], cols, &out[dst * cols]);
      }
  return out;
}

}  // namespace

Result<HfConvertReport> convert_hf_to_gguf(const HfConvertOptions& opt) {
  const fs::path dir(opt.dir);
  auto cfg_text = read_file((dir / "config.json").string());
  if (!cfg_text.ok()) return make_error(cfg_text.error());
  nlohmann::json cfg = nlohmann::json::parse(*cfg_text, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object()) return make_error(opt.dir + "/config.json is not valid JSON");
  std::string hf_arch = cfg.value("architectures", nlohmann::json::array({""}))[0].get<std::string>();
  std::string arch;
  if (hf_arch == "Qwen2ForCausalLM") arch = "qwen2";
  else if (hf_arch == "Qwen3ForCausalLM") arch = "qwen3";
  else if (hf_arch == "LlamaForCausalLM") arch = "llama";
  else return make_error("architecture '" + hf_arch + "' is not supported (Qwen2, Qwen3 and Llama causal LMs are)");
  auto need = [&](const char* k) -> Result<int64_t> {
    if (!cfg.contains(k) || !cfg[k].is_number_integer()) return make_error(opt.dir + "/config.json lacks " + k);
    return cfg[k].get<int64_t>();
  };
  auto n_embd = need("hidden_size"), n_layer = need("num_hidden_layers"), n_ff = need("intermediate_size"),
       n_head = need("num_attention_heads"), n_vocab = need("vocab_size");
  for (auto* r : {&n_embd, &n_layer, &n_ff, &n_head, &n_vocab})
    if (!r->ok()) return make_error(r->error());
  const int64_t n_head_kv = cfg.value("num_key_value_heads", *n_head);
  const int64_t head_dim = cfg.contains("head_dim") && cfg["head_dim"].is_number_integer()
                               ? cfg["head_dim"].get<int64_t>() : *n_embd / *n_head;

  // Tokenizer first: a model without one is of no use to the app.
  auto vocab = load_hf_tokenizer_json((dir / "tokenizer.json").string());
  if (!vocab.ok()) return make_error(vocab.error());

  // Shards: model.safetensors or model-*-of-*.safetensors.
  std::vector<std::string> shard_paths;
  if (fs::exists(dir / "model.safetensors")) {
    shard_paths.push_back((dir / "model.safetensors").string());
  } else {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".safetensors") shard_paths.push_back(e.path().string());
    std::sort(shard_paths.begin(), shard_paths.end());
  }
  if (shard_paths.empty()) return make_error("no .safetensors file in " + opt.dir);
  std::vector<SafetensorsFile> shards;
  for (const auto& p : shard_paths) {
    auto s = SafetensorsFile::open(p);
    if (!s.ok()) return make_error(s.error());
    shards.push_back(std::move(*s));
  }

  gguf::Writer w;
  w.set_string("general.architecture", arch);
  w.set_string("general.name", opt.name.empty() ? dir.filename().string() : opt.name);
  const std::string a = arch + ".";
  w.set_u32(a + "context_length", static_cast<uint32_t>(cfg.value("max_position_embeddings", 4096)));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(*n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(*n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(*n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(*n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(n_head_kv));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(head_dim));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", cfg.value("rms_norm_eps", 1e-6f));
  w.set_f32(a + "rope.freq_base", cfg.value("rope_theta", 10000.0f));
  if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) {
    const auto& rs = cfg["rope_scaling"];
    const std::string type = rs.value("rope_type", rs.value("type", std::string()));
    if (type == "yarn") {
      w.set_string(a + "rope.scaling.type", "yarn");
      w.set_f32(a + "rope.scaling.factor", rs.value("factor", 1.0f));
      w.set_u32(a + "rope.scaling.original_context_length",
                static_cast<uint32_t>(rs.value("original_max_position_embeddings", 32768)));
    }
  }
  gguf::write_vocab(w, *vocab);

  HfConvertReport rep;
  rep.arch = arch;
  std::vector<float> buf;
  std::vector<uint8_t> qbuf;
  for (const auto& shard : shards) {
    for (const auto& [hf, t] : shard.tensors()) {
      const std::string name = gguf_name(hf);
      if (name.empty()) {
        if (opt.progress) opt.progress("skipping " + hf);
        continue;
      }
      if (t.shape.empty() || t.shape.size() > 2) return make_error("tensor " + hf + " has an unexpected rank");
      buf.resize(static_cast<size_t>(t.n_elements()));
      safetensor_to_f32(t, buf.data());
      const int64_t rows = t.shape.size() == 2 ? t.shape[0] : 1, cols = t.shape.back();
      if (arch == "llama" && (name.find("attn_q.weight") != std::string::npos || name.find("attn_k.weight") != std::string::npos)) {
        const int64_t heads = name.find("attn_q") != std::string::npos ? *n_head : n_head_kv;
        buf = permute_qk(buf, rows, cols, heads);
      }
      DType type = t.shape.size() == 2 ? opt.type : DType::F32;
      if (cols % dtype_traits(type).block_elems != 0) type = DType::F16;  // rows that do not fit the block size
      std::vector<int64_t> dims = t.shape.size() == 2 ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{cols};
      const size_t rb = row_bytes(type, cols);
      qbuf.resize(rb * static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) quantize_row(type, &buf[r * cols], qbuf.data() + r * rb, cols);
      w.add_tensor(name, type, dims, qbuf.data());
      rep.tensors++;
      rep.bytes += qbuf.size();
      if (opt.progress) opt.progress(hf + " -> " + name + " (" + dtype_traits(type).name + ")");
    }
  }
  if (rep.tensors == 0) return make_error("no model weights found in " + opt.dir);
  CJ_TRY(w.write(opt.out));
  return rep;
}

}  // namespace cj
