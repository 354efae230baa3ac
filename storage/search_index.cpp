#include "storage/search_index.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <unordered_set>

#include "engine/base/utf8.h"
#include "storage/fts_tokenizer.h"
#include "storage/transaction.h"

namespace cj::storage {
namespace {

bool is_space(uint32_t cp) { return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000; }

std::vector<std::string> split_terms(std::string_view q) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < q.size();) {
    uint32_t cp;
    int n = utf8::decode(q, i, &cp);
    if (n == 0) {
      ++i;
      continue;
    }
    if (is_space(cp)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.append(q.substr(i, n));
    }
    i += n;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool has_searchable(std::string_view t) {
  for (size_t i = 0; i < t.size();) {
    uint32_t cp;
    int n = utf8::decode(t, i, &cp);
    if (n == 0) return false;
    if (u_isalnum(static_cast<UChar32>(cp)) || u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_IDEOGRAPHIC))
      return true;
    i += n;
  }
  return false;
}

std::string quote(std::string_view s) {
  std::string q = "\"";
  for (char c : s) {
    q += c;
    if (c == '"') q += '"';
  }
  q += '"';
  return q;
}

int append_token(void* ctx, int, const char* tok, int n, int, int) {
  auto* key = static_cast<std::string*>(ctx);
  key->append(tok, static_cast<size_t>(n));
  key->push_back('\0');
  return 0;
}

std::string utf8_prefix(std::string_view s, size_t cps) {
  size_t i = 0;
  for (size_t k = 0; k < cps && i < s.size(); ++k) {
    uint32_t cp;
    const int n = utf8::decode(s, i, &cp);
    i += n ? static_cast<size_t>(n) : 1;
  }
  return std::string(s.substr(0, i));
}

int collect_words(void* ctx, int flags, const char* tok, int n, int, int) {
  if ((flags & 1) && n > 0 && tok[0] == kWordMarker) static_cast<std::vector<std::string>*>(ctx)->emplace_back(tok, n);
  return 0;
}

}  // namespace

Result<SearchIndex::Query> SearchIndex::build_query(std::string_view query) {
  if (!utf8::valid(query)) return make_error("the search query is not valid UTF-8");
  // Terms, deduplicated by what the index sees (width and letter case folded: 阿Q and 阿Ｑ are one term), capped.
  // Splitting and deduplication are linear in the query; the expression has at most kMaxSearchTerms terms of at
  // most kMaxSearchTermChars characters, so no query costs more than a bounded FTS5 expression.
  std::vector<std::string> terms;
  std::unordered_set<std::string> seen;
  size_t distinct = 0;
  std::string key;
  for (std::string& term : split_terms(query)) {
    if (!has_searchable(term)) continue;
    const size_t n = utf8::count_code_points(term);
    if (n > kMaxSearchTermChars)
      return make_error("a search term may have at most " + std::to_string(kMaxSearchTermChars) + " characters; «" +
                        utf8_prefix(term, 12) + "…» has " + std::to_string(n));
    key.clear();
    (void)tokenize_text(db_.tokenizer_state(), term, TokenizeMode::kQuery, false, &key, append_token);
    if (!seen.insert(key).second) continue;
    if (++distinct > kMaxSearchTerms) continue;  // counted for the message below
    terms.push_back(std::move(term));
  }
  if (distinct > kMaxSearchTerms)
    return make_error("too many search terms (" + std::to_string(distinct) + " different ones); at most " +
                      std::to_string(kMaxSearchTerms));
  Query q;
  int term_no = 0;
  // phrase_terms: the term of each phrase in expression order, "-" for phrases that only add to the ranking
  // (whole-word tokens and the repeated term): cj_snippet highlights and cj_hits counts only the term itself.
  auto phrase = [&](const std::string& text, bool primary) {
    q.expr += quote(text);
    if (!q.phrase_terms.empty()) q.phrase_terms += ',';
    q.phrase_terms += primary ? std::to_string(term_no) : std::string("-");
    ++q.phrases;
  };
  for (const std::string& term : terms) {
    std::vector<std::string> words;
    (void)tokenize_text(db_.tokenizer_state(), term, TokenizeMode::kDocument, true, &words, collect_words);
    if (!q.expr.empty()) q.expr += " AND ";
    if (words.empty()) {
      phrase(term, true);
    } else {
      // Same matches as "term" alone; the OR'd whole-word phrases only add to the BM25 score.
      q.expr += "(";
      phrase(term, true);
      q.expr += " AND (";
      for (const auto& w : words) {
        phrase(w, false);
        q.expr += " OR ";
      }
      phrase(term, false);
      q.expr += "))";
    }
    ++term_no;
  }
  q.terms = static_cast<size_t>(term_no);
  q.term_list = terms;
  if (q.expr.empty()) return make_error("empty search: type some words or 汉字 to look for");
  return q;
}

Result<std::string> SearchIndex::match_expression(std::string_view query) {
  auto q = build_query(query);
  if (!q.ok()) return Error{q.error()};
  return q->expr;
}

Result<SearchPlan> SearchIndex::plan(std::string_view query) {
  CJ_TRY(db_.sync_search_lexicon());
  auto q = build_query(query);
  if (!q.ok()) return Error{q.error()};
  return SearchPlan{q->expr, q->terms, q->phrases, q->term_list};
}

Result<std::vector<SearchHit>> SearchIndex::search(int64_t book_id, std::string_view query, const SearchOptions& o) {
  if (!db_.read_only()) CJ_TRY(refresh_if_stale());
  CJ_TRY(db_.sync_search_lexicon());
  auto q = build_query(query);
  if (!q.ok()) return Error{q.error()};
  auto st = db_.prepare(
      "SELECT c.id, c.ordinal, c.title, h.snip, h.score, h.hits FROM ("
      "  SELECT rowid AS rid, cj_snippet(chapter_fts, ?4, ?5, ?6, ?7, ?8) AS snip, rank AS score,"
      "         cj_hits(chapter_fts, ?8) AS hits FROM chapter_fts"
      "  WHERE chapter_fts MATCH ?1 AND book_id = ?2 ORDER BY rank LIMIT ?3) h"
      " JOIN chapters c ON c.id = h.rid ORDER BY h.score");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, q->expr).bind(2, book_id).bind(3, static_cast<int64_t>(o.limit)).bind(4, o.mark_open);
  st->bind(5, o.mark_close).bind(6, o.ellipsis).bind(7, static_cast<int64_t>(std::clamp(o.snippet_tokens, 4, 400)));
  st->bind(8, q->phrase_terms);
  std::vector<SearchHit> hits;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return make_error("search failed: " + r.error());
    if (!*r) break;
    hits.push_back({st->col_int(0), st->col_int(1), st->col_text(2), st->col_text(3), -st->col_double(4), st->col_int(5)});
  }
  return hits;
}

Result<SearchCount> SearchIndex::count(int64_t book_id, std::string_view query) {
  if (!db_.read_only()) CJ_TRY(refresh_if_stale());
  CJ_TRY(db_.sync_search_lexicon());
  auto q = build_query(query);
  if (!q.ok()) return Error{q.error()};
  auto st = db_.prepare("SELECT cj_hits(chapter_fts, ?3) FROM chapter_fts WHERE chapter_fts MATCH ?1 AND book_id = ?2");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, q->expr).bind(2, book_id).bind(3, q->phrase_terms);
  SearchCount c;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return make_error("search failed: " + r.error());
    if (!*r) break;
    ++c.chapters;
    c.hits += st->col_int(0);
  }
  return c;
}

Status SearchIndex::rebuild() {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot rebuild the search index: " + tx.error());
  Status s = [&]() -> Status {
    CJ_TRY(db_.exec("DELETE FROM search_lexicon;"
                    "INSERT OR IGNORE INTO search_lexicon(word) SELECT name FROM entities;"
                    "INSERT OR IGNORE INTO search_lexicon(word) SELECT alias FROM entity_aliases;"
                    "UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'entities_version')"
                    " WHERE key = 'index_lexicon_version'"));
    CJ_TRY(db_.sync_search_lexicon());
    CJ_TRY(db_.exec("INSERT INTO chapter_fts(chapter_fts) VALUES ('rebuild')"));
    return tx->commit();
  }();
  if (!s.ok()) {
    db_.tokenizer_state().version = -1;  // reload from the (rolled back) database next time
    return make_error("cannot rebuild the search index: " + s.error());
  }
  return s;
}

Result<bool> SearchIndex::stale() {
  auto st = db_.prepare(
      "SELECT (SELECT value FROM meta WHERE key = 'entities_version') IS NOT"
      " (SELECT value FROM meta WHERE key = 'index_lexicon_version')");
  if (!st.ok()) return Error{st.error()};
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  return *r && st->col_int(0) != 0;
}

Status SearchIndex::refresh_if_stale() {
  if (db_.read_only()) return Status::Ok();
  auto s = stale();
  if (!s.ok()) return Error{s.error()};
  if (*s) return rebuild();
  return Status::Ok();
}

Status SearchIndex::check() {
  CJ_TRY(db_.sync_search_lexicon());
  if (auto s = db_.exec("INSERT INTO chapter_fts(chapter_fts, rank) VALUES ('integrity-check', 1)"); !s.ok())
    return make_error("the search index does not match the chapters: " + s.error());
  return Status::Ok();
}

Result<int64_t> SearchIndex::index_bytes() {
  return db_.query_int("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'chapter_fts_%'");
}

}  // namespace cj::storage
