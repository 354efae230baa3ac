// changjuan-cli import: a plain-text novel (UTF-8/GB18030/UTF-16) into a project database, split into chapters.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "storage/database.h"
#include "storage/importer.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_import(const Args& a) {
  if (a.has("replace") && a.has("duplicate")) return fail("--replace and --duplicate exclude each other");
  const std::string path = *a.get("db");
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  auto db = storage::Database::open(path);
  if (!db.ok()) return fail(db.error());
  // A project this command created is removed again when nothing could be imported into it.
  auto undo_create = [&] {
    if (existed) return;
    db.value().reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
  };
  storage::ImportOptions o;
  o.title = a.get_or("title", "");
  o.replace = a.has("replace");
  o.allow_duplicate = a.has("duplicate");
  auto r = storage::import_file(**db, *a.get("file"), o);
  if (!r.ok()) {
    undo_create();
    return fail(r.error());
  }
  if (!a.has("json")) {
    std::printf("%s\n", storage::summary(*r).c_str());
    return 0;
  }
  nlohmann::json j = {{"book_id", r->book_id},       {"chapters", r->chapters},    {"title", r->title},
                      {"encoding", r->encoding},     {"front_matter", r->front_matter},
                      {"toc_lines", r->toc_lines},   {"stories", r->stories},      {"sections", r->sections},
                      {"wrap_width", r->wrap_width}, {"reflowed", r->reflowed},
                      {"first_label", r->first_label}, {"last_label", r->last_label}};
  if (r->replaced_book_id) j["replaced_book_id"] = r->replaced_book_id;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

Registrar reg({.name = "import",
               .summary = "import a plain-text novel into a project and say what was found (chapters, table of "
                          "contents, stories, reflowed lines)",
               .options = {{"db", "D", "project database (created if missing)", true},
                           {"file", "F", "novel as .txt/.md: UTF-8, GB18030/GBK, Big5 or UTF-16 (with or without BOM)", true},
                           {"title", "T", "book title (default: the file's 《书名》 line or the file name)"},
                           {"replace", "", "if this text was imported before, replace that book"},
                           {"duplicate", "", "if this text was imported before, store a second copy anyway"},
                           {"json", "", "print {\"book_id\":…,\"chapters\":N,\"toc_lines\":…,\"reflowed\":…,…}"}},
               .run = run_import});

}  // namespace
}  // namespace cj::cli
