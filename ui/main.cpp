// changjuan: the GUI. `changjuan [--open NOVEL.txt | --db D --book ID] [--screenshot out.png --panel NAME
// --frames N] [--script FILE]`.
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "studio/args.h"
#include "ui/app.h"

int main(int argc, char** argv) {
  // GLFW opens the X input method (fcitx, ibus via XIM) only under the user's character locale; LC_CTYPE alone
  // leaves number formatting (LC_NUMERIC) alone.
  std::setlocale(LC_CTYPE, "");
  using cj::cli::OptSpec;
  const std::vector<OptSpec> specs = {
      {"db", "FILE", "book project to open"},
      {"book", "ID", "book id within the project"},
      {"open", "TXT", "open a text novel to edit in place (UTF-8, GB18030, Big5, UTF-16; chapters split as import splits them)"},
      {"chapter", "N", "chapter to open first, as the book numbers it (22, 第二十二回, 楔子, a title; #N: position)"},
      {"screenshot", "PNG", "render headless, write a PNG and exit"},
      {"script", "FILE", "drive the GUI from a test script (headless), then exit"},
      {"panel", "NAME", "panel to show: chapters editor entities outline ai findings jobs search context engine"},
      {"frames", "N", "frames to render before the screenshot"},
      {"size", "WxH", "window size (default 1280x800)"},
      {"font", "TTC", "CJK font file (default Noto Sans CJK)"},
      {"font-face", "N", "face index in a .ttc (Noto Sans CJK: 2 SC, 3 TC)"},
      {"scale", "X", "UI scale for high-DPI screens (remembered)"},
      {"model", "GGUF", "model for the writing assistant (else model_path in settings.json)"},
      {"frame-stats", "", "print frame times on exit"},
      {"no-restore", "", "do not reopen the last book"},
      {"help", "", "show this help"}};
  auto args = cj::cli::parse_args(specs, 0, std::vector<std::string>(argv + 1, argv + argc));
  if (!args.ok()) {
    std::fprintf(stderr, "changjuan: error: %s (see changjuan --help)\n", args.error().c_str());
    return 2;
  }
  if (args->has("help")) {
    std::printf("usage: changjuan [options]\n\n");
    for (const auto& o : specs) std::printf("  --%-12s %-6s %s\n", o.name.c_str(), o.value.c_str(), o.help.c_str());
    return 0;
  }
  cj::ui::AppOptions opt;
  opt.db = args->get_or("db", "");
  auto book = args->get_int("book", 0);
  auto frames = args->get_int("frames", 3);
  auto scale = args->get_double("scale", 0.0);
  auto face = args->get_int("font-face", -1);
  for (const auto* r : {&book, &frames, &face})
    if (!r->ok()) {
      std::fprintf(stderr, "changjuan: error: %s\n", r->error().c_str());
      return 2;
    }
  if (!scale.ok()) {
    std::fprintf(stderr, "changjuan: error: %s\n", scale.error().c_str());
    return 2;
  }
  if (*scale != 0 && (*scale < 0.5 || *scale > 4)) {
    std::fprintf(stderr, "changjuan: error: --scale must be between 0.5 and 4\n");
    return 2;
  }
  if (auto sz = args->get("size")) {
    if (std::sscanf(sz->c_str(), "%dx%d", &opt.width, &opt.height) != 2 || opt.width < 320 || opt.height < 240) {
      std::fprintf(stderr, "changjuan: error: --size wants WxH, at least 320x240\n");
      return 2;
    }
  }
  opt.book_id = *book;
  opt.frames = static_cast<int>(*frames);
  opt.chapter_ref = args->get_or("chapter", "");
  opt.font_face = static_cast<int>(*face);
  opt.ui_scale = static_cast<float>(*scale);
  opt.open_text = args->get_or("open", "");
  opt.screenshot = args->get_or("screenshot", "");
  opt.script = args->get_or("script", "");
  opt.panel = args->get_or("panel", "");
  opt.frame_stats = args->has("frame-stats");
  opt.no_restore = args->has("no-restore");
  if (auto f = args->get("font")) opt.font_path = *f;
  opt.model = args->get_or("model", "");
  return cj::ui::run_app(opt);
}
