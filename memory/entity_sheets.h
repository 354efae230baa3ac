// Entity sheets "as of chapter N": name, kind, aliases, description, the attributes and relations that hold in
// chapter N (storage::Facts::as_of: valid_from <= N <= valid_to, open ends included) and the status. A fact
// whose predicate is a status (状态, 生死, 存亡) and whose value says death (死, 亡, 故, 殁, 逝, 卒, 殒, 身亡…)
// makes the sheet say 已故 — only from the chapter the fact starts to hold in, never before.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"

namespace cj::memory {

struct SheetLine {
  std::string predicate;
  std::string value;                  // for relations: the other entity's name (+ value if any)
  std::optional<int64_t> valid_from;  // ordinal, for "（自第二十回）"
  std::string from_label;             // the book's label of valid_from (storage::ChapterNumbering), "" if none
  bool relation = false;
};

struct EntitySheet {
  int64_t entity_id = 0;
  std::string name;
  std::string kind;
  std::vector<std::string> aliases;
  std::string description;
  bool dead = false;
  std::optional<int64_t> dead_since;  // first chapter (ordinal) of the death fact, when known
  std::string dead_since_label;       // its label as the book writes it (第九十八回)
  std::vector<SheetLine> lines;       // attributes and relations, by predicate then value
};

// Whether a (predicate, value) pair says the entity has died.
bool is_death_fact(const std::string& predicate, const std::string& value);

// Sheets of every entity of the book as of chapter `ordinal` (entities by name).
// known_before: only facts the book established before chapter `ordinal` — a fact that starts to hold in it or
// later (valid_from >= ordinal) or that was stated in it or later (source_chapter >= ordinal) is left out. This
// is what a context for writing chapter N may know (time runs one way): 张三 dies in chapter N only once chapter
// N is written, and a fact read from chapter N+5 must not leak into a draft of chapter N.
Result<std::vector<EntitySheet>> entity_sheets(storage::Database& db, int64_t book_id, int64_t ordinal,
                                               bool known_before = false);

// The text of a sheet, e.g. "林黛玉（人物；又名：黛玉、颦儿）已故（第九十八回起）\n  住在：潇湘馆\n" — chapters named
// by the book's own labels, never by ordinals.
std::string render_sheet(const EntitySheet& s);

// How often each sheet's name or aliases occur in `text` (the mention count used to choose sheets).
size_t mentions(const EntitySheet& s, std::string_view text);

}  // namespace cj::memory
