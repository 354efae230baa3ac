// changjuan-cli import: a plain-text novel (UTF-8/GB18030/UTF-16) into a project database, split into chapters.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "storage/importer.h"
#include "studio/book_import.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_import(const Args& a) {
  if (a.has("replace") && a.has("duplicate")) return fail("--replace and --duplicate exclude each other");
  storage::ImportOptions o;
  o.title = a.get_or("title", "");
  o.replace = a.has("replace");
  o.allow_duplicate = a.has("duplicate");
  // The same import as the GUI's 导入小说, with its summary tree unless --no-summaries.
  auto r = studio::import_novel(*a.get("db"), *a.get("file"), o, !a.has("no-summaries"));
  if (!r.ok()) return fail(r.error());
  if (a.has("json")) {
    const auto& x = r->result;
    nlohmann::json j = {{"book_id", x.book_id},       {"chapters", x.chapters},    {"title", x.title},
                        {"encoding", x.encoding},     {"front_matter", x.front_matter},
                        {"toc_lines", x.toc_lines},   {"stories", x.stories},      {"sections", x.sections},
                        {"wrap_width", x.wrap_width}, {"reflowed", x.reflowed},
                        {"first_label", x.first_label}, {"last_label", x.last_label},
                        {"zi", r->zi}, {"summaries", r->summaries_built}};
    if (x.replaced_book_id) j["replaced_book_id"] = x.replaced_book_id;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  // The same report as the GUI's 导入小说 (chapters, table of contents, stories, reflowed lines, 字数, summaries),
  // then where to go next.
  std::printf("%s", studio::describe(*r).c_str());
  std::printf("书号 %lld。看章节：changjuan-cli chapters --db %s --book %lld；在应用里打开：changjuan --db %s --book %lld\n",
              static_cast<long long>(r->result.book_id), a.get("db")->c_str(),
              static_cast<long long>(r->result.book_id), a.get("db")->c_str(),
              static_cast<long long>(r->result.book_id));
  return 0;
}

Registrar reg({.name = "import",
               .summary = "import a plain-text novel into a project and say what was found (chapters, table of "
                          "contents, stories, reflowed lines, summaries)",
               .options = {{"db", "D", "project database (created if missing)", true},
                           {"file", "F", "novel as .txt/.md: UTF-8, GB18030/GBK, Big5 or UTF-16 (with or without BOM)", true},
                           {"title", "T", "book title (default: the file's 《书名》 line or the file name)"},
                           {"replace", "", "if this text was imported before, replace that book"},
                           {"duplicate", "", "if this text was imported before, store a second copy anyway"},
                           {"no-summaries", "", "do not build the extractive summary tree now"},
                           {"json", "", "print {\"book_id\":…,\"chapters\":N,\"toc_lines\":…,\"reflowed\":…,\"zi\":…,…}"}},
               .run = run_import});

}  // namespace
}  // namespace cj::cli
