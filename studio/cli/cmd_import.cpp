// changjuan-cli import: a plain-text novel (UTF-8/GB18030/UTF-16) into a project database, split into chapters.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "storage/database.h"
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
    nlohmann::json j = {{"book_id", r->result.book_id}, {"chapters", r->result.chapters}, {"title", r->result.title},
                        {"encoding", r->result.encoding}, {"front_matter", r->result.front_matter},
                        {"zi", r->zi}, {"summaries", r->summaries_built}};
    if (r->result.replaced_book_id) j["replaced_book_id"] = r->result.replaced_book_id;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s", studio::describe(*r).c_str());
  std::printf("书号 %lld。看章节：changjuan-cli chapters --db %s --book %lld；在应用里打开：changjuan --db %s --book %lld\n",
              static_cast<long long>(r->result.book_id), a.get("db")->c_str(),
              static_cast<long long>(r->result.book_id), a.get("db")->c_str(),
              static_cast<long long>(r->result.book_id));
  return 0;
}

Registrar reg({.name = "import",
               .summary = "import a plain-text novel into a project (a summary; --json: {\"book_id\":…,\"chapters\":N})",
               .options = {{"db", "D", "project database (created if missing)", true},
                           {"file", "F", "novel as .txt/.md: UTF-8, GB18030/GBK or UTF-16 with BOM", true},
                           {"title", "T", "book title (default: the file's 《书名》 line or the file name)"},
                           {"replace", "", "if this text was imported before, replace that book"},
                           {"duplicate", "", "if this text was imported before, store a second copy anyway"},
                           {"no-summaries", "", "do not build the extractive summary tree now"},
                           {"json", "", "print {\"book_id\",\"chapters\",\"title\",\"encoding\",…}"}},
               .run = run_import});

}  // namespace
}  // namespace cj::cli
