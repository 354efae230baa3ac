#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "engine/base/utf8.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/fts_tokenizer.h"
#include "storage/importer.h"
#include "storage/search_index.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using namespace cj::storage::testing;

namespace {

// The sample book (红楼梦 1-20) with its lexicon as entities, shared by the tests (import once).
struct Sample {
  std::unique_ptr<Database> db;
  int64_t book = 0;
  std::map<int64_t, std::string> bodies;  // ordinal -> body with whitespace removed
};

std::string no_space(std::string_view s) {
  std::string o;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    int n = utf8::decode(s, i, &cp);
    if (n == 0) n = 1;
    if (!(cp == ' ' || cp == '\n' || cp == '\t' || cp == '\r' || cp == 0x3000 || cp == '\f')) o.append(s.substr(i, n));
    i += n;
  }
  return o;
}

Sample& sample() {
  static Sample s = [] {
    Sample x;
    auto db = Database::open(":memory:");
    CJ_ASSERT(db.ok());
    x.db = std::move(*db);
    auto r = import_file(*x.db, sample_path("hongloumeng-1-20.txt"));
    CJ_ASSERT_MSG(r.ok(), "sample import failed");
    x.book = r->book_id;
    // entities.tsv: kind <TAB> name <TAB> aliases (comma-separated) <TAB> description; '#' starts a comment.
    std::istringstream tsv(slurp(sample_path("entities.tsv")));
    Entities ents(*x.db);
    for (std::string line; std::getline(tsv, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f;
      std::istringstream ls(line);
      for (std::string part; std::getline(ls, part, '\t');) f.push_back(part);
      CJ_ASSERT(f.size() >= 2);
      auto id = ents.add(x.book, f[0], f[1]);
      CJ_ASSERT(id.ok());
      std::istringstream as(f.size() > 2 ? f[2] : "");
      for (std::string a; std::getline(as, a, ',');)
        if (!a.empty()) CJ_ASSERT(ents.add_alias(*id, a).ok());
    }
    CJ_ASSERT(SearchIndex(*x.db).rebuild().ok());
    auto list = Chapters(*x.db).list(x.book);
    CJ_ASSERT(list.ok());
    for (const auto& c : *list) x.bodies[c.ordinal] = no_space(Chapters(*x.db).get(c.id)->body);
    return x;
  }();
  return s;
}

std::set<int64_t> brute_force(const std::string& q) {
  std::set<int64_t> out;
  for (const auto& [ord, body] : sample().bodies)
    if (body.find(q) != std::string::npos) out.insert(ord);
  return out;
}

std::set<int64_t> found(const std::string& q) {
  SearchOptions o;
  o.limit = 1000;
  auto hits = SearchIndex(*sample().db).search(sample().book, q, o);
  CJ_ASSERT_MSG(hits.ok(), "search failed");
  std::set<int64_t> out;
  for (const auto& h : *hits) out.insert(h.ordinal);
  return out;
}

size_t count_of(const std::string& body, const std::string& q) {
  size_t n = 0;
  for (size_t p = body.find(q); p != std::string::npos; p = body.find(q, p + q.size())) ++n;
  return n;
}

}  // namespace

TEST(Search, NamesAreFoundInEveryChapterThatHasThem) {
  for (const char* q : {"黛玉", "林黛玉", "宝玉", "贾母", "王熙凤", "凤姐", "玉", "母", "甄士隐", "通灵"}) {
    const auto expect = brute_force(q);
    EXPECT_FALSE(expect.empty()) << q;
    EXPECT_EQ(found(q), expect) << q;
  }
}

TEST(Search, AnyOneOrTwoCharacterQueryMatchesBruteForce) {
  // Sample 300 one- and two-character Han strings from the text itself: no blind spot.
  std::mt19937 rng(3);
  const auto& bodies = sample().bodies;
  int checked = 0;
  while (checked < 300) {
    auto it = bodies.begin();
    std::advance(it, rng() % bodies.size());
    const auto cps = utf8::to_code_points(it->second);
    const size_t at = rng() % (cps.size() - 2);
    const size_t len = 1 + rng() % 2;
    std::string q;
    bool han = true;
    for (size_t k = 0; k < len; ++k) {
      han = han && cps[at + k] >= 0x4E00 && cps[at + k] <= 0x9FFF;
      utf8::append(q, cps[at + k]);
    }
    if (!han) continue;
    ASSERT_EQ(found(q), brute_force(q)) << q;
    ++checked;
  }
}

TEST(Search, BestFirstAndHighlighted) {
  auto hits = SearchIndex(*sample().db).search(sample().book, "黛玉");
  ASSERT_OK(hits);
  ASSERT_GE(hits->size(), 3u);
  for (size_t i = 1; i < hits->size(); ++i) EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
  // The best chapter mentions 黛玉 more often than the chapters at the bottom of the list.
  const auto& bodies = sample().bodies;
  EXPECT_GT(count_of(bodies.at(hits->front().ordinal), "黛玉"), count_of(bodies.at(hits->back().ordinal), "黛玉"));
  EXPECT_NE(hits->front().snippet.find("【黛玉】"), std::string::npos) << hits->front().snippet;
  EXPECT_FALSE(hits->front().title.empty());
}

TEST(Search, AllTermsMustOccur) {
  const auto a = brute_force("黛玉"), b = brute_force("刘姥姥");
  std::set<int64_t> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(both, both.end()));
  EXPECT_EQ(found("黛玉 刘姥姥"), both);
  EXPECT_EQ(found("黛玉　刘姥姥"), both);  // full-width space separates too
}

TEST(Search, QueriesWithSyntaxCharactersAreLiteralAndEmptyIsAnError) {
  SearchIndex idx(*sample().db);
  for (const char* q : {"\"黛玉", "黛玉*", "NEAR(黛玉", "黛玉 OR", "AND", "(黛玉)", "黛玉\"宝玉", "-黛玉", "黛玉:宝玉"}) {
    auto r = idx.search(sample().book, q);
    EXPECT_TRUE(r.ok()) << q << ": " << r.error();
  }
  for (const char* q : {"", "   ", "，。！"}) {
    auto r = idx.search(sample().book, q);
    ASSERT_FALSE(r.ok()) << q;
    EXPECT_NE(r.error().find("empty search"), std::string::npos);
  }
}

TEST(Search, WholeWordMatchesRankAboveSubstrings) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  auto r = import_bytes(**db, "第一回 甲\n林黛玉来了。林黛玉笑了。林黛玉走了。\n第二回 乙\n黛玉来了。黛玉笑了。黛玉走了。\n", "t.txt");
  ASSERT_OK(r);
  Entities ents(**db);
  ASSERT_OK(ents.add(r->book_id, "character", "林黛玉", {"黛玉"}));
  auto hits = SearchIndex(**db).search(r->book_id, "黛玉");  // rebuilds with the new lexicon first
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].ordinal, 2);
  EXPECT_GT((*hits)[0].score, (*hits)[1].score);
}

TEST(Search, PunctuationBreaksPhrasesWhitespaceDoesNot) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  auto r = import_bytes(**db, "第一回 甲\n他说黛，玉来了。\n第二回 乙\n林黛\n玉来了。\n", "t.txt");
  ASSERT_OK(r);
  auto hits = SearchIndex(**db).search(r->book_id, "黛玉");
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].ordinal, 2);  // a hard line wrap does not hide the name
}

TEST(Search, IndexStaysConsistentWhenTheLexiconChanges) {
  TempDir dir;
  auto a = Database::open(dir.file("p.db"));
  auto b = Database::open(dir.file("p.db"));  // a second connection, as another thread or process would have
  ASSERT_OK(a);
  ASSERT_OK(b);
  auto r = import_bytes(**a, "第一回 甲\n贾母笑道：王熙凤来了。\n第二回 乙\n凤姐说贾府好。\n", "t.txt");
  ASSERT_OK(r);
  Chapters ca(**a), cb(**b);
  auto c1 = ca.get_by_ordinal(r->book_id, 1);
  ASSERT_OK(c1);
  Entities ents(**a);
  ASSERT_OK(ents.add(r->book_id, "character", "贾母"));
  ASSERT_OK(ents.add(r->book_id, "place", "贾府"));
  EXPECT_TRUE(*SearchIndex(**a).stale());
  // Connection b edits with the index's (old) lexicon: still consistent.
  ASSERT_OK(cb.save(c1->id, "贾母又笑道：凤姐来了。\n"));
  ASSERT_OK(SearchIndex(**b).check());
  // A search on a rebuilds with the new lexicon; b then picks it up for its next edit.
  ASSERT_OK(SearchIndex(**a).search(r->book_id, "贾母"));
  EXPECT_FALSE(*SearchIndex(**a).stale());
  ASSERT_OK(cb.save(c1->id, "贾母三笑。贾府。\n"));
  auto jm = ents.find(r->book_id, "贾母");
  ASSERT_OK(jm);
  ASSERT_TRUE(jm->has_value());
  ASSERT_OK(ents.add_alias((*jm)->id, "老祖宗"));
  ASSERT_OK(ca.remove(c1->id));
  ASSERT_OK(SearchIndex(**b).check());
  ASSERT_OK(SearchIndex(**a).rebuild());
  ASSERT_OK(SearchIndex(**a).check());
  auto hits = SearchIndex(**b).search(r->book_id, "贾府");
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].ordinal, 2);
}

TEST(Search, TokenizerEmitsCharactersAndColocatedWords) {
  SearchTokenizerState st;
  st.lexicon.add("林黛玉");
  struct Tok {
    std::string t;
    int flags;
  };
  std::vector<Tok> toks;
  auto sink = [](void* ctx, int flags, const char* t, int n, int, int) {
    static_cast<std::vector<Tok>*>(ctx)->push_back({std::string(t, n), flags});
    return 0;
  };
  tokenize_text(st, "林黛玉说：ABC好", TokenizeMode::kDocument, true, &toks, sink);
  std::vector<std::string> got;
  for (const auto& t : toks) got.push_back((t.flags ? "+" : "") + (t.t[0] == kWordMarker ? "W" + t.t.substr(1) : t.t == kBreakToken ? "|" : t.t));
  const std::vector<std::string> want = {"林", "+W林黛玉", "黛", "玉", "说", "|", "abc", "好"};
  EXPECT_EQ(got, want);
  toks.clear();
  tokenize_text(st, "林黛玉说：ABC好", TokenizeMode::kAux, true, &toks, sink);
  EXPECT_EQ(toks.size(), want.size() - 1);  // no word tokens for snippets
}

TEST(Search, SnippetWindowsMarksAndEllipses) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  std::string filler;
  for (int i = 0; i < 60; ++i) filler += "天地玄黄宇宙洪荒。";
  auto r = import_bytes(**db,
                        "第一回 甲\n黛玉来了。\n\n    " + filler + "\n第二回 乙\n" + filler + "宝玉\n\n    笑道黛玉好。" + filler +
                            "\n第三回 丙\n" + filler + "最后是黛玉",
                        "t.txt");
  ASSERT_OK(r);
  SearchOptions o;
  o.snippet_tokens = 20;
  auto hits = SearchIndex(**db).search(r->book_id, "黛玉", o);
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 3u);
  for (const auto& h : *hits) {
    SCOPED_TRACE(h.snippet);
    EXPECT_NE(h.snippet.find("【黛玉】"), std::string::npos);
    EXPECT_EQ(h.snippet.find('\n'), std::string::npos);  // whitespace runs become one space
    if (h.ordinal == 1) {
      EXPECT_EQ(h.snippet.rfind("【黛玉】来了。", 0), 0u);   // at the start: no leading …
    }
    if (h.ordinal == 2) {
      EXPECT_NE(h.snippet.find("宝玉 笑道【黛玉】好"), std::string::npos);
    }
    if (h.ordinal != 1) {
      EXPECT_EQ(h.snippet.rfind("…", 0), 0u);
    }
    if (h.ordinal == 3) {
      EXPECT_EQ(h.snippet.substr(h.snippet.size() - std::string("【黛玉】").size()), "【黛玉】");
    }
    if (h.ordinal != 3) {
      EXPECT_EQ(h.snippet.substr(h.snippet.size() - std::string("…").size()), "…");
    }
  }
}

TEST(Search, SnippetPrefersAWindowWithEveryTerm) {
  // Window 1 holds only 黛玉, as a whole word (three phrases of the term match there, many times); window 2
  // holds both terms but 黛玉 only inside 林黛玉. Counting phrases would pick window 1; counting terms picks 2.
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  std::string filler;
  for (int i = 0; i < 10; ++i) filler += "天地玄黄宇宙洪荒。";
  auto r = import_bytes(**db, "第一回 甲\n" + filler + "黛玉，黛玉，黛玉。" + filler + "笑看林黛玉。" + filler, "t.txt");
  ASSERT_OK(r);
  ASSERT_OK(Entities(**db).add(r->book_id, "character", "林黛玉", {"黛玉"}));
  SearchOptions o;
  o.snippet_tokens = 16;
  auto hits = SearchIndex(**db).search(r->book_id, "黛玉 笑", o);
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_NE((*hits)[0].snippet.find("【笑】看林【黛玉】"), std::string::npos) << (*hits)[0].snippet;
}

namespace {

// The highlighted spans of a snippet, whitespace removed.
std::vector<std::string> marked(const std::string& snippet) {
  std::vector<std::string> out;
  for (size_t a = snippet.find("【"); a != std::string::npos; a = snippet.find("【", a + 1)) {
    const size_t b = snippet.find("】", a);
    if (b == std::string::npos) break;
    out.push_back(no_space(snippet.substr(a + 3, b - a - 3)));
  }
  return out;
}

// Every code point that is not a 汉字 becomes '|' (punctuation in a term matches any punctuation).
std::string punct_as_bar(const std::string& s) {
  std::string o;
  for (uint32_t cp : utf8::to_code_points(s)) {
    if (cp >= 0x4E00 && cp <= 0x9FFF) utf8::append(o, cp);
    else o += '|';
  }
  return o;
}

// True if s is one or more occurrences of the terms back to back (嚷嚷 for the term 嚷).
bool whole_terms(const std::string& s, const std::vector<std::string>& terms) {
  if (s.empty()) return true;
  for (const auto& t : terms)
    if (!t.empty() && s.compare(0, t.size(), t) == 0 && whole_terms(s.substr(t.size()), terms)) return true;
  return false;
}

}  // namespace

TEST(Search, HighlightsWholeQueryTermsOnly) {
  // A name followed by punctuation in the query: only 武松， is marked, never 武 of 武松兄弟 (the whole-word token
  // of 武松 sits on its first character).
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  auto r = import_bytes(**db, "第一回 甲\n晁盖笑道：“武松兄弟好本事。”武松，你来。嚷嚷嚷，众人都嚷。\n", "t.txt");
  ASSERT_OK(r);
  ASSERT_OK(Entities(**db).add(r->book_id, "character", "武松"));
  SearchOptions o;
  o.snippet_tokens = 60;
  auto hits = SearchIndex(**db).search(r->book_id, "武松，", o);
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(marked((*hits)[0].snippet), std::vector<std::string>{"武松，"}) << (*hits)[0].snippet;
  hits = SearchIndex(**db).search(r->book_id, "嚷嚷", o);
  ASSERT_OK(hits);
  for (const auto& m : marked((*hits)[0].snippet)) EXPECT_TRUE(whole_terms(m, {"嚷嚷"}) || m == "嚷嚷嚷") << (*hits)[0].snippet;

  // On the sample book with its lexicon: every mark of every snippet is made of whole terms, for queries taken from
  // the text (names, words, with and without the punctuation after them).
  std::mt19937 rng(11);
  const auto& bodies = sample().bodies;
  int checked = 0;
  while (checked < 150) {
    auto it = bodies.begin();
    std::advance(it, rng() % bodies.size());
    const auto cps = utf8::to_code_points(it->second);
    const size_t at = rng() % (cps.size() - 4);
    const size_t len = 2 + rng() % 3;
    std::string q;
    bool han = true;
    for (size_t k = 0; k < len; ++k) {
      const bool last = k + 1 == len;
      const bool is_han = cps[at + k] >= 0x4E00 && cps[at + k] <= 0x9FFF;
      han = han && (is_han || (last && (cps[at + k] == U'，' || cps[at + k] == U'。')));
      utf8::append(q, cps[at + k]);
    }
    if (!han) continue;
    auto h = SearchIndex(*sample().db).search(sample().book, q);
    ASSERT_OK(h);
    // Punctuation in a term matches any punctuation: compare marks with the term's 汉字 and its punctuation alike.
    for (const auto& hit : *h)
      for (const auto& m : marked(hit.snippet)) {
        ASSERT_TRUE(whole_terms(punct_as_bar(m), {punct_as_bar(q)})) << "query " << q << ": mark 【" << m << "】 in " << hit.snippet;
      }
    ++checked;
  }
}

TEST(Search, FullWidthAndHalfWidthFormsAreOneLetter) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  auto r = import_bytes(**db, "第一回 甲\n阿Ｑ正在赌钱，ＡＢＣ也来了。\n第二回 乙\n阿Q又来了，abc走了。\n第三回 丙\n没有他。\n", "t.txt");
  ASSERT_OK(r);
  for (const char* q : {"阿Q", "阿Ｑ", "阿q", "abc", "ＡＢＣ"}) {
    auto hits = SearchIndex(**db).search(r->book_id, q);
    ASSERT_OK(hits);
    std::set<int64_t> got;
    for (const auto& h : *hits) got.insert(h.ordinal);
    EXPECT_EQ(got, (std::set<int64_t>{1, 2})) << q;
  }
  auto hits = SearchIndex(**db).search(r->book_id, "阿Q");
  ASSERT_OK(hits);
  for (const auto& h : *hits) {
    const auto m = marked(h.snippet);
    ASSERT_EQ(m.size(), 1u) << h.snippet;
    EXPECT_TRUE(m[0] == "阿Ｑ" || m[0] == "阿Q") << h.snippet;  // the text as written
  }
}

TEST(Search, CountsHitsAndChaptersAndNothingFoundIsEmpty) {
  SearchIndex idx(*sample().db);
  for (const char* q : {"黛玉", "刘姥姥", "玉"}) {
    auto c = idx.count(sample().book, q);
    ASSERT_OK(c);
    int64_t chapters = 0, hits = 0;
    for (const auto& [ord, body] : sample().bodies) {
      const size_t n = count_of(body, q);
      chapters += n > 0;
      hits += static_cast<int64_t>(n);
    }
    EXPECT_EQ(c->chapters, chapters) << q;
    EXPECT_EQ(c->hits, hits) << q;
    EXPECT_GT(c->hits, c->chapters) << q;  // "N 处" is not the number of chapters
    SearchOptions o;
    o.limit = 1000;
    auto list = idx.search(sample().book, q, o);
    ASSERT_OK(list);
    int64_t sum = 0;
    for (const auto& h : *list) sum += h.hits;
    EXPECT_EQ(sum, hits) << q;
  }
  auto none = idx.search(sample().book, "孙悟空");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto c = idx.count(sample().book, "孙悟空");
  ASSERT_OK(c);
  EXPECT_EQ(c->chapters, 0);
  EXPECT_EQ(c->hits, 0);
}

TEST(Search, RepeatedTermsAreOneAndTheExpressionIsBounded) {
  // Issue 20 item 5: 400 repeated terms took 2.8 s, 10,000 never finished. The work is bounded by the expression:
  // count its phrases (each a "…" in the MATCH expression), not the time.
  SearchIndex idx(*sample().db);
  auto phrases = [](const std::string& expr) {
    size_t n = 0;
    for (size_t i = 0; i < expr.size(); ++i)
      if (expr[i] == '"') {
        if (i + 1 < expr.size() && expr[i + 1] == '"') ++i;  // an escaped quote
        else ++n;
      }
    return n / 2;
  };
  std::string repeated;
  while (utf8::count_code_points(repeated) < 10000) repeated += "黛玉 ";
  auto one = idx.match_expression("黛玉");
  auto many = idx.match_expression(repeated);
  ASSERT_OK(one);
  ASSERT_OK(many);
  EXPECT_EQ(phrases(*many), phrases(*one));
  auto rep = idx.match_expression("黛玉 阿Ｑ 黛玉 阿Q 黛玉");  // width-folded duplicates too
  ASSERT_OK(rep);
  EXPECT_EQ(phrases(*rep), phrases(*idx.match_expression("黛玉 阿Q")));
  auto plan = idx.plan(repeated);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->terms, 1u);
  auto hits = idx.search(sample().book, repeated);
  ASSERT_OK(hits);
  EXPECT_EQ(hits->size(), std::min<size_t>(20, brute_force("黛玉").size()));

  // Many distinct terms: at most kMaxSearchTerms, else a one-line error; a term of at most kMaxSearchTermChars.
  std::string distinct;
  const auto cps = utf8::to_code_points(sample().bodies.begin()->second);
  std::set<uint32_t> used;
  for (uint32_t cp : cps)
    if (cp >= 0x4E00 && cp <= 0x9FFF && used.insert(cp).second && used.size() <= kMaxSearchTerms + 1) {
      utf8::append(distinct, cp);
      distinct += ' ';
    }
  auto e = idx.search(sample().book, distinct);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("too many search terms"), std::string::npos) << e.error();
  EXPECT_EQ(e.error().find('\n'), std::string::npos);
  std::string longterm;
  for (int i = 0; i < 10000; ++i) longterm += "玉";
  auto l = idx.search(sample().book, longterm);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().find("at most 64 characters"), std::string::npos) << l.error();
  // The largest query allowed: 16 distinct terms of 64 characters, repeated to 10,000 characters.
  std::string big;
  for (int t = 0; utf8::count_code_points(big) < 10000; ++t) {
    for (int k = 0; k < 64; ++k) utf8::append(big, 0x4E00 + static_cast<uint32_t>(t % 16) * 7 + static_cast<uint32_t>(k % 5));
    big += ' ';
  }
  auto bp = idx.plan(big);
  ASSERT_OK(bp);
  EXPECT_LE(bp->terms, kMaxSearchTerms);
  EXPECT_LE(bp->phrases, kMaxSearchTerms * (kMaxSearchTermChars + 2));
  ASSERT_OK(idx.search(sample().book, big));
}

TEST(Search, TraditionalAndSimplifiedAreOneCharacter) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  auto r = import_bytes(**db, "第一回 甲\n範進中舉，胡屠戶行兇。\n第二回 乙\n范进又来了，胡屠户也来了。\n第三回 丙\n没有他。\n", "t.txt");
  ASSERT_OK(r);
  ASSERT_OK(Entities(**db).add(r->book_id, "character", "范进"));  // a lexicon word in simplified
  for (const char* q : {"范进", "範進", "胡屠户", "胡屠戶"}) {
    auto hits = SearchIndex(**db).search(r->book_id, q);
    ASSERT_OK(hits);
    std::set<int64_t> got;
    for (const auto& h : *hits) {
      got.insert(h.ordinal);
      // What is marked is the text as written.
      const auto m = marked(h.snippet);
      ASSERT_EQ(m.size(), 1u) << h.snippet;
      EXPECT_TRUE(h.ordinal == 1 ? (m[0] == "範進" || m[0] == "胡屠戶") : (m[0] == "范进" || m[0] == "胡屠户")) << h.snippet;
    }
    EXPECT_EQ(got, (std::set<int64_t>{1, 2})) << q;
  }
}
