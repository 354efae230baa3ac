// Facts about entities, valid over a range of chapters: 张三 状态=活着 from chapter 1 to 40, 状态=死亡 from 41.
// valid_from/valid_to are chapter ordinals, inclusive; empty = from the start / to the end. A fact records where
// it was stated (chapter ordinal and code-point offset in that chapter's body) and who stated it (origin).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::storage {

struct Fact {
  int64_t id = 0;
  int64_t book_id = 0;
  int64_t entity_id = 0;
  std::string predicate;               // "状态", "住在", "父亲"
  std::string value;                   // "活着", "潇湘馆"
  std::optional<int64_t> object_id;    // another entity, for relations (父亲 -> 贾政)
  std::optional<int64_t> valid_from;   // first chapter ordinal it holds in
  std::optional<int64_t> valid_to;     // last chapter ordinal it holds in
  std::optional<int64_t> source_chapter;
  std::optional<int64_t> source_offset;
  std::string origin = "writer";       // "writer", "extracted", "import"
  int64_t created_at = 0;

  // Whether the fact holds in chapter `ordinal`.
  bool holds_at(int64_t ordinal) const {
    return (!valid_from || *valid_from <= ordinal) && (!valid_to || ordinal <= *valid_to);
  }
};

class Facts {
 public:
  explicit Facts(Database& db) : db_(db) {}

  // Adds a fact (id and created_at are ignored); returns its id. Errors: empty predicate, an inverted range,
  // an entity (or object) that is not in the book.
  Result<int64_t> add(const Fact& f);
  Result<Fact> get(int64_t id);
  // All facts of a book (or of one entity), ordered by entity, valid_from, id.
  Result<std::vector<Fact>> list(int64_t book_id, std::optional<int64_t> entity_id = std::nullopt);
  // The facts that hold in chapter `ordinal` ("as of chapter N").
  Result<std::vector<Fact>> as_of(int64_t book_id, int64_t ordinal, std::optional<int64_t> entity_id = std::nullopt);
  // Ends a fact's validity (e.g. when a later chapter contradicts it); nullopt reopens it.
  Status set_valid_to(int64_t id, std::optional<int64_t> valid_to);
  Status remove(int64_t id);

 private:
  Result<std::vector<Fact>> query(const std::string& where, int64_t book_id, std::optional<int64_t> entity_id,
                                  std::optional<int64_t> ordinal);
  Database& db_;
};

}  // namespace cj::storage
