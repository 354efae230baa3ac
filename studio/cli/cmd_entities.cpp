// changjuan-cli entities discover|accept|merge: propose characters from an imported book's text and turn the
// writer's choices into entities and aliases (studio/check/entity_discovery.h, docs/consistency.md).
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/text.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "studio/check/entity_discovery.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_discover(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto min_count = a.get_int("min-count", 5);
  if (!min_count.ok()) return fail(min_count.error());
  auto limit = a.get_int("limit", 200, 0, 1 << 30);
  if (!limit.ok()) return fail(limit.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false, .read_only = true});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  check::BookKnowledge k;
  auto found = check::discover_in_book(**db, *book, {.min_count = *min_count, .limit = size_t(*limit)}, a.has("roles"), &k);
  if (!found.ok()) return fail(found.error());
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& d : *found) j.push_back(check::discovered_json(d, k));
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& d : *found) std::printf("%s\n", check::discovered_line(d, k).c_str());
  }
  return 0;
}

int run_accept(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  storage::Entities ents(**db);
  const std::string kind = a.get_or("kind", "character");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : text::split_list(*a.get("name"))) {
    auto existing = ents.find(*book, name);
    if (!existing.ok()) return fail(existing.error());
    if (*existing) return fail("'" + name + "' is already known (entity '" + (*existing)->name + "')");
    auto id = ents.add(*book, kind, name, text::split_list(a.get_or("alias", "")));
    if (!id.ok()) return fail(id.error());
    out.push_back({{"id", *id}, {"name", name}, {"kind", kind}});
  }
  if (a.has("json")) std::printf("%s\n", out.dump().c_str());
  else
    for (const auto& o : out) std::printf("accepted %s\n", o["name"].get<std::string>().c_str());
  return 0;
}

int run_merge(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  storage::Entities ents(**db);
  auto into = ents.find(*book, *a.get("into"));
  if (!into.ok()) return fail(into.error());
  if (!*into) return fail("no entity named '" + *a.get("into") + "' in book " + std::to_string(*book));
  for (const auto& alias : text::split_list(*a.get("alias"))) {
    auto other = ents.find(*book, alias);
    if (!other.ok()) return fail(other.error());
    if (*other && (*other)->id != (*into)->id) {
      // An accepted entity merged into another: its facts would be lost, so refuse if it has any.
      auto facts = storage::Facts(**db).list(*book, (*other)->id);
      if (!facts.ok()) return fail(facts.error());
      if (!facts->empty())
        return fail("'" + alias + "' is an entity with facts; move or remove its facts before merging");
      if (auto s = ents.remove((*other)->id); !s.ok()) return fail(s.error());
    } else if (*other) {
      continue;  // already a name of this entity
    }
    if (auto s = ents.add_alias((*into)->id, alias); !s.ok()) return fail(s.error());
  }
  auto e = ents.get((*into)->id);
  if (!e.ok()) return fail(e.error());
  if (a.has("json")) std::printf("%s\n", nlohmann::json({{"id", e->id}, {"name", e->name}, {"aliases", e->aliases}}).dump().c_str());
  else std::printf("%s: %zu aliases\n", e->name.c_str(), e->aliases.size());
  return 0;
}

Registrar reg_discover({.name = "entities discover",
                        .summary = "propose characters from the book's text (count, first chapter, two example sentences, alias hints)",
                        .options = {{"db", "D", "project database", true},
                                    {"book", "ID", "book id", true},
                                    {"min-count", "N", "minimum occurrences (default 5)"},
                                    {"limit", "N", "at most N proposals (default 200)"},
                                    {"roles", "", "also list roles and titles (知府, 夫人), marked as such"},
                                    {"json", "", "print [{\"name\",\"kind\",\"role\",\"count\",\"first_label\",\"examples\",…}]"}},
                        .run = run_discover});
Registrar reg_accept({.name = "entities accept",
                      .summary = "accept discovered names as entities (one or more, separated by , or 、)",
                      .options = {{"db", "D", "project database", true},
                                  {"book", "ID", "book id", true},
                                  {"name", "A,B", "the names to accept", true},
                                  {"kind", "K", "character (default), place, item, faction, other"},
                                  {"alias", "A,B", "aliases for the (single) accepted name"},
                                  {"json", "", "print the created entities"}},
                      .run = run_accept});
Registrar reg_merge({.name = "entities merge",
                     .summary = "merge names into an entity's aliases (an accepted entity without facts is folded in)",
                     .options = {{"db", "D", "project database", true},
                                 {"book", "ID", "book id", true},
                                 {"alias", "A,B", "the names to merge", true},
                                 {"into", "NAME", "the entity (name or alias) they belong to", true},
                                 {"json", "", "print the entity"}},
                     .run = run_merge});

}  // namespace
}  // namespace cj::cli
