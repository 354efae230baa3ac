// changjuan-cli fact add|list: facts about entities with a chapter range ("as of chapter N").
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/chapter_numbering.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "studio/cli/chapter_options.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

// An entity given by name, alias or numeric id.
Result<storage::Entity> resolve(storage::Entities& ents, int64_t book, const std::string& s) {
  auto found = ents.find(book, s);
  if (!found.ok()) return Error{found.error()};
  if (found->has_value()) return std::move(**found);
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
    auto e = ents.get(std::stoll(s));
    if (e.ok() && e->book_id == book) return e;
  }
  return make_error("book " + std::to_string(book) + " has no entity named " + s + " (add it with: entity add)");
}

Result<std::optional<int64_t>> opt_int(const Args& a, const std::string& name) {
  if (!a.has(name)) return std::optional<int64_t>();
  auto v = a.get_int(name, 0);
  if (!v.ok()) return Error{v.error()};
  return std::optional<int64_t>(*v);
}

// Chapters as ordinals (valid_from, valid_to, source_chapter: the stable keys) and as the book labels them
// (from_label, to_label, source_label: 第二十二回).
nlohmann::json to_json(const storage::Fact& f, const std::string& entity, const std::string& object,
                       const storage::ChapterNumbering& n) {
  nlohmann::json j = {{"id", f.id}, {"entity_id", f.entity_id}, {"entity", entity}, {"predicate", f.predicate},
                      {"value", f.value}, {"origin", f.origin}};
  j["valid_from"] = f.valid_from ? nlohmann::json(*f.valid_from) : nlohmann::json(nullptr);
  j["valid_to"] = f.valid_to ? nlohmann::json(*f.valid_to) : nlohmann::json(nullptr);
  if (f.valid_from) j["from_label"] = n.label(*f.valid_from);
  if (f.valid_to) j["to_label"] = n.label(*f.valid_to);
  if (f.object_id) j["object"] = object;
  if (f.source_chapter) {
    j["source_chapter"] = *f.source_chapter;
    j["source_label"] = n.label(*f.source_chapter);
  }
  if (f.source_offset) j["source_offset"] = *f.source_offset;
  return j;
}

int run_add(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  storage::Entities ents(**db);
  auto e = resolve(ents, *book, *a.get("entity"));
  if (!e.ok()) return fail(e.error());
  storage::Fact f;
  f.book_id = *book;
  f.entity_id = e->id;
  f.predicate = *a.get("predicate");
  f.value = a.get_or("value", "");
  std::string object_name;
  if (auto o = a.get("object")) {
    auto oe = resolve(ents, *book, *o);
    if (!oe.ok()) return fail(oe.error());
    f.object_id = oe->id;
    object_name = oe->name;
  }
  // Chapters as the book numbers them (--from 第二十二回, --to 40); a range may reach chapters not written yet.
  auto numbering = storage::ChapterNumbering::load(**db, *book);
  if (!numbering.ok()) return fail(numbering.error());
  for (auto [name, field, allow_new] : {std::tuple{"from", &f.valid_from, true}, std::tuple{"to", &f.valid_to, true},
                                        std::tuple{"chapter", &f.source_chapter, false}}) {
    auto v = chapter_option(*numbering, a, name, allow_new);
    if (!v.ok()) return fail(v.error());
    *field = *v;
  }
  auto offset = opt_int(a, "offset");
  if (!offset.ok()) return fail(offset.error());
  f.source_offset = *offset;
  auto id = storage::Facts(**db).add(f);
  if (!id.ok()) return fail(id.error());
  auto saved = storage::Facts(**db).get(*id);
  if (!saved.ok()) return fail(saved.error());
  if (a.has("json")) std::printf("%s\n", to_json(*saved, e->name, object_name, *numbering).dump().c_str());
  else std::printf("added fact %lld\n", static_cast<long long>(*id));
  return 0;
}

int run_list(const Args& a) {
  auto book = a.get_int("book", 0);
  if (!book.ok()) return fail(book.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  storage::Entities ents(**db);
  std::optional<int64_t> entity;
  if (auto n = a.get("entity")) {
    auto e = resolve(ents, *book, *n);
    if (!e.ok()) return fail(e.error());
    entity = e->id;
  }
  auto numbering = storage::ChapterNumbering::load(**db, *book);
  if (!numbering.ok()) return fail(numbering.error());
  auto as_of = chapter_option(*numbering, a, "as-of", true);
  if (!as_of.ok()) return fail(as_of.error());
  storage::Facts facts(**db);
  auto list = *as_of ? facts.as_of(*book, **as_of, entity) : facts.list(*book, entity);
  if (!list.ok()) return fail(list.error());
  auto name_of = [&](std::optional<int64_t> id) -> std::string {
    if (!id) return "";
    auto e = ents.get(*id);
    return e.ok() ? e->name : "";
  };
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& f : *list) j.push_back(to_json(f, name_of(f.entity_id), name_of(f.object_id), *numbering));
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& f : *list) {
      auto range = [&](std::optional<int64_t> v) { return v ? numbering->label(*v) : std::string("…"); };
      std::printf("%4lld  %s %s %s%s  [%s-%s]\n", static_cast<long long>(f.id), name_of(f.entity_id).c_str(),
                  f.predicate.c_str(), f.value.c_str(), f.object_id ? (" " + name_of(f.object_id)).c_str() : "",
                  range(f.valid_from).c_str(), range(f.valid_to).c_str());
    }
  }
  return 0;
}

Registrar reg_add({.name = "fact add",
                   .summary = "add a fact about an entity, valid from one chapter to another",
                   .options = {{"db", "D", "project database", true},
                               {"book", "ID", "book id", true},
                               {"entity", "NAME", "entity name, alias or id", true},
                               {"predicate", "P", "what is stated, e.g. 状态, 住在, 父亲", true},
                               {"value", "V", "its value, e.g. 活着, 潇湘馆"},
                               {"object", "NAME", "another entity, for relations"},
                               {"from", "N", "first chapter it holds in (22, 第二十二回, #N; default: the start)"},
                               {"to", "N", "last chapter it holds in (default: the end)"},
                               {"chapter", "N", "chapter where it is stated"},
                               {"offset", "K", "character offset in that chapter"},
                               {"json", "", "print the fact as JSON"}},
                   .run = run_add});
Registrar reg_list({.name = "fact list",
                    .summary = "list facts of a book (of one entity; as of chapter N)",
                    .options = {{"db", "D", "project database", true},
                                {"book", "ID", "book id", true},
                                {"entity", "NAME", "only this entity (name, alias or id)"},
                                {"as-of", "N", "only facts that hold in chapter N (22, 第二十二回, #N)"},
                                {"json", "", "print the facts as JSON"}},
                    .run = run_list});

}  // namespace
}  // namespace cj::cli
