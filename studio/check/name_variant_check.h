// Check 1: a known name written with one character wrong — 林黛王 for 林黛玉, 劉倍 for 劉備 — found on any book,
// because what counts as a confusion is computed for every CJK character (confusables.h: 同音 / 近音 from ICU's
// pinyin, 形近 from the CJK font's glyphs), never listed.
//
// A string of the book is a variant of a known name or alias (2–8 characters) when
//   - it has the name's length and differs from it in exactly one character, by one of the three rules;
//   - it is not itself a known name or alias, and does not overlap a correctly written known name;
//   - it is rare where the name is frequent: the entity's names occur at least kNameToVariant times as often, and
//     it is written at most kMaxVariantUses times;
//   - it is not a character of its own: a string that character discovery (entity_discovery.h) proposes as a
//     name (宋清 beside 宋江) is a different person, not a slip;
//   - where it stands, it reads as a name and not as part of ordinary words: at each occurrence the text is
//     segmented with ICU's dictionary, and an occurrence whose first or last character ICU joins into a word
//     with the text outside it (珍|宝与 for 宝玉, 关工|作 for 关公) is not counted, unless the character outside
//     is one the book often writes right next to that name (宝王|道 — 宝玉道 is frequent, 王道 is a word).
// ONE finding per variant: at its first occurrence (chapter and span), with every occurrence listed in the
// evidence (the chapter's own label and the sentence), the rule that fired, and the name it varies.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "studio/check/check_types.h"

namespace cj::check {

struct VariantOccurrence {
  int64_t chapter = 0;  // ordinal
  int64_t start = 0;    // code points into the chapter body; the length is the variant's
};

struct NameVariant {
  std::u32string text;             // the variant as written
  const KnownEntity* entity = nullptr;
  std::u32string name;             // the known name (or alias) it varies
  size_t pos = 0;                  // index of the changed character
  uint8_t rules = 0;               // Confusion bits (confusables.h)
  int64_t name_count = 0;          // occurrences of `name` in the book
  std::vector<VariantOccurrence> occurrences;  // in book order, those that read as a name
};

class NameVariantCheck {
 public:
  static constexpr size_t kMinNameLen = 2, kMaxNameLen = 8;
  static constexpr int64_t kNameToVariant = 10;  // the name occurs at least 10× as often as the variant
  static constexpr int64_t kMaxVariantUses = 5;  // a string written more often is the writer's choice

  NameVariantCheck(const BookKnowledge& k, const NameIndex& names);
  // The whole-book pass: finds the variants (counts, occurrences and discovery need the whole book).
  void prepare(const std::vector<CheckChapter>& all);
  // The findings of variants whose first occurrence is in `ch`.
  void run(const CheckChapter& ch, std::vector<CheckFinding>* out) const;

  const std::vector<NameVariant>& variants() const { return variants_; }
  // A hash of the findings anchored in `chapter` ("" if none): they depend on the whole book (counts, every
  // occurrence), so the checker's staleness hash of the chapter includes it.
  std::string digest(int64_t chapter) const;
  // The writer's note when a rule could not run (the shape rule without the font), else "".
  std::string note() const;

 private:
  struct Key {
    const KnownEntity* entity;
    size_t name;  // index into names_
    size_t pos;   // the wildcard position
  };
  const BookKnowledge& k_;
  const NameIndex& index_;
  std::vector<std::u32string> names_;                        // names and aliases checked (2–8 Han characters)
  std::vector<const KnownEntity*> owners_;                   // [names_.size()]
  std::unordered_map<uint64_t, std::vector<Key>> wildcard_;  // hash of (length, name with one position blank)
  std::vector<size_t> lengths_;                              // distinct name lengths, longest first
  std::vector<NameVariant> variants_;
  std::vector<CheckFinding> findings_;                       // [variants_.size()], at the first occurrence
};

}  // namespace cj::check
