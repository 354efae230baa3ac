// changjuan-cli entity add|list: characters, places, items and factions of a book, with aliases.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/database.h"
#include "engine/base/text.h"
#include "storage/entities.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

nlohmann::json to_json(const storage::Entity& e) {
  return {{"id", e.id}, {"kind", e.kind}, {"name", e.name}, {"aliases", e.aliases}, {"description", e.description}};
}

int run_add(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  storage::Entities ents(**db);
  auto id = ents.add(*book, a.get_or("kind", "character"), *a.get("name"), text::split_list(a.get_or("alias", "")),
                     a.get_or("description", ""));
  if (!id.ok()) return fail(id.error());
  auto e = ents.get(*id);
  if (!e.ok()) return fail(e.error());
  if (a.has("json")) std::printf("%s\n", to_json(*e).dump().c_str());
  else std::printf("added entity %lld %s\n", static_cast<long long>(*id), e->name.c_str());
  return 0;
}

int run_list(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  const std::string kind = a.get_or("kind", "");
  if (!kind.empty() && !storage::valid_entity_kind(kind)) return fail("unknown kind '" + kind + "'");
  auto list = storage::Entities(**db).list(*book, kind);
  if (!list.ok()) return fail(list.error());
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : *list) j.push_back(to_json(e));
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& e : *list) {
      std::string al;
      for (const auto& x : e.aliases) al += (al.empty() ? "" : "、") + x;
      std::printf("%4lld  %-10s %s%s%s\n", static_cast<long long>(e.id), e.kind.c_str(), e.name.c_str(),
                  al.empty() ? "" : "  (", al.empty() ? "" : (al + ")").c_str());
    }
  }
  return 0;
}

Registrar reg_add({.name = "entity add",
                   .summary = "add a character/place/item/faction with aliases (names feed word segmentation)",
                   .options = {{"db", "D", "project database", true},
                               {"book", "ID", "book id", true},
                               {"name", "NAME", "the entity's name, e.g. 林黛玉", true},
                               {"kind", "K", "character (default), place, item, faction or other"},
                               {"alias", "A,B", "aliases separated by , or 、 (e.g. 黛玉,颦儿)"},
                               {"description", "TEXT", "a description"},
                               {"json", "", "print the entity as JSON"}},
                   .run = run_add});
Registrar reg_list({.name = "entity list",
                    .summary = "list a book's entities and their aliases",
                    .options = {{"db", "D", "project database", true},
                                {"book", "ID", "book id", true},
                                {"kind", "K", "only this kind"},
                                {"json", "", "print [{\"id\",\"kind\",\"name\",\"aliases\",\"description\"}]"}},
                    .run = run_list});

}  // namespace
}  // namespace cj::cli
