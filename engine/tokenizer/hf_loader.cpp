// load_hf_tokenizer_json: HF tokenizers' tokenizer.json (BPE model, byte-level) -> VocabSpec, read with a
// forward-only cursor (nlohmann::json takes several hundred ms on Qwen's 11 MB file). tokenizer_config.json
// beside it, when present, gives bos/eos/pad, add_bos and the chat template.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <unordered_map>

#include "engine/base/file.h"
#include "engine/base/json_limits.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/impl.h"
#include "engine/tokenizer/json_cursor.h"

namespace cj {
namespace {

constexpr int64_t kMaxId = INT32_MAX - 1;

struct Added {
  TokenId id;
  std::string content;
  bool special;
};

// pre_tokenizer: the Qwen2 Split regex (+ ByteLevel without regex) -> "qwen2"; ByteLevel with its own regex ->
// "gpt2". Returns "" for anything else.
std::string classify_pre(const nlohmann::json& pre) {
  static const std::string kQwen2 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  // Typed lookups only: nlohmann's value()/get() throw on a type mismatch, and this JSON comes from a file.
  auto str = [](const nlohmann::json& o, const char* k) {
    auto it = o.is_object() ? o.find(k) : o.end();
    return o.is_object() && it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto use_regex = [](const nlohmann::json& o) {
    auto it = o.find("use_regex");
    return it == o.end() || !it->is_boolean() || it->get<bool>();
  };
  if (!pre.is_object()) return "";
  const std::string type = str(pre, "type");
  if (type == "ByteLevel") return use_regex(pre) ? "gpt2" : "";
  auto list = pre.find("pretokenizers");
  if (type != "Sequence" || list == pre.end() || !list->is_array()) return "";
  bool split_qwen2 = false, byte_level = false;
  for (const auto& p : *list) {
    if (!p.is_object()) return "";
    const std::string t = str(p, "type");
    auto pattern = p.find("pattern");
    if (t == "Split" && pattern != p.end() && str(*pattern, "Regex") == kQwen2) split_qwen2 = true;
    else if (t == "ByteLevel" && !use_regex(p)) byte_level = true;
    else return "";
  }
  return split_qwen2 && byte_level ? "qwen2" : "";
}

std::string token_name(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace

Result<VocabSpec> parse_hf_tokenizer_json(std::string_view text, const std::string& path) {
  VocabSpec spec;
  spec.model = "gpt2";
  std::vector<std::pair<std::string, TokenId>> vocab;
  std::vector<Added> added;
  std::string model_type, pre_text;
  bool byte_fallback = false;
  json::Cursor c(text);
  auto bad = [&](const std::string& what) {
    return Error{path + ": not a usable tokenizer.json: " + what + (c.ok() ? "" : " (" + c.error() + ")")};
  };
  std::string key, s, a, b;
  if (!c.begin_object()) return bad("expected a JSON object");
  while (c.next_key(&key)) {
    if (key == "added_tokens") {
      if (!c.begin_array()) return bad("added_tokens");
      while (c.next_element()) {
        Added t{-1, "", false};
        if (!c.begin_object()) return bad("added_tokens entry");
        std::string k;
        while (c.next_key(&k)) {
          int64_t v;
          bool f;
          if (k == "id" && c.read_int(&v)) {
            if (v < 0 || v > kMaxId) return bad("added token id " + std::to_string(v) + " is out of range");
            t.id = static_cast<TokenId>(v);
          }
          else if (k == "content" && c.read_string(&s)) t.content = s;
          else if (k == "special" && c.read_bool(&f)) t.special = f;
          else if (k != "id" && k != "content" && k != "special") c.skip_value();
          if (!c.ok()) return bad("added_tokens entry");
        }
        if (t.id < 0 || t.content.empty()) return bad("added token without id or content");
        added.push_back(std::move(t));
      }
    } else if (key == "pre_tokenizer" || key == "normalizer") {
      // Small: capture its raw text and let nlohmann parse it.
      const size_t start = c.offset();
      if (!c.skip_value()) return bad(key);
      if (key == "pre_tokenizer") pre_text.assign(text.substr(start, c.offset() - start));
    } else if (key == "model") {
      if (!c.begin_object()) return bad("model");
      std::string k;
      while (c.next_key(&k)) {
        if (k == "type") {
          if (!c.read_string(&model_type)) return bad("model.type");
        } else if (k == "byte_fallback" && c.peek() == json::Cursor::kBool) {
          if (!c.read_bool(&byte_fallback)) return bad("model.byte_fallback");
        } else if (k == "vocab") {
          if (!c.begin_object()) return bad("model.vocab");
          vocab.reserve(std::min<size_t>(160000, text.size() / 4));
          std::string tok;
          while (c.next_key(&tok)) {
            int64_t id;
            if (!c.read_int(&id)) return bad("model.vocab id");
            if (id < 0 || id > kMaxId) return bad("model.vocab id " + std::to_string(id) + " is out of range");
            vocab.emplace_back(tok, static_cast<TokenId>(id));
          }
          if (!c.ok()) return bad("model.vocab");
        } else if (k == "merges") {
          if (!c.begin_array()) return bad("model.merges");
          spec.merges.reserve(std::min<size_t>(160000, text.size() / 4));
          while (c.next_element()) {
            if (c.peek() == json::Cursor::kString) {  // "a b"
              if (!c.read_string(&s)) return bad("model.merges");
              spec.merges.push_back(s);
            } else {  // ["a", "b"]
              if (!c.begin_array() || !c.next_element() || !c.read_string(&a) || !c.next_element() ||
                  !c.read_string(&b) || c.next_element())
                return bad("model.merges entry (expected \"a b\" or [\"a\", \"b\"])");
              std::string m;
              m.reserve(a.size() + b.size() + 1);
              m += a;
              m += ' ';
              m += b;
              spec.merges.push_back(std::move(m));
            }
          }
          if (!c.ok()) return bad("model.merges");
        } else {
          if (!c.skip_value()) return bad("model." + k);
        }
      }
      if (!c.ok()) return bad("model");
    } else {
      if (!c.skip_value()) return bad(key);
    }
  }
  if (!c.ok()) return bad("top level");
  if (model_type != "BPE") return bad("model.type is '" + model_type + "', only BPE is supported");
  if (byte_fallback) return bad("BPE with byte_fallback (SentencePiece-style) is not supported from tokenizer.json");
  if (vocab.empty()) return bad("empty model.vocab");

  if (std::string why = json_limit_violation(pre_text, {.max_depth = 32, .max_values = 4096}); !why.empty())
    return bad("pre_tokenizer is " + why);
  nlohmann::json pre = nlohmann::json::parse(pre_text.empty() ? "null" : pre_text, nullptr, false);
  spec.pre = classify_pre(pre);
  if (spec.pre.empty())
    return bad("unsupported pre_tokenizer (supported: Qwen2's Split regex + ByteLevel, or GPT-2 ByteLevel)");

  // Ids: the vocab plus the added tokens (which may extend it). Every id was checked to be non-negative as it was
  // read; the table is sized only after checking the largest id against the file's own length (each entry takes
  // several bytes of it), so a tiny file cannot ask for gigabytes.
  size_t n = 0;
  for (const auto& [t, id] : vocab) n = std::max<size_t>(n, static_cast<size_t>(id) + 1);
  for (const auto& t : added) n = std::max<size_t>(n, static_cast<size_t>(t.id) + 1);
  if (n > text.size())
    return bad("token id " + std::to_string(n - 1) + " is larger than the file could hold (" +
               std::to_string(text.size()) + " bytes)");
  spec.tokens.assign(n, "");
  spec.token_types.assign(n, tok::kUnused);
  for (auto& [t, id] : vocab) {
    spec.tokens[id] = std::move(t);
    spec.token_types[id] = tok::kNormal;
  }
  for (auto& t : added) {
    spec.tokens[t.id] = t.content;
    spec.token_types[t.id] = t.special ? tok::kControl : tok::kUserDefined;
  }
  for (size_t i = 0; i < n; ++i)
    if (spec.token_types[i] == tok::kUnused) spec.tokens[i] = "[PAD" + std::to_string(i) + "]";

  if (spec.eos_id < 0)
    for (const auto& t : added)
      if (t.content == "<|endoftext|>") spec.eos_id = t.id;
  return spec;
}

Result<VocabSpec> load_hf_tokenizer_json(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return Error{text.error()};
  auto parsed = parse_hf_tokenizer_json(*text, path);
  if (!parsed.ok()) return parsed;
  VocabSpec spec = std::move(parsed.value());
  // Added tokens by text, for the names in tokenizer_config.json (one map, not a scan per name).
  std::unordered_map<std::string_view, TokenId> added;
  for (size_t i = 0; i < spec.tokens.size(); ++i)
    if (spec.token_types[i] == tok::kControl || spec.token_types[i] == tok::kUserDefined)
      added.emplace(spec.tokens[i], static_cast<TokenId>(i));
  auto find = [&](const std::string& t) -> TokenId {
    if (t.empty()) return -1;
    auto it = added.find(t);
    return it == added.end() ? -1 : it->second;
  };
  // tokenizer_config.json beside it.
  const auto cfg_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::exists(cfg_path, ec)) {
    auto cfg_text = read_file(cfg_path.string());
    if (!cfg_text.ok()) return Error{cfg_text.error()};
    if (std::string why = json_limit_violation(*cfg_text, {}); !why.empty())
      return Error{cfg_path.string() + ": not a usable tokenizer_config.json: " + why};
    nlohmann::json cfg = nlohmann::json::parse(*cfg_text, nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object()) return Error{cfg_path.string() + ": not valid JSON"};
    if (cfg.contains("bos_token")) spec.bos_id = find(token_name(cfg["bos_token"]));
    if (cfg.contains("eos_token")) spec.eos_id = find(token_name(cfg["eos_token"]));
    if (cfg.contains("pad_token")) spec.pad_id = find(token_name(cfg["pad_token"]));
    if (cfg.contains("unk_token")) spec.unk_id = find(token_name(cfg["unk_token"]));
    if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) spec.add_bos = cfg["add_bos_token"].get<bool>();
    if (cfg.contains("chat_template") && cfg["chat_template"].is_string())
      spec.chat_template = cfg["chat_template"].get<std::string>();
  }
  if (spec.eos_id < 0) spec.eos_id = find("<|endoftext|>");
  return spec;
}

}  // namespace cj
