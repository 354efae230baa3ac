// changjuan: the GUI. `changjuan --db D --book ID [--screenshot out.png --panel NAME --frames N]`.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "studio/args.h"
#include "ui/app.h"

int main(int argc, char** argv) {
  using cj::cli::OptSpec;
  const std::vector<OptSpec> specs = {
      {"db", "FILE", "book project to open"},
      {"book", "ID", "book id within the project"},
      {"screenshot", "PNG", "render headless, write a PNG and exit"},
      {"panel", "NAME", "panel to show (for screenshots)"},
      {"frames", "N", "frames to render before the screenshot"},
      {"font", "TTC", "CJK font file (default Noto Sans CJK)"},
      {"scale", "X", "UI scale for high-DPI screens"},
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
  auto scale = args->get_double("scale", 1.0);
  if (!book.ok() || !frames.ok() || !scale.ok()) {
    std::fprintf(stderr, "changjuan: error: %s\n",
                 (!book.ok() ? book.error() : !frames.ok() ? frames.error() : scale.error()).c_str());
    return 2;
  }
  opt.book_id = *book;
  opt.frames = static_cast<int>(*frames);
  opt.ui_scale = static_cast<float>(*scale);
  opt.screenshot = args->get_or("screenshot", "");
  opt.panel = args->get_or("panel", "");
  if (auto f = args->get("font")) opt.font_path = *f;
  return cj::ui::run_app(opt);
}
