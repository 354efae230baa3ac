// Check 1: a name written in a variant that is not a known name or alias — one character off from a known
// name where the differing character is confusable with the right one (confusables.h): 林黛王 for 林黛玉,
// 刘倍 for 刘备. Variants that are themselves known names/aliases (real different people) are never flagged,
// and text covered by a known name is skipped (so 宝钗 is not a variant of 宝玉 when both are known).
#pragma once
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "studio/check/check_types.h"

namespace cj::check {

class NameVariantCheck {
 public:
  NameVariantCheck(const BookKnowledge& k, const NameIndex& names);
  // Counts every variant in the whole book: a "variant" written more than kMaxVariantUses times is a real,
  // different name or word (裴元绍 is not 袁绍), not a slip of the pen.
  void count_book(const std::vector<CheckChapter>& all);
  static constexpr int kMaxVariantUses = 3;
  void run(const CheckChapter& ch, std::vector<CheckFinding>* out) const;
  size_t variant_count() const { return variants_.size(); }

 private:
  struct Variant {
    const KnownEntity* entity;
    std::u32string name;  // the known name it is a variant of
    size_t pos;           // index of the changed character
  };
  const NameIndex& names_;
  std::unordered_map<std::u32string, Variant> variants_;
  std::unordered_set<char32_t> first_;  // first characters of variants
  size_t max_len_ = 0;
  std::unordered_map<std::u32string, int> uses_;  // variant -> occurrences in the book (after count_book)
  // Finds the variant at t[pos] (not covered by a known name); its length or 0.
  size_t variant_at(std::u32string_view t, size_t pos, const Variant** v) const;
};

}  // namespace cj::check
