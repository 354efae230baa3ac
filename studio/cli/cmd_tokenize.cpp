// changjuan-cli tokenize: text -> token ids (space-separated, one line), or with --decode ids -> text.
// --tokenizer: a tokenizer.json (tokenizer_config.json beside it is read too), a llama2.c tokenizer .bin, or a
// GGUF model/vocab file.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/base/file.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_tokenize(const Args& a) {
  auto tok = load_tokenizer(*a.get("tokenizer"));
  if (!tok.ok()) return fail(tok.error());
  auto text = read_file(*a.get("file"));
  if (!text.ok()) return fail(text.error());
  auto threads = a.get_int("threads", 0);
  if (!threads.ok()) return fail(threads.error());
  if (a.has("decode")) {
    std::vector<TokenId> ids;
    const char* p = text->c_str();
    while (*p) {
      char* end;
      const long v = std::strtol(p, &end, 10);
      if (end == p) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ',') {
          ++p;
          continue;
        }
        return fail(*a.get("file") + ": not a token id at byte " + std::to_string(p - text->c_str()));
      }
      if (v < 0 || static_cast<size_t>(v) >= (*tok)->vocab_size())
        return fail("token id " + std::to_string(v) + " is outside the vocabulary (size " +
                    std::to_string((*tok)->vocab_size()) + ")");
      ids.push_back(static_cast<TokenId>(v));
      p = end;
    }
    const std::string out = (*tok)->decode(ids);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  auto line_of = [](const std::vector<TokenId>& v) {
    std::string out;
    out.reserve(v.size() * 7);
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ' ';
      out += std::to_string(v[i]);
    }
    out += '\n';
    return out;
  };
  if (a.has("cases")) {  // llama.cpp test-vector file: cases separated by a marker line; one output line each
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::string out;
    for (size_t b = 0; b < text->size();) {
      size_t e = text->find(sep, b);
      if (e == std::string::npos) e = text->size();
      out += line_of((*tok)->encode(std::string_view(*text).substr(b, e - b), a.has("special")));
      b = e == text->size() ? e : e + sep.size();
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  std::vector<TokenId> ids;
  if (a.has("bos") && (*tok)->bos() >= 0) ids.push_back((*tok)->bos());
  const auto enc = (*tok)->encode_parallel(*text, a.has("special"), static_cast<int>(*threads));
  ids.insert(ids.end(), enc.begin(), enc.end());
  const std::string out = line_of(ids);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Registrar reg({.name = "tokenize",
               .summary = "turn text into token ids (or ids into text with --decode)",
               .options = {{"tokenizer", "PATH", "tokenizer.json, llama2.c tokenizer .bin, or GGUF", true},
                           {"file", "F", "UTF-8 text (or, with --decode, space-separated ids)", true},
                           {"decode", "", "read ids and print the text"},
                           {"special", "", "match special/added tokens (<|im_start|> …) in the text"},
                           {"bos", "", "prepend the BOS token"},
                           {"cases", "", "F is a llama.cpp .inp test file: print one line of ids per case"},
                           {"threads", "N", "encoding threads (default: all cores)"}},
               .run = run_tokenize});

}  // namespace
}  // namespace cj::cli
