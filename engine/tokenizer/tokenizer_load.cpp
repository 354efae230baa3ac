#include "engine/tokenizer/tokenizer_load.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/format/gguf.h"

namespace cj {

Result<VocabSpec> load_vocab_spec(const std::string& path) {
  char magic[4] = {};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    const size_t n = std::fread(magic, 1, 4, f);
    std::fclose(f);
    if (n == 4 && std::memcmp(magic, "GGUF", 4) == 0) {
      auto f = gguf::File::open(path);
      if (!f.ok()) return Error{f.error()};
      return gguf::read_vocab(*f);
    }
  } else {
    return Error{path + ": cannot open: " + std::strerror(errno)};
  }
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) return load_hf_tokenizer_json(path);
  return load_llama2c_tokenizer(path);
}

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path) {
  auto spec = load_vocab_spec(path);
  if (!spec.ok()) return Error{spec.error()};
  return Tokenizer::from_vocab(*spec);
}

}  // namespace cj
