#include "studio/check/attribute_check.h"

#include <algorithm>

namespace cj::check {

namespace {

bool starts_with(std::u32string_view t, size_t pos, std::u32string_view w) {
  return t.size() >= pos + w.size() && t.compare(pos, w.size(), w) == 0;
}

// The first of `words` that t[pos..] starts with (list them longest first); its length or 0.
size_t match_any(std::u32string_view t, size_t pos, std::initializer_list<std::u32string_view> words,
                 std::u32string_view* which = nullptr) {
  for (auto w : words)
    if (starts_with(t, pos, w)) {
      if (which) *which = w;
      return w.size();
    }
  return 0;
}

bool is_numeral(char32_t c) {
  return (c >= U'0' && c <= U'9') || (c >= U'０' && c <= U'９') ||
         std::u32string_view(U"零〇一二两三四五六七八九十百廿").find(c) != std::u32string_view::npos;
}

// A text run after pos up to punctuation, at most n code points.
std::u32string_view clause(std::u32string_view t, size_t pos, size_t n) {
  size_t e = pos;
  while (e < t.size() && e - pos < n && is_han(t[e])) ++e;
  return t.substr(pos, e - pos);
}

struct RelationWord {
  std::u32string_view text;
  const char* predicate;
};
const RelationWord kRelations[] = {
    {U"父亲", "父亲"}, {U"母亲", "母亲"}, {U"哥哥", "哥哥"}, {U"姐姐", "姐姐"}, {U"弟弟", "弟弟"},
    {U"妹妹", "妹妹"}, {U"妻子", "妻子"}, {U"丈夫", "丈夫"}, {U"儿子", "儿子"}, {U"女儿", "女儿"},
    {U"师父", "师父"}, {U"主公", "主公"}, {U"夫人", "妻子"}, {U"父", "父亲"},   {U"母", "母亲"},
    {U"兄", "哥哥"},   {U"妻", "妻子"},   {U"夫", "丈夫"},   {U"子", "儿子"},   {U"女", "女儿"}};

}  // namespace

std::string AttributeCheck::fact_text(const storage::Fact& f) const {
  std::string s = "事实#" + std::to_string(f.id) + "：";
  if (const KnownEntity* e = k_.entity(f.entity_id)) s += to_utf8(e->name) + " ";
  s += f.predicate + "=";
  if (f.object_id) {
    if (const KnownEntity* o = k_.entity(*f.object_id)) s += to_utf8(o->name);
  } else {
    s += f.value;
  }
  if (f.valid_from || f.valid_to) {
    s += "（" + (f.valid_from ? k_.label(*f.valid_from) : std::string("开头")) + "至" +
         (f.valid_to ? k_.label(*f.valid_to) : std::string("最后")) + "）";
  }
  return s;
}

void AttributeCheck::emit(const CheckChapter& ch, size_t b, size_t e, const std::string& msg,
                          const storage::Fact& f, std::vector<CheckFinding>* out) const {
  CheckFinding fd;
  fd.chapter = ch.ordinal;
  fd.start = int64_t(b);
  fd.end = int64_t(e);
  fd.kind = kKindAttribute;
  if (const KnownEntity* ke = k_.entity(f.entity_id)) fd.subject = to_utf8(ke->name);
  fd.message = msg;
  auto [sb, se] = sentence_around(ch.body, b, e);
  fd.evidence = to_utf8(std::u32string_view(ch.body).substr(sb, se - sb)) + " ｜ " + fact_text(f);
  out->push_back(std::move(fd));
}

void AttributeCheck::age(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len,
                         std::vector<CheckFinding>* out) const {
  const std::u32string_view t = ch.body;
  size_t p = pos + len;
  p += match_any(t, p, {U"今年已", U"今年", U"年方", U"年已", U"现年", U"年纪已", U"年纪", U"年"});
  if (p == pos + len) return;  // needs one of the age words
  size_t nb = p;
  while (p < t.size() && p - nb < 4 && is_numeral(t[p])) ++p;
  if (p == nb || p >= t.size() || t[p] != U'岁') return;
  auto n = parse_number(t.substr(nb, p - nb));
  if (!n) return;
  for (const storage::Fact* f : k_.facts_at(e.id, ch.ordinal, {"年龄", "年纪", "age"})) {
    auto rec = parse_number(to_u32(f->value));
    if (!rec || *rec == *n) continue;
    emit(ch, pos, p + 1,
         "「" + to_utf8(e.name) + "」的年龄写作" + to_utf8(t.substr(nb, p - nb)) + "岁，与记录的" + f->value +
             "岁不符",
         *f, out);
    return;
  }
}

void AttributeCheck::relation(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len,
                              std::vector<CheckFinding>* out) const {
  const std::u32string_view t = ch.body;
  size_t p = pos + len;
  size_t c = match_any(t, p, {U"的", U"之"});
  if (!c) return;
  p += c;
  const RelationWord* rel = nullptr;
  for (const auto& r : kRelations)
    if (starts_with(t, p, r.text)) {
      rel = &r;
      break;
    }
  if (!rel) return;
  p += rel->text.size();
  p += match_any(t, p, {U"便是", U"正是", U"乃是", U"名叫", U"叫做", U"是", U"乃", U"叫"});
  size_t ylen = 0;
  const KnownEntity* y = p < t.size() ? names_.match(t, p, &ylen) : nullptr;
  if (!y || y->kind != "character" || y->id == e.id) return;
  for (const storage::Fact* f : k_.facts_at(e.id, ch.ordinal, {rel->predicate})) {
    bool same = false;
    if (f->object_id) same = *f->object_id == y->id;
    else if (const KnownEntity* v = names_.find(to_u32(f->value))) same = v->id == y->id;
    else same = to_u32(f->value) == y->name;
    if (same) return;  // one matching record is enough (several children, several wives)
  }
  for (const storage::Fact* f : k_.facts_at(e.id, ch.ordinal, {rel->predicate})) {
    emit(ch, pos, p + ylen,
         "「" + to_utf8(e.name) + "」的" + rel->predicate + "写作「" + to_utf8(t.substr(p, ylen)) + "」，与记录不符",
         *f, out);
    return;
  }
}

void AttributeCheck::title(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len,
                           std::vector<CheckFinding>* out) const {
  const std::u32string_view t = ch.body;
  size_t p = pos + len;
  size_t c = match_any(t, p, {U"官拜", U"官居", U"官至", U"现任", U"官封", U"受封", U"封为", U"身为"});
  if (!c) return;
  p += c;
  std::u32string_view y = clause(t, p, 12);
  if (y.size() < 2) return;
  auto facts = k_.facts_at(e.id, ch.ordinal, {"官职", "职位", "头衔", "爵位", "title", "rank"});
  for (const storage::Fact* f : facts) {
    std::u32string v = to_u32(f->value);
    if (v.empty() || y.find(v) != std::u32string_view::npos || v.find(y) != std::u32string::npos) return;
  }
  for (const storage::Fact* f : facts) {
    if (f->value.empty()) continue;
    emit(ch, pos, p + y.size(),
         "「" + to_utf8(e.name) + "」的官职/头衔写作「" + to_utf8(y) + "」，与记录的「" + f->value + "」不符", *f, out);
    return;
  }
}

void AttributeCheck::place(const CheckChapter& ch, const KnownEntity& e, size_t pos, size_t len,
                           std::vector<CheckFinding>* out) const {
  const std::u32string_view t = ch.body;
  size_t p = pos + len;
  size_t c = match_any(t, p, {U"住在", U"家住", U"居于", U"住于", U"现居", U"寓居", U"搬进", U"搬到", U"住进"});
  if (!c) return;
  p += c;
  size_t ylen = 0;
  const KnownEntity* y = p < t.size() ? names_.match(t, p, &ylen) : nullptr;
  if (!y || y->kind != "place") return;
  auto facts = k_.facts_at(e.id, ch.ordinal, {"住在", "住处", "居所", "residence"});
  for (const storage::Fact* f : facts) {
    if (f->object_id && *f->object_id == y->id) return;
    if (const KnownEntity* v = names_.find(to_u32(f->value)); v && v->id == y->id) return;
    if (to_u32(f->value) == y->name) return;
  }
  for (const storage::Fact* f : facts) {
    emit(ch, pos, p + ylen,
         "「" + to_utf8(e.name) + "」的住处写作「" + to_utf8(t.substr(p, ylen)) + "」，与记录不符", *f, out);
    return;
  }
}

void AttributeCheck::owner(const CheckChapter& ch, const KnownEntity& who, size_t pos, size_t len,
                           std::vector<CheckFinding>* out) const {
  const std::u32string_view t = ch.body;
  size_t p = pos + len;
  size_t c = match_any(t, p, {U"所佩的", U"所佩", U"手持", U"手执", U"提着", U"拿着", U"佩着", U"的", U"之"});
  if (!c) return;
  p += c;
  size_t ylen = 0;
  const KnownEntity* item = p < t.size() ? names_.match(t, p, &ylen) : nullptr;
  if (!item || item->kind != "item") return;
  auto facts = k_.facts_at(item->id, ch.ordinal, {"主人", "持有者", "owner"});
  for (const storage::Fact* f : facts) {
    if (f->object_id && *f->object_id == who.id) return;
    if (const KnownEntity* v = names_.find(to_u32(f->value)); v && v->id == who.id) return;
  }
  for (const storage::Fact* f : facts) {
    emit(ch, pos, p + ylen,
         "「" + to_utf8(item->name) + "」在此写作归「" + to_utf8(who.name) + "」所有，与记录的主人不符", *f, out);
    return;
  }
}

void AttributeCheck::run(const CheckChapter& ch, std::vector<CheckFinding>* out) const {
  const std::u32string& t = ch.body;
  for (size_t pos = 0; pos < t.size();) {
    size_t len = 0;
    const KnownEntity* e = is_han(t[pos]) ? names_.match(t, pos, &len) : nullptr;
    if (!e) {
      ++pos;
      continue;
    }
    size_t before = out->size();
    if (e->kind == "character") {
      age(ch, *e, pos, len, out);
      if (out->size() == before) relation(ch, *e, pos, len, out);
      if (out->size() == before) title(ch, *e, pos, len, out);
      if (out->size() == before) place(ch, *e, pos, len, out);
      if (out->size() == before) owner(ch, *e, pos, len, out);
    }
    pos += len;
  }
}

}  // namespace cj::check
