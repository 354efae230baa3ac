// Entities of a book — characters, places, items, factions — with aliases. Names and aliases form the book's
// lexicon for word segmentation and search (search_index.h: any change here makes the next search rebuild the
// index once; call SearchIndex::rebuild() yourself after a batch of changes).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

// The longest name or alias an entity may have, in code points. Names feed the checks' name index and the
// search lexicon at every position of the book, so a bound keeps both linear in the text.
inline constexpr size_t kMaxEntityNameChars = 32;

// "character", "place", "item", "faction", "other".
bool valid_entity_kind(const std::string& kind);

struct Entity {
  int64_t id = 0;
  int64_t book_id = 0;
  std::string kind;  // see valid_entity_kind
  std::string name;  // unique within the book
  std::string description;
  std::vector<std::string> aliases;  // sorted
  int64_t created_at = 0;
};

class Entities {
 public:
  explicit Entities(Database& db) : db_(db) {}

  // Adds an entity with its aliases (one transaction); returns its id. Errors: unknown kind, empty, duplicate
  // or too long (> kMaxEntityNameChars) name or alias, unknown book.
  Result<int64_t> add(int64_t book_id, const std::string& kind, const std::string& name,
                      const std::vector<std::string>& aliases = {}, const std::string& description = "");
  Result<Entity> get(int64_t id);
  Result<std::vector<Entity>> list(int64_t book_id, const std::string& kind = "");  // by name
  // The entity whose name or alias is `name` (name first), if any.
  Result<std::optional<Entity>> find(int64_t book_id, const std::string& name);
  Status add_alias(int64_t id, const std::string& alias);
  Status remove_alias(int64_t id, const std::string& alias);
  Status rename(int64_t id, const std::string& name);
  Status set_description(int64_t id, const std::string& description);
  Status remove(int64_t id);  // also removes its facts
  // Every name and alias of the book's entities (the segmentation lexicon).
  Result<std::vector<std::string>> lexicon(int64_t book_id);

 private:
  Database& db_;
};

}  // namespace cj::storage
