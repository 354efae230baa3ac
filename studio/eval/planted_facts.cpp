#include "studio/eval/planted_facts.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "engine/base/segmenter.h"
#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "memory/extractive_summarizer.h"
#include "memory/prompts.h"
#include "memory/retrieval.h"
#include "memory/summary_tree.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/entities.h"
#include "studio/check/check_types.h"
#include "studio/check/entity_discovery.h"

namespace cj::eval {
namespace {

// splitmix64: the same sequence on every platform (std distributions are implementation-defined).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n == 0 ? 0 : size_t(next() % n); }
};

// Measure words (量词) that count things one can carry or keep: general Chinese, both scripts.
const char32_t kMeasures[] = U"把口柄杆桿张張匹件块塊只隻枚颗顆封本条條顶頂座盏盞副串领領幅轴軸卷册冊具架辆輛艘管支根枝锭錠部套袭襲双雙对對";
bool is_measure(char32_t c) {
  for (const char32_t* m = kMeasures; *m; ++m)
    if (*m == c) return true;
  return false;
}

// What stands before a measure word when it counts things: numerals and demonstratives (both scripts).
bool is_numeral(char32_t c) {
  for (char32_t d : std::u32string_view(U"一二两兩三四五六七八九十百千几幾数數每"))
    if (d == c) return true;
  return false;
}
bool is_number_or_demonstrative(char32_t c) {
  for (char32_t d : std::u32string_view(U"这這那此其该該"))
    if (d == c) return true;
  return is_numeral(c);
}

// Planting and outline templates in simplified Chinese: {X} owner, {C} measure word, {Y} object, {Z} name,
// {L}{R} quotation marks. The outlines share no word with the plants but X, C and Y.
const char* const kPlants[] = {
    "原来{X}身边藏着一{C}{Y}，唤作{L}{Z}{R}，轻易不肯示人。",
    "{X}贴身带着一{C}{Y}，名叫{L}{Z}{R}，乃是祖上传下来的。",
    "众人这才知道，{X}那{C}{Y}有个名号，叫做{L}{Z}{R}。",
    "却说{X}有一{C}{Y}，人都称它{L}{Z}{R}，从不离身。",
    "{X}另有一{C}{Y}，取名{L}{Z}{R}，一向收在箱底。",
};
const char* const kOutlines[] = {
    "{X}提起那{C}{Y}，冲入敌阵。",
    "{X}拿着那{C}{Y}，独自出了城门。",
    "夜里{X}把那{C}{Y}放在案上，看了半晌。",
    "{X}将那{C}{Y}交给心腹之人收好，便动身上路。",
    "席间有人问起那{C}{Y}，{X}只是笑而不答。",
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

class Script {
 public:
  explicit Script(bool traditional) {
    if (!traditional) return;
    UErrorCode st = U_ZERO_ERROR;
    t_.reset(icu::Transliterator::createInstance("Hans-Hant", UTRANS_FORWARD, st));
    if (U_FAILURE(st)) t_.reset();
  }
  std::string operator()(const std::string& s) const {
    if (!t_) return s;
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
    t_->transliterate(u);
    std::string out;
    u.toUTF8String(out);
    return out;
  }

 private:
  std::unique_ptr<icu::Transliterator> t_;
};

// Whether the book is written in traditional characters: converting a sample to simplified changes more than 3 %
// of its Han characters.
bool looks_traditional(const std::vector<std::u32string>& bodies) {
  std::u32string sample;
  for (const auto& b : bodies) {
    for (char32_t c : b)
      if (check::is_han(c)) sample += c;
    if (sample.size() > 100000) break;
  }
  if (sample.empty()) return false;
  UErrorCode st = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance("Hant-Hans", UTRANS_FORWARD, st));
  if (U_FAILURE(st)) return false;
  std::string utf8 = check::to_utf8(sample);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(utf8);
  t->transliterate(u);
  std::string out;
  u.toUTF8String(out);
  std::u32string simp = check::to_u32(out);
  size_t n = std::min(simp.size(), sample.size()), changed = 0;
  for (size_t i = 0; i < n; ++i) changed += simp[i] != sample[i];
  return changed * 100 > n * 3;
}

size_t count(const std::vector<std::u32string>& bodies, std::u32string_view w) {
  size_t n = 0;
  for (const auto& b : bodies)
    for (size_t p = b.find(w); p != std::u32string::npos; p = b.find(w, p + w.size())) ++n;
  return n;
}

struct ObjectWord {
  std::u32string word;
  size_t count = 0;
  char32_t measure = 0;
};

// Measure words that also start adverbial phrases after 一 (一把拉住, 一口咬定) or are adverbs after a
// demonstrative (这只是): they count only after a numeral other than 一 (两把刀) or, but for 只, a demonstrative.
// (面 is left out altogether: 四面, 一面…一面.)
bool adverbial_after_yi(char32_t m) {
  for (char32_t d : std::u32string_view(U"把口只隻"))
    if (d == m) return true;
  return false;
}

// Objects: words that stand after a numeral or demonstrative + measure word (一封书信, 那口宝刀, 两匹战马), most
// often so first (then most frequent in the book); words followed by an aspect particle (了 着 过: verbs) more than
// one time in twenty, names and words of one character are left out.
std::vector<ObjectWord> find_objects(const std::vector<std::u32string>& bodies, const std::vector<std::u32string>& names,
                                     size_t want) {
  std::unordered_map<std::u32string, std::map<char32_t, size_t>> seen;
  Segmenter seg;
  for (const auto& b : bodies) {
    for (size_t i = 0; i + 3 < b.size(); ++i) {
      const char32_t d = b[i], m = b[i + 1];
      if (!is_number_or_demonstrative(d) || !is_measure(m)) continue;
      if (adverbial_after_yi(m) && (d == U'一' || ((m == U'只' || m == U'隻') && !is_numeral(d)))) continue;
      std::u32string after = b.substr(i + 2, 8);
      std::string a8 = check::to_utf8(after);
      auto segs = seg.segment(a8);
      if (segs.empty() || segs[0].kind != Segment::kWord || segs[0].begin != 0) continue;
      std::u32string w = check::to_u32(std::string_view(a8).substr(0, segs[0].end));
      if (w.size() < 2 || w.size() > 4) continue;
      bool han = true;
      for (char32_t c : w) han = han && check::is_han(c) && !is_number_or_demonstrative(c);
      if (!han || std::u32string_view(U"了着著过過的得地").find(w.back()) != std::u32string_view::npos) continue;
      ++seen[w][m];
    }
  }
  struct Cand {
    ObjectWord o;
    size_t in_measure;
  };
  std::vector<Cand> all;
  for (auto& [w, ms] : seen) {
    ObjectWord o{w, 0, 0};
    size_t best = 0;
    size_t in_measure = 0;
    for (auto [m, n] : ms) {
      in_measure += n;
      if (n > best) best = n, o.measure = m;
    }
    bool name_like = false;
    for (const auto& n : names)
      name_like = name_like || w.find(n) != std::u32string::npos || n.find(w) != std::u32string::npos;
    if (name_like) continue;
    o.count = count(bodies, w);
    size_t aspect = 0;
    for (char32_t p : std::u32string_view(U"了着著过過")) aspect += count(bodies, w + p);
    if (aspect * 20 > o.count) continue;
    all.push_back({o, in_measure});
  }
  std::sort(all.begin(), all.end(), [](const Cand& a, const Cand& b) {
    if (a.in_measure != b.in_measure) return a.in_measure > b.in_measure;
    return a.o.count != b.o.count ? a.o.count > b.o.count : a.o.word < b.o.word;
  });
  std::vector<ObjectWord> out;
  for (size_t i = 0; i < all.size() && out.size() < want; ++i) out.push_back(all[i].o);
  return out;
}

// Han characters of the book from the middle of its frequency list: material for invented names.
std::vector<char32_t> name_chars(const std::vector<std::u32string>& bodies) {
  std::unordered_map<char32_t, size_t> freq;
  for (const auto& b : bodies)
    for (char32_t c : b)
      if (check::is_han(c)) ++freq[c];
  std::vector<std::pair<size_t, char32_t>> v;
  for (auto [c, n] : freq) v.push_back({n, c});
  std::sort(v.begin(), v.end(), [](auto a, auto b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<char32_t> out;
  size_t lo = std::min<size_t>(200, v.size() / 4), hi = std::min<size_t>(2000, v.size());
  for (size_t i = lo; i < hi; ++i)
    if (!is_measure(v[i].second) && v[i].second != U'一') out.push_back(v[i].second);
  return out;
}

// The byte offset right after a random sentence of `body` (the planted sentence joins its paragraph).
size_t insertion_point(const std::string& body, Rng& rng) {
  auto spans = text::split_sentences(body);
  if (spans.empty()) return body.size();
  return spans[rng.below(spans.size())].end;
}

}  // namespace

Result<PlantedFactsReport> run_planted_facts(storage::Database& db, int64_t book_id, const Tokenizer& tok,
                                             const PlantedFactsOptions& o,
                                             const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  if (o.facts < 1 || o.facts > 500) return make_error("--facts must be between 1 and 500");
  if (o.from < 1 || o.to < o.from) return make_error("--from and --to must give a range of chapters (1 <= from <= to)");
  if (o.ask <= o.to) return make_error("--ask-chapter must come after --to (the facts are asked for later)");
  if (o.budget < 1024) return make_error("--ctx must be at least 1024 tokens");
  auto book = storage::Books(db).get(book_id);
  if (!book.ok()) return Error{book.error()};
  storage::Chapters chs(db);
  auto infos = chs.list(book_id);
  if (!infos.ok()) return Error{infos.error()};
  // The book's numbering: chapter k is the k-th chapter with text.
  std::vector<storage::Chapter> chapters;
  int64_t last_ordinal = 0;
  for (const auto& i : *infos) {
    last_ordinal = std::max(last_ordinal, i.ordinal);
    if (i.ordinal < 1) continue;
    auto c = chs.get(i.id);
    if (!c.ok()) return Error{c.error()};
    if (text::zishu(c->body) == 0) continue;
    chapters.push_back(std::move(*c));
  }
  const int64_t n = int64_t(chapters.size());
  PlantedFactsReport rep;
  rep.title = book->title;
  rep.chapters = n;
  if (o.to > n)
    return make_error("the book has " + std::to_string(n) + " chapters with text; --to " + std::to_string(o.to) +
                      " is past its end");
  if (o.ask > n + 1)
    return make_error("the book has " + std::to_string(n) + " chapters with text; --ask-chapter must be at most " +
                      std::to_string(n + 1) + " (a new chapter after the last)");
  rep.ask_ordinal = o.ask <= n ? chapters[size_t(o.ask - 1)].ordinal : last_ordinal + 1;

  // ---- Owners, objects, names, from the book itself ---------------------------------------------------------
  say("finding characters and objects");
  std::vector<std::u32string> bodies;
  std::vector<check::CheckChapter> cc;
  for (const auto& c : chapters) {
    bodies.push_back(check::to_u32(c.body));
    cc.push_back({c.ordinal, bodies.back()});
  }
  auto ents = storage::Entities(db).list(book_id);
  if (!ents.ok()) return Error{ents.error()};
  auto known = check::make_knowledge(*ents, {});
  auto found = check::discover_names(cc, known, {});
  std::vector<check::DiscoveredName> people;
  for (auto& d : found)
    if (d.kind == "character" && d.alias_of.empty()) people.push_back(d);
  std::stable_sort(people.begin(), people.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  if (people.empty()) return make_error("found no characters in the book to plant facts for");
  std::vector<std::u32string> names;
  for (const auto& p : people) names.push_back(check::to_u32(p.name));
  for (const auto& e : *ents) names.push_back(check::to_u32(e.name));
  storage::Entities entities(db);
  for (int i = 0; i < o.entities && size_t(i) < people.size(); ++i) {
    auto have = entities.find(book_id, people[size_t(i)].name);
    if (have.ok() && have->has_value()) continue;
    auto id = entities.add(book_id, "character", people[size_t(i)].name);
    if (!id.ok()) return Error{id.error()};
  }
  for (int i = 0; i < std::max(1, o.owners) && size_t(i) < people.size(); ++i) rep.owners.push_back(people[size_t(i)].name);
  auto objects = find_objects(bodies, names, size_t(o.facts));
  if (objects.empty()) return make_error("found no objects (一 + measure word + noun) in the book to plant facts about");
  for (const auto& ob : objects) rep.objects.push_back(check::to_utf8(ob.word));
  rep.traditional = looks_traditional(bodies);
  Script script(rep.traditional);
  size_t open_q = 0, corner_q = 0;
  for (const auto& b : bodies)
    for (char32_t ch : b) open_q += ch == U'“', corner_q += ch == U'「';
  const std::string L = corner_q > open_q ? "「" : "“", R = corner_q > open_q ? "」" : "”";
  auto pool = name_chars(bodies);
  if (pool.size() < 10) return make_error("the book has too few distinct Han characters to invent names from");

  // ---- Plant ------------------------------------------------------------------------------------------------
  Rng rng{o.seed * 0x2545F4914F6CDD1Dull + 1};
  std::set<std::u32string> used_names;
  std::vector<std::string> planted_bodies;
  for (const auto& c : chapters) planted_bodies.push_back(c.body);
  for (int i = 0; i < o.facts; ++i) {
    PlantedFact f;
    f.owner = rep.owners[size_t(i) % rep.owners.size()];
    const ObjectWord& ob = objects[size_t(i) % objects.size()];
    f.object = check::to_utf8(ob.word);
    f.measure = check::to_utf8(std::u32string(1, ob.measure));
    for (int tries = 0;; ++tries) {
      if (tries > 10000) return make_error("could not invent a name that the book does not already contain");
      std::u32string z{pool[rng.below(pool.size())], pool[rng.below(pool.size())]};
      if (z[0] == z[1] || used_names.count(z) || count(bodies, z) > 0) continue;
      used_names.insert(z);
      f.name = check::to_utf8(z);
      break;
    }
    const size_t slot = size_t(o.from - 1) + rng.below(size_t(o.to - o.from + 1));
    f.chapter = int64_t(slot) + 1;
    f.ordinal = chapters[slot].ordinal;
    auto fill = [&](const char* tmpl) {
      std::string s = script(tmpl);
      s = replace_all(s, "{X}", f.owner);
      s = replace_all(s, "{C}", f.measure);
      s = replace_all(s, "{Y}", f.object);
      s = replace_all(s, "{Z}", f.name);
      s = replace_all(s, "{L}", L);
      return replace_all(s, "{R}", R);
    };
    f.sentence = fill(kPlants[rng.below(std::size(kPlants))]);
    f.outline = fill(kOutlines[rng.below(std::size(kOutlines))]);
    std::string& body = planted_bodies[slot];
    body.insert(insertion_point(body, rng), f.sentence);
    rep.facts.push_back(std::move(f));
  }
  for (size_t k = 0; k < chapters.size(); ++k)
    if (planted_bodies[k] != chapters[k].body) {
      auto r = chs.save(chapters[k].id, planted_bodies[k], storage::RevisionSource::kWriter, "planted facts (eval)");
      if (!r.ok()) return Error{r.error()};
    }

  // ---- Summaries, then one context per fact -----------------------------------------------------------------
  say("building the summary tree");
  memory::TreeOptions to;
  to.threads = o.threads;
  memory::SummaryTree tree(db, &tok, to);
  memory::ExtractiveSummarizer ex;
  auto built = tree.build(book_id, ex);
  if (!built.ok()) return Error{built.error()};
  const std::vector<std::pair<const char*, const char*>> headings = {
      {"synopsis", memory::prompts::kSynopsisHeading},     {"arc_summaries", memory::prompts::kArcsHeading},
      {"chapter_summaries", memory::prompts::kChaptersHeading}, {"entity_sheets", memory::prompts::kEntitiesHeading},
      {"passages", memory::prompts::kPassagesHeading},     {"verbatim", memory::prompts::kVerbatimHeading},
      {"outline", memory::prompts::kOutlineHeading},       {"current_text", memory::prompts::kCurrentHeading}};
  // Where retrieval alone ranks the planted sentence (the same index the context builder builds).
  auto ix = memory::PassageIndex::shared(db, book_id, rep.ask_ordinal);
  if (!ix.ok()) return Error{ix.error()};
  for (size_t i = 0; i < rep.facts.size(); ++i) {
    PlantedFact& f = rep.facts[i];
    say("context " + std::to_string(i + 1) + "/" + std::to_string(rep.facts.size()));
    auto hits = (*ix)->search(f.outline, 1000);
    for (size_t r = 0; r < hits.size() && f.rank == 0; ++r)
      if (hits[r].text.find(f.name) != std::string::npos) f.rank = int(r + 1);
    memory::ContextRequest rq;
    rq.book_id = book_id;
    rq.chapter = rep.ask_ordinal;
    rq.task = memory::prompts::Task::kDraft;
    rq.outline = f.outline;
    rq.budget = o.budget;
    rq.method = o.method;
    auto c = memory::build_context(db, tok, rq);
    if (!c.ok()) return Error{c.error()};
    f.tokens = c->tokens;
    f.passages = c->passages.size();
    f.shares = c->shares;
    for (size_t p = c->text.find(f.name); p != std::string::npos; p = c->text.find(f.name, p + 1)) {
      f.recalled = true;
      std::string kind = "instructions";
      size_t best = 0;
      for (const auto& [k, h] : headings) {
        size_t at = c->text.rfind(h, p);
        if (at != std::string::npos && at >= best) best = at, kind = k;
      }
      if (std::find(f.sections.begin(), f.sections.end(), kind) == f.sections.end()) f.sections.push_back(kind);
    }
    rep.recalled += f.recalled;
  }
  return rep;
}

}  // namespace cj::eval
