// Check 2: an entity acting or speaking in a chapter after its recorded death or departure.
//
// Convention (docs/consistency.md): a fact with predicate 状态 (or "status") and a value meaning dead
// (死亡 去世 已故 亡故 身亡 阵亡 病故 被杀 遇害 dead) or departed (离开 离去 出家 远行 失踪 departed left), with
// valid_from = the chapter in which it happens. The entity may act in that chapter; from the next chapter on,
// while the fact holds (valid_to ends it: a return), a sentence where its name is followed by a verb of speech
// or action (道、说、笑道、问、走、来… optionally after 便/又/忙/笑…) is a finding. Sentences about dreams,
// ghosts, memories, funerals or the death itself (梦 魂 灵 鬼 想起 生前 祭 葬 死 …) are not.
#pragma once
#include <vector>

#include "studio/check/check_types.h"

namespace cj::check {

// The state a status value means: 0 = neither, 1 = dead, 2 = departed.
int status_value_kind(const std::string& value);
bool is_status_predicate(const std::string& predicate);

class AfterDeathCheck {
 public:
  AfterDeathCheck(const BookKnowledge& k, const NameIndex& names) : k_(k), names_(names) {}
  void run(const CheckChapter& ch, std::vector<CheckFinding>* out) const;
  // Length of an action/speech verb phrase at t[pos] (after optional adverbs), or 0; *verb gets the verb.
  static size_t action_at(std::u32string_view t, size_t pos, std::u32string* verb);

 private:
  const BookKnowledge& k_;
  const NameIndex& names_;
};

}  // namespace cj::check
