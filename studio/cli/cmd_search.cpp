// changjuan-cli search: full-text search in a book's chapters, best first.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/database.h"
#include "storage/search_index.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_search(const Args& a) {
  if (a.positionals().empty()) return fail("search needs a QUERY (e.g. changjuan-cli search --db D --book 1 黛玉)");
  std::string query;
  for (const auto& p : a.positionals()) query += (query.empty() ? "" : " ") + p;
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto limit = a.get_int("limit", 20);
  if (!limit.ok()) return fail(limit.error());
  if (*limit < 1) return fail("--limit must be at least 1");
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  storage::SearchOptions o;
  o.limit = static_cast<int>(*limit);
  auto hits = storage::SearchIndex(**db).search(*book, query, o);
  if (!hits.ok()) return fail(hits.error());
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& h : *hits)
      j.push_back({{"chapter", h.ordinal}, {"title", h.title}, {"snippet", h.snippet}, {"score", h.score}});
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& h : *hits)
      std::printf("%4lld  %s\n      %s\n", static_cast<long long>(h.ordinal), h.title.c_str(), h.snippet.c_str());
  }
  return 0;
}

Registrar reg({.name = "search",
               .summary = "full-text search in a book (Chinese words, names, any 1-2 汉字), best first",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"limit", "N", "at most N chapters (default 20)"},
                           {"json", "", "print [{\"chapter\":ordinal,\"snippet\":…}]; matches are marked 【】"}},
               .max_positionals = 16,
               .positional_help = "QUERY (terms separated by spaces must all occur)",
               .run = run_search});

}  // namespace
}  // namespace cj::cli
