#include "engine/model/hf_convert.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <optional>
#include <vector>

#include "engine/base/file.h"
#include "engine/format/gguf.h"
#include "engine/format/safetensors.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj {

namespace fs = std::filesystem;

namespace {

// HF tensor name → GGUF name ("" if not a weight we keep); *layer gets the layer index of a per-layer weight
// (-1 otherwise). Parsed by hand: the name comes from the file, and std::regex recurses per character.
std::string gguf_name(std::string_view hf, int64_t* layer) {
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
  *layer = -1;
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  constexpr std::string_view kLayers = "model.layers.";
  if (hf.substr(0, kLayers.size()) != kLayers) return "";
  std::string_view rest = hf.substr(kLayers.size());
  size_t digits = 0;
  while (digits < rest.size() && digits < 10 && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits == 0 || digits >= 10 || digits >= rest.size() || rest[digits] != '.') return "";
  int64_t l = 0;
  for (size_t i = 0; i < digits; ++i) l = l * 10 + (rest[i] - '0');
  const std::string_view what = rest.substr(digits + 1);
  for (const auto& [a, b] : per_layer)
    if (what == a) {
      *layer = l;
      return "blk." + std::to_string(l) + "." + b;
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

// config.json values, read without trusting their JSON types (nlohmann's get<> throws on a mismatch).
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& cfg, std::string where) : cfg_(cfg), where_(std::move(where)) {}
  // An integer in [lo, hi]; `def` when absent or null (no default: an error).
  Result<int64_t> integer(const char* key, std::optional<int64_t> def, int64_t lo, int64_t hi) const {
    return integer_in(cfg_, key, def, lo, hi);
  }
  Result<int64_t> integer_in(const nlohmann::json& obj, const char* key, std::optional<int64_t> def, int64_t lo,
                             int64_t hi) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (def) return *def;
      return make_error(where_ + " lacks " + key);
    }
    if (!it->is_number_integer()) return make_error(where_ + ": " + key + " must be an integer");
    const bool huge = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(hi);
    const int64_t v = huge ? hi : it->get<int64_t>();
    if (huge || v < lo || v > hi)
      return make_error(where_ + ": " + key + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return v;
  }
  Result<float> number_in(const nlohmann::json& obj, const char* key, float def, double lo, double hi) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return def;
    if (!it->is_number()) return make_error(where_ + ": " + key + " must be a number");
    const double v = it->get<double>();
    if (!(v >= lo && v <= hi)) return make_error(where_ + ": " + key + " is out of range");
    return float(v);
  }
  std::string string_in(const nlohmann::json& obj, const char* key) const {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

 private:
  const nlohmann::json& cfg_;
  std::string where_;
};

}  // namespace

Result<HfConvertReport> convert_hf_to_gguf(const HfConvertOptions& opt) {
  const fs::path dir(opt.dir);
  auto cfg_text = read_file((dir / "config.json").string());
  if (!cfg_text.ok()) return make_error(cfg_text.error());
  nlohmann::json cfg = nlohmann::json::parse(*cfg_text, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object()) return make_error(opt.dir + "/config.json is not valid JSON");
  std::string hf_arch;
  if (auto it = cfg.find("architectures"); it != cfg.end() && it->is_array() && !it->empty() && (*it)[0].is_string())
    hf_arch = (*it)[0].get<std::string>();
  std::string arch;
  if (hf_arch == "Qwen2ForCausalLM") arch = "qwen2";
  else if (hf_arch == "Qwen3ForCausalLM") arch = "qwen3";
  else if (hf_arch == "LlamaForCausalLM") arch = "llama";
  else return make_error("architecture '" + hf_arch + "' is not supported (Qwen2, Qwen3 and Llama causal LMs are)");
  const ConfigReader rd(cfg, opt.dir + "/config.json");
  constexpr int64_t kMaxDim = int64_t(1) << 20, kMaxVocab = int64_t(1) << 24, kMaxCtx = int64_t(1) << 24;
  auto n_embd = rd.integer("hidden_size", {}, 1, kMaxDim), n_layer = rd.integer("num_hidden_layers", {}, 1, 4096),
       n_ff = rd.integer("intermediate_size", {}, 1, kMaxDim), n_head = rd.integer("num_attention_heads", {}, 1, 4096),
       n_vocab = rd.integer("vocab_size", {}, 1, kMaxVocab);
  for (auto* r : {&n_embd, &n_layer, &n_ff, &n_head, &n_vocab})
    if (!r->ok()) return make_error(r->error());
  auto n_head_kv_r = rd.integer("num_key_value_heads", *n_head, 1, 4096);
  if (!n_head_kv_r.ok()) return make_error(n_head_kv_r.error());
  const int64_t n_head_kv = *n_head_kv_r;
  if (*n_head % n_head_kv != 0)
    return make_error(opt.dir + "/config.json: num_attention_heads (" + std::to_string(*n_head) +
                      ") is not a multiple of num_key_value_heads (" + std::to_string(n_head_kv) + ")");
  if (!cfg.contains("head_dim") && *n_embd % *n_head != 0)
    return make_error(opt.dir + "/config.json: hidden_size is not a multiple of num_attention_heads (and no head_dim)");
  auto head_dim_r = rd.integer("head_dim", *n_embd / *n_head, 1, 1 << 16);
  if (!head_dim_r.ok()) return make_error(head_dim_r.error());
  const int64_t head_dim = *head_dim_r;
  if (head_dim % 2 != 0) return make_error(opt.dir + "/config.json: the head size must be even (RoPE rotates pairs)");
  if (*n_head * head_dim > kMaxDim) return make_error(opt.dir + "/config.json: num_attention_heads × head_dim is too large");
  auto ctx = rd.integer("max_position_embeddings", 4096, 1, kMaxCtx);
  auto eps = rd.number_in(cfg, "rms_norm_eps", 1e-6f, 1e-12, 0.5);
  auto theta = rd.number_in(cfg, "rope_theta", 10000.0f, 1.0001, 1e12);
  if (!ctx.ok()) return make_error(ctx.error());
  if (!eps.ok()) return make_error(eps.error());
  if (!theta.ok()) return make_error(theta.error());
  std::string rope_type;
  float rope_factor = 1;
  int64_t rope_orig = 32768;
  if (auto rs = cfg.find("rope_scaling"); rs != cfg.end() && rs->is_object()) {
    rope_type = rd.string_in(*rs, "rope_type");
    if (rope_type.empty()) rope_type = rd.string_in(*rs, "type");
    auto f = rd.number_in(*rs, "factor", 1.0f, 1.0, 1e4);
    auto o = rd.integer_in(*rs, "original_max_position_embeddings", 32768, 1, kMaxCtx);
    if (!f.ok()) return make_error(f.error());
    if (!o.ok()) return make_error(o.error());
    rope_factor = *f;
    rope_orig = *o;
  }
  // HF shapes are [rows, cols] (row-major, out × in).
  const int64_t E = *n_embd, F = *n_ff, V = *n_vocab, QD = *n_head * head_dim, KVD = n_head_kv * head_dim;
  auto expected_shape = [&](const std::string& gname) -> std::vector<int64_t> {
    auto ends = [&](std::string_view suffix) {
      return gname.size() >= suffix.size() && gname.compare(gname.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (gname == "token_embd.weight" || gname == "output.weight") return {V, E};
    if (gname == "output_norm.weight" || ends(".attn_norm.weight") || ends(".ffn_norm.weight")) return {E};
    if (ends(".attn_q.weight")) return {QD, E};
    if (ends(".attn_k.weight") || ends(".attn_v.weight")) return {KVD, E};
    if (ends(".attn_q.bias")) return {QD};
    if (ends(".attn_k.bias") || ends(".attn_v.bias")) return {KVD};
    if (ends(".attn_output.weight")) return {E, QD};
    if (ends(".attn_q_norm.weight") || ends(".attn_k_norm.weight")) return {head_dim};
    if (ends(".ffn_gate.weight") || ends(".ffn_up.weight")) return {F, E};
    if (ends(".ffn_down.weight")) return {E, F};
    return {};
  };
  auto shape_text = [](const std::vector<int64_t>& s) {
    std::string t = "[";
    for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + "]";
  };

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
  w.set_u32(a + "context_length", static_cast<uint32_t>(*ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(*n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(*n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(*n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(*n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(n_head_kv));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(head_dim));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", *eps);
  w.set_f32(a + "rope.freq_base", *theta);
  if (rope_type == "yarn") {
    w.set_string(a + "rope.scaling.type", "yarn");
    w.set_f32(a + "rope.scaling.factor", rope_factor);
    w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(rope_orig));
  }
  gguf::write_vocab(w, *vocab);

  HfConvertReport rep;
  rep.arch = arch;
  std::vector<float> buf;
  std::vector<uint8_t> qbuf;
  for (const auto& shard : shards) {
    for (const auto& [hf, t] : shard.tensors()) {
      int64_t layer = -1;
      const std::string name = gguf_name(hf, &layer);
      if (name.empty()) {
        if (opt.progress) opt.progress("skipping " + hf.substr(0, 200));
        continue;
      }
      if (layer >= *n_layer)
        return make_error("tensor " + hf + " belongs to layer " + std::to_string(layer) + " but the config has " +
                          std::to_string(*n_layer) + " layers");
      // The shape must be what the config says: a mismatch would write a model whose rows are not heads ×
      // head_dim (or divide by a zero head count).
      if (const auto want = expected_shape(name); t.shape != want)
        return make_error("tensor " + hf + " has shape " + shape_text(t.shape) + ", the config implies " +
                          shape_text(want));
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
