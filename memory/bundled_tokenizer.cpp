#include "memory/bundled_tokenizer.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace cj::memory {

Result<std::string> bundled_tokenizer_path() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("CHANGJUAN_TOKENIZER"); env && *env) return std::string(env);
  const fs::path rel = "samples/tokenizer/qwen3/tokenizer.json";
  std::vector<fs::path> tries{fs::current_path() / rel};
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    tries.push_back(exe.parent_path() / ".." / ".." / rel);
    tries.push_back(exe.parent_path() / ".." / "share" / "changjuan" / rel);
  }
  for (const auto& p : tries)
    if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
  return make_error("cannot find the bundled Qwen3 tokenizer (samples/tokenizer/qwen3/tokenizer.json); pass "
                    "--tokenizer path/to/tokenizer.json or --model path/to/model.gguf");
}

}  // namespace cj::memory
