// Shared types of the consistency checks (studio/check/): a finding, the book knowledge the checks compare the
// text against (entities with aliases, facts with validity ranges), and chapter text as code points so that
// offsets are code points into the chapter body, the unit storage uses for findings.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/base/result.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"

namespace cj::check {

// Finding kinds (stored in findings.kind).
inline constexpr const char* kKindName = "name_variant";      // a name written in an unknown variant
inline constexpr const char* kKindAfterDeath = "after_death";  // acts or speaks after recorded death/departure
inline constexpr const char* kKindAttribute = "attribute";    // stated attribute contradicts a recorded fact
inline constexpr const char* kKindTimeline = "timeline";      // time markers going backwards
inline constexpr const char* kKindLlm = "llm";                // contradiction reported by the model

struct CheckFinding {
  int64_t chapter = 0;    // chapter ordinal
  int64_t start = 0;      // code points into the chapter body
  int64_t end = 0;
  std::string kind;
  std::string message;    // Chinese, for the writer
  std::string evidence;   // the quoted text and the fact / name it contradicts
  std::string subject;    // what it is about (storage::Finding::subject): the entity's name, the variant as written
};

// Chapter text as code points.
struct CheckChapter {
  int64_t ordinal = 0;
  std::u32string body;  // [chars]
};

struct KnownEntity {
  int64_t id = 0;
  std::string kind;                  // character, place, item, faction, other
  std::u32string name;
  std::vector<std::u32string> names; // name first, then aliases
};

// What the book records, loaded once per run.
struct BookKnowledge {
  std::vector<KnownEntity> entities;
  std::vector<storage::Fact> facts;
  std::map<int64_t, std::string> labels;  // chapter ordinal -> the book's own label (storage::chapter_label)

  // The book's own label of a chapter ("第二十二回", "楔子"); "第N章" for an ordinal without one. Messages to the
  // writer name chapters with this, never with the bare ordinal.
  std::string label(int64_t ordinal) const;

  const KnownEntity* entity(int64_t id) const;
  // Facts of `entity` holding at `chapter` with one of the predicates (empty = any).
  std::vector<const storage::Fact*> facts_at(int64_t entity, int64_t chapter,
                                             const std::vector<std::string_view>& predicates) const;
};

BookKnowledge make_knowledge(const std::vector<storage::Entity>& ents, std::vector<storage::Fact> facts);

// The chapters of a stored book as the checks read them, in order, with the book's own label of each in *labels
// (storage::chapter_label) and, when asked, its heading line in *headings.
Result<std::vector<CheckChapter>> load_check_chapters(storage::Database& db, int64_t book,
                                                      std::map<int64_t, std::string>* labels,
                                                      std::map<int64_t, std::string>* headings = nullptr);

// ---- code point helpers ----
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);
bool is_han(char32_t c);
// Parses a number written in digits (ASCII or full-width) or Chinese numerals (十六, 二十三, 一百零五, 两, 廿);
// nullopt if s is not a number.
std::optional<int64_t> parse_number(std::u32string_view s);
// The sentence around [begin, end): from after the previous terminator/line break to the next one (inclusive).
std::pair<size_t, size_t> sentence_around(std::u32string_view text, size_t begin, size_t end);
bool is_sentence_end(char32_t c);

// A name index: every name and alias of the known entities in a trie over code points, so that the longest
// known name at a position costs at most one step per character of that name (never a string per length).
// Names longer than storage::kMaxEntityNameChars (which entity add refuses) are left out.
class NameIndex {
 public:
  explicit NameIndex(const BookKnowledge& k);
  // The entity whose name/alias starts at text[pos] (longest match), its length in *len; nullptr if none.
  // *steps (if given) is increased by the trie nodes visited: the work bound the tests pin.
  const KnownEntity* match(std::u32string_view text, size_t pos, size_t* len, size_t* steps = nullptr) const;
  bool is_known(std::u32string_view name) const;
  const KnownEntity* find(std::u32string_view name) const;
  size_t max_len() const { return max_len_; }

 private:
  // Edge (node << 32 | code point) -> child node; node 0 is the root. owner_[node]: the entity whose name
  // ends there (first added wins: a name before another entity's alias), or nullptr.
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<const KnownEntity*> owner_;
  size_t max_len_ = 0;
  uint32_t child(uint32_t node, char32_t c) const;
};

}  // namespace cj::check
