#include "studio/check/after_death_check.h"

#include <algorithm>
#include <unordered_map>

namespace cj::check {

namespace {

const char32_t* const kAdverbs[] = {U"便", U"又", U"也", U"忙", U"因", U"却", U"就", U"才", U"方", U"亦",
                                    U"遂", U"乃", U"都", U"还", U"早", U"急", U"先", U"正", U"连忙", U"赶忙",
                                    U"笑着", U"听了", U"见了", U"说着", U"一面", U"自", U"独自", U"亲自"};
// Longest first where one is a prefix of another (matching takes the first hit).
const char32_t* const kVerbs[] = {
    U"笑道", U"冷笑道", U"叹道", U"问道", U"说道", U"答道", U"喝道", U"骂道", U"哭道", U"大怒", U"大喜",
    U"大惊", U"大笑", U"点头", U"摇头", U"拱手", U"拍手", U"起身", U"上马", U"下马", U"领兵", U"引兵",
    U"吩咐", U"进来", U"出来", U"走来", U"走进", U"走出", U"回来", U"来到", U"说", U"道", U"问", U"答",
    U"笑", U"叫", U"喊", U"骂", U"叹", U"哭", U"走", U"坐", U"站", U"拿", U"看", U"听", U"提", U"拔", U"斩",
    U"杀", U"写", U"吃", U"饮", U"拜", U"命", U"令", U"遣", U"传", U"奔", U"追", U"赶", U"冲", U"迎", U"率",
    U"接", U"拉", U"携", U"执", U"挺", U"舞", U"唤", U"曰", U"闻"};

// Sentence words that make a mention of a dead person normal.
const char32_t* const kExempt[] = {U"梦", U"魂", U"灵", U"鬼", U"显圣", U"想起", U"想着", U"忆", U"记得",
                                   U"生前", U"当年", U"当日", U"昔日", U"往日", U"遗", U"祭", U"葬", U"坟",
                                   U"墓", U"死", U"亡", U"已故", U"尸", U"殁", U"丧", U"孝", U"画像", U"托",
                                   U"曾", U"先前", U"那时", U"昔", U"若"};

bool starts_with(std::u32string_view t, size_t pos, std::u32string_view w) {
  return t.size() >= pos + w.size() && t.compare(pos, w.size(), w) == 0;
}

}  // namespace

bool is_status_predicate(const std::string& p) { return p == "状态" || p == "status" || p == "生死"; }

int status_value_kind(const std::string& v) {
  static const char* dead[] = {"死亡", "去世", "已故", "亡故", "身亡", "阵亡", "病故", "被杀", "遇害", "死",
                               "dead", "deceased"};
  static const char* gone[] = {"离开", "离去", "出家", "远行", "失踪", "departed", "left", "gone"};
  for (const char* d : dead)
    if (v == d) return 1;
  for (const char* d : gone)
    if (v == d) return 2;
  return 0;
}

size_t AfterDeathCheck::action_at(std::u32string_view t, size_t pos, std::u32string* verb) {
  size_t p = pos;
  for (int round = 0; round < 2; ++round) {
    bool adv = false;
    for (const char32_t* a : kAdverbs) {
      std::u32string_view w(a);
      if (starts_with(t, p, w)) {
        p += w.size();
        adv = true;
        break;
      }
    }
    if (!adv) break;
  }
  for (const char32_t* v : kVerbs) {
    std::u32string_view w(v);
    if (starts_with(t, p, w)) {
      if (verb) *verb = std::u32string(w);
      return p + w.size() - pos;
    }
  }
  return 0;
}

void AfterDeathCheck::run(const CheckChapter& ch, std::vector<CheckFinding>* out) const {
  // Which entities are dead/departed at this chapter, and since when.
  struct Gone {
    const storage::Fact* fact;
    int kind;
  };
  std::unordered_map<int64_t, Gone> gone;
  for (const auto& f : k_.facts) {
    if (!is_status_predicate(f.predicate)) continue;
    int kind = status_value_kind(f.value);
    if (!kind) continue;
    int64_t since = f.valid_from.value_or(f.source_chapter.value_or(-1));
    if (ch.ordinal <= since || !f.holds_at(ch.ordinal)) continue;
    gone[f.entity_id] = Gone{&f, kind};
  }
  if (gone.empty()) return;
  const std::u32string& t = ch.body;
  size_t last_sentence_end = 0;  // one finding per sentence and entity is enough
  int64_t last_entity = -1;
  for (size_t pos = 0; pos < t.size();) {
    size_t len = 0;
    const KnownEntity* e = is_han(t[pos]) ? names_.match(t, pos, &len) : nullptr;
    if (!e) {
      ++pos;
      continue;
    }
    auto it = gone.find(e->id);
    if (it == gone.end()) {
      pos += len;
      continue;
    }
    std::u32string verb;
    size_t alen = action_at(t, pos + len, &verb);
    if (alen == 0) {
      pos += len;
      continue;
    }
    auto [sb, se] = sentence_around(t, pos, pos + len + alen);
    std::u32string_view sentence(t.data() + sb, se - sb);
    bool exempt = false;
    for (const char32_t* x : kExempt)
      if (sentence.find(x) != std::u32string_view::npos) exempt = true;
    if (!exempt && !(last_entity == e->id && sb < last_sentence_end)) {
      const storage::Fact& f = *it->second.fact;
      int64_t since = f.valid_from.value_or(f.source_chapter.value_or(0));
      CheckFinding fd;
      fd.chapter = ch.ordinal;
      fd.start = int64_t(pos);
      fd.end = int64_t(pos + len + alen);
      fd.kind = kKindAfterDeath;
      fd.subject = to_utf8(e->name);
      const std::string state = it->second.kind == 1 ? "已经死亡" : "已经离开";
      fd.message = "「" + to_utf8(e->name) + "」按记录在" + k_.label(since) + state + "（" +
                   f.value + "），此处却在" + k_.label(ch.ordinal) +
                   (verb.find(U'道') != std::u32string::npos || verb == U"说" || verb == U"问" ? "说话" : "行动");
      fd.evidence = to_utf8(sentence) + " ｜ 事实#" + std::to_string(f.id) + "：" + to_utf8(e->name) + " " +
                    f.predicate + "=" + f.value + "（自" + k_.label(since) + "）";
      out->push_back(std::move(fd));
      last_entity = e->id;
      last_sentence_end = se;
    }
    pos += len;
  }
}

}  // namespace cj::check
