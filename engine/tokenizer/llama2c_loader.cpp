// load_llama2c_tokenizer: llama2.c's tokenizer.bin: int32 max_token_length, then per token: float32 score,
// int32 length, bytes (no terminator). The vocabulary size is not stored: tokens run to the end of the file.
// Spaces are stored as ' ' (llama2.c's export replaced U+2581); ids 0/1/2 are <unk>, <s>, </s>.
#include <cstring>

#include "engine/base/file.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/impl.h"

namespace cj {

Result<VocabSpec> load_llama2c_tokenizer(const std::string& path) {
  auto data = read_file(path);
  if (!data.ok()) return Error{data.error()};
  return parse_llama2c_tokenizer(*data, path);
}

Result<VocabSpec> parse_llama2c_tokenizer(std::string_view d, const std::string& path) {
  auto bad = [&](const std::string& what) { return Error{path + ": not a llama2.c tokenizer file: " + what}; };
  if (d.size() < 4) return bad("too short");
  int32_t max_len;
  std::memcpy(&max_len, d.data(), 4);
  if (max_len <= 0 || max_len > 1024) return bad("implausible max_token_length " + std::to_string(max_len));
  VocabSpec spec;
  spec.model = "llama";
  size_t i = 4;
  while (i < d.size()) {
    if (i + 8 > d.size()) return bad("truncated token #" + std::to_string(spec.tokens.size()));
    float score;
    int32_t len;
    std::memcpy(&score, d.data() + i, 4);
    std::memcpy(&len, d.data() + i + 4, 4);
    i += 8;
    if (len < 0 || len > max_len || i + static_cast<size_t>(len) > d.size())
      return bad("bad length " + std::to_string(len) + " of token #" + std::to_string(spec.tokens.size()));
    std::string t(d.data() + i, static_cast<size_t>(len));
    i += static_cast<size_t>(len);
    std::string esc;
    for (char ch : t) {
      if (ch == ' ') esc += "\xE2\x96\x81";
      else esc += ch;
    }
    spec.tokens.push_back(std::move(esc));
    spec.scores.push_back(score);
  }
  const size_t n = spec.tokens.size();
  if (n < 3) return bad("fewer than 3 tokens");
  spec.token_types.assign(n, tok::kNormal);
  // llama2.c writes BOS/EOS as "\n<s>\n" and "\n</s>\n".
  for (size_t id = 0; id < 3; ++id) {
    std::string& t = spec.tokens[id];
    if (t.size() >= 2 && t.front() == '\n' && t.back() == '\n') t = t.substr(1, t.size() - 2);
  }
  spec.token_types[0] = tok::kUnknown;
  spec.token_types[1] = tok::kControl;
  spec.token_types[2] = tok::kControl;
  for (size_t id = 3; id < n; ++id) {
    const std::string& t = spec.tokens[id];
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') spec.token_types[id] = tok::kByte;
  }
  spec.unk_id = 0;
  spec.bos_id = 1;
  spec.eos_id = 2;
  spec.add_bos = true;
  spec.add_space_prefix = true;
  return spec;
}

}  // namespace cj
