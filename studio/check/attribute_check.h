// Check 3: a stated attribute that contradicts a recorded fact valid at that chapter. Pattern-based extraction
// right after a known name (docs/consistency.md lists the patterns and the fact predicates they compare with):
//   age       X今年十六岁 / X年方N岁 / X现年N岁           ↔ 年龄 (年纪, age)
//   relation  X的父亲Y / X之父Y / X的妻子是Y …            ↔ 父亲 母亲 哥哥 姐姐 弟弟 妹妹 妻子 丈夫 儿子 女儿 师父 主公
//   title     X官拜Y / X官居Y / X官至Y / X现任Y / X封为Y   ↔ 官职 (职位 头衔 爵位 title rank)
//   place     X住在Y / X家住Y / X居于Y                      ↔ 住在 (住处 居所 residence)
//   owner     X的Y / X手持Y / X佩着Y (Y a known item)      ↔ the item's 主人 (持有者 owner)
// Y must be a known entity for relations, places and owners (so free text never contradicts a record by
// accident); titles compare text (a match if either contains the other); ages compare numbers.
#pragma once
#include <vector>

#include "studio/check/check_types.h"

namespace cj::check {

class AttributeCheck {
 public:
  AttributeCheck(const BookKnowledge& k, const NameIndex& names) : k_(k), names_(names) {}
  void run(const CheckChapter& ch, std::vector<CheckFinding>* out) const;

 private:
  void age(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len, std::vector<CheckFinding>* out) const;
  void relation(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len,
                std::vector<CheckFinding>* out) const;
  void title(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len, std::vector<CheckFinding>* out) const;
  void place(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len, std::vector<CheckFinding>* out) const;
  void owner(const CheckChapter& ch, const KnownEntity& owner, size_t pos, size_t len,
             std::vector<CheckFinding>* out) const;
  void emit(const CheckChapter& ch, size_t b, size_t e, const std::string& msg, const storage::Fact& f,
            std::vector<CheckFinding>* out) const;
  std::string fact_text(const storage::Fact& f) const;

  const BookKnowledge& k_;
  const NameIndex& names_;
};

}  // namespace cj::check
