#include "storage/entities.h"

#include <unicode/uchar.h>

#include <algorithm>

#include "engine/base/utf8.h"
#include "storage/transaction.h"

namespace cj::storage {

bool valid_entity_kind(const std::string& k) {
  return k == "character" || k == "place" || k == "item" || k == "faction" || k == "other";
}

namespace {
// Only white space (ASCII, the ideographic space U+3000, no-break spaces…): a name nobody can find in the text.
bool blank(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const int n = utf8::decode(s, i, &cp);
    if (n == 0 || !u_isUWhiteSpace(UChar32(cp))) return false;
    i += size_t(n);
  }
  return true;
}

Status check_name(const std::string& n, const char* what) {
  if (n.empty()) return make_error(std::string(what) + " must not be empty");
  if (!utf8::valid(n)) return make_error(std::string(what) + " is not valid UTF-8");
  if (n.find_first_of("\n\r\t") != std::string::npos) return make_error(std::string(what) + " must be one line");
  if (blank(n)) return make_error(std::string(what) + " must not be blank (only spaces)");
  if (const size_t chars = utf8::count_code_points(n); chars > kMaxEntityNameChars)
    return make_error(std::string(what) + " is " + std::to_string(chars) + " characters long; the limit is " +
                      std::to_string(kMaxEntityNameChars));
  return Status::Ok();
}
}  // namespace

Result<int64_t> Entities::add(int64_t book_id, const std::string& kind, const std::string& name,
                              const std::vector<std::string>& aliases, const std::string& description) {
  if (!valid_entity_kind(kind))
    return make_error("unknown entity kind '" + kind + "' (use character, place, item, faction or other)");
  CJ_TRY(check_name(name, "an entity name"));
  for (const auto& a : aliases) CJ_TRY(check_name(a, "an alias"));
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot add entity: " + tx.error());
  auto st = db_.prepare("INSERT INTO entities(book_id, kind, name, description, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, kind).bind(3, name).bind(4, description).bind(5, now_ms());
  if (auto s = st->run(); !s.ok()) {
    if (s.error().find("UNIQUE") != std::string::npos)
      return make_error("book " + std::to_string(book_id) + " already has an entity named " + name);
    if (s.error().find("FOREIGN KEY") != std::string::npos) return make_error("no book with id " + std::to_string(book_id));
    return make_error("cannot add entity " + name + ": " + s.error());
  }
  const int64_t id = db_.last_insert_id();
  for (const auto& a : aliases) CJ_TRY(add_alias(id, a));
  if (auto s = tx->commit(); !s.ok()) return make_error("cannot add entity: " + s.error());
  return id;
}

Result<Entity> Entities::get(int64_t id) {
  auto st = db_.prepare("SELECT id, book_id, kind, name, description, created_at FROM entities WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no entity with id " + std::to_string(id));
  Entity e{st->col_int(0), st->col_int(1), st->col_text(2), st->col_text(3), st->col_text(4), {}, st->col_int(5)};
  auto al = db_.prepare("SELECT alias FROM entity_aliases WHERE entity_id = ?1 ORDER BY alias");
  if (!al.ok()) return Error{al.error()};
  al->bind(1, id);
  while (true) {
    auto a = al->step();
    if (!a.ok()) return Error{a.error()};
    if (!*a) break;
    e.aliases.push_back(al->col_text(0));
  }
  return e;
}

Result<std::vector<Entity>> Entities::list(int64_t book_id, const std::string& kind) {
  auto st = db_.prepare("SELECT id FROM entities WHERE book_id = ?1 AND (?2 = '' OR kind = ?2) ORDER BY name");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, kind);
  std::vector<Entity> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    auto e = get(st->col_int(0));
    if (!e.ok()) return Error{e.error()};
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::optional<Entity>> Entities::find(int64_t book_id, const std::string& name) {
  auto st = db_.prepare(
      "SELECT id FROM entities WHERE book_id = ?1 AND name = ?2 UNION ALL "
      "SELECT e.id FROM entity_aliases a JOIN entities e ON e.id = a.entity_id WHERE e.book_id = ?1 AND a.alias = ?2 "
      "LIMIT 1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, name);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return std::optional<Entity>();
  auto e = get(st->col_int(0));
  if (!e.ok()) return Error{e.error()};
  return std::optional<Entity>(std::move(*e));
}

Status Entities::add_alias(int64_t id, const std::string& alias) {
  CJ_TRY(check_name(alias, "an alias"));
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("INSERT OR IGNORE INTO entity_aliases(entity_id, alias) VALUES (?1, ?2)");
  if (!st.ok()) return Error{st.error()};
  if (auto s = st->bind(1, id).bind(2, alias).run(); !s.ok()) {
    if (s.error().find("FOREIGN KEY") != std::string::npos) return make_error("no entity with id " + std::to_string(id));
    return make_error("cannot add alias " + alias + ": " + s.error());
  }
  return tx->commit();
}

Status Entities::remove_alias(int64_t id, const std::string& alias) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM entity_aliases WHERE entity_id = ?1 AND alias = ?2");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, alias).run());
  if (db_.changes() == 0) return make_error("entity " + std::to_string(id) + " has no alias " + alias);
  return tx->commit();
}

Status Entities::rename(int64_t id, const std::string& name) {
  CJ_TRY(check_name(name, "an entity name"));
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE entities SET name = ?2 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  if (auto s = st->bind(1, id).bind(2, name).run(); !s.ok()) {
    if (s.error().find("UNIQUE") != std::string::npos) return make_error("another entity is already named " + name);
    return make_error("cannot rename entity: " + s.error());
  }
  if (db_.changes() == 0) return make_error("no entity with id " + std::to_string(id));
  return tx->commit();
}

Status Entities::set_description(int64_t id, const std::string& d) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("UPDATE entities SET description = ?2 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).bind(2, d).run());
  if (db_.changes() == 0) return make_error("no entity with id " + std::to_string(id));
  return tx->commit();
}

Status Entities::remove(int64_t id) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return Error{tx.error()};
  auto st = db_.prepare("DELETE FROM entities WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  CJ_TRY(st->bind(1, id).run());
  if (db_.changes() == 0) return make_error("no entity with id " + std::to_string(id));
  return tx->commit();
}

Result<std::vector<std::string>> Entities::lexicon(int64_t book_id) {
  auto st = db_.prepare(
      "SELECT name FROM entities WHERE book_id = ?1 UNION "
      "SELECT a.alias FROM entity_aliases a JOIN entities e ON e.id = a.entity_id WHERE e.book_id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id);
  std::vector<std::string> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(st->col_text(0));
  }
  return out;
}

}  // namespace cj::storage
