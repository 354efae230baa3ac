// changjuan-cli segment: Chinese word segmentation (ICU + the caller's lexicon), words separated by spaces.
#include <cstdio>
#include <sstream>

#include "engine/base/file.h"
#include "engine/base/segmenter.h"
#include "engine/base/utf8.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_segment(const Args& a) {
  Lexicon lex;
  if (auto lf = a.get("lexicon")) {
    auto text = read_file(*lf);
    if (!text.ok()) return fail(text.error());
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lex.add(line);
    }
  }
  auto text = read_file(*a.get("file"));
  if (!text.ok()) return fail(text.error());
  if (size_t bad; !utf8::valid(*text, &bad)) return fail(*a.get("file") + ": invalid UTF-8 at byte " + std::to_string(bad));
  Segmenter seg;
  seg.set_lexicon(&lex);
  std::string out;
  for (const auto& s : seg.segment(*text)) {
    std::string_view piece(text->data() + s.begin, s.end - s.begin);
    if (s.kind == Segment::kSpace) {
      if (piece.find('\n') != std::string_view::npos) out += '\n';
      continue;
    }
    if (!out.empty() && out.back() != '\n') out += ' ';
    out += piece;
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Registrar reg({.name = "segment",
               .summary = "split Chinese text into words (ICU word breaks + a lexicon of names)",
               .options = {{"file", "F", "UTF-8 text file to segment", true},
                           {"lexicon", "F", "one name or alias per line; longest match wins over ICU"}},
               .run = run_segment});

}  // namespace
}  // namespace cj::cli
