// changjuan-cli search: full-text search in a book's chapters, best first.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/database.h"
#include "storage/chapter_numbering.h"
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
  storage::SearchIndex idx(**db);
  auto hits = idx.search(*book, query, o);
  if (!hits.ok()) return fail(hits.error());
  auto count = idx.count(*book, query);
  if (!count.ok()) return fail(count.error());
  auto numbering = storage::ChapterNumbering::load(**db, *book);
  if (!numbering.ok()) return fail(numbering.error());
  // The query as searched: its distinct terms (a pasted query may repeat one term thousands of times).
  auto plan = idx.plan(query);
  if (!plan.ok()) return fail(plan.error());
  std::string shown;
  for (const auto& t : plan->term_list) shown += (shown.empty() ? "" : " ") + t;
  if (a.has("json")) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& h : *hits)
      results.push_back({{"ordinal", h.ordinal}, {"chapter", h.ordinal}, {"label", numbering->label(h.ordinal)},
                         {"title", h.title}, {"snippet", h.snippet}, {"score", h.score}, {"hits", h.hits}});
    nlohmann::json j = {{"query", shown},   {"terms", plan->term_list}, {"hits", count->hits},
                        {"chapters", count->chapters}, {"results", results}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  if (hits->empty()) {
    std::printf("没有找到「%s」（0 处）\n", shown.c_str());
    return 0;
  }
  std::printf("「%s」：%lld 处，%lld 章%s\n", shown.c_str(), static_cast<long long>(count->hits),
              static_cast<long long>(count->chapters),
              static_cast<int64_t>(hits->size()) < count->chapters
                  ? ("（列出最相关的 " + std::to_string(hits->size()) + " 章）").c_str()
                  : "");
  for (const auto& h : *hits)
    std::printf("#%-4lld %s  %s  %lld 处\n      %s\n", static_cast<long long>(h.ordinal),
                numbering->label(h.ordinal).c_str(), h.title.c_str(), static_cast<long long>(h.hits), h.snippet.c_str());
  return 0;
}

Registrar reg({.name = "search",
               .summary = "full-text search in a book (Chinese words, names, any 1-2 汉字), best first",
               .options = {{"db", "D", "project database", true},
                           {"book", "ID", "book id", true},
                           {"limit", "N", "at most N chapters (default 20)"},
                           {"json", "",
                            "print {\"hits\":N,\"chapters\":M,\"results\":[{\"ordinal\",\"label\",\"snippet\",\"hits\"…}]}; "
                            "matches are marked 【】"}},
               .max_positionals = 16,
               .positional_help = "QUERY (terms separated by spaces must all occur)",
               .run = run_search});

}  // namespace
}  // namespace cj::cli
