#include "storage/fts_snippet.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

namespace cj::storage {
namespace {

struct Window {
  int first = 0;  // token positions [first, end)
  int end = 0;
  std::vector<std::pair<int, int>> bytes;  // byte range of each token in the window
  bool more = false;                       // tokens follow the window
};

constexpr int kStop = SQLITE_DONE;  // returned by the callback to stop tokenizing early

int collect(void* ctx, int flags, const char*, int, int begin, int end) {
  auto* w = static_cast<std::pair<Window*, int>*>(ctx);
  if (flags & FTS5_TOKEN_COLOCATED) return SQLITE_OK;
  const int pos = w->second++;
  if (pos >= w->first->end) {
    w->first->more = true;
    return kStop;
  }
  if (pos >= w->first->first) w->first->bytes.emplace_back(begin, end);
  return SQLITE_OK;
}

// "0,-,-,1" -> {0, -1, -1, 1}: the query term of each phrase, -1 for phrases that only rank.
std::vector<int> parse_phrase_terms(const std::string& s) {
  std::vector<int> out;
  int cur = 0;
  bool any = false, rank_only = false;
  auto flush = [&] {
    out.push_back(rank_only ? -1 : cur);
    cur = 0;
    any = rank_only = false;
  };
  for (const char c : s) {
    if (c == ',') {
      flush();
    } else if (c == '-') {
      rank_only = true;
      any = true;
    } else if (c >= '0' && c <= '9') {
      cur = cur * 10 + (c - '0');
      any = true;
    }
  }
  if (any) flush();
  return out;
}

// cj_hits(table, phrase_terms): occurrences of the query's terms in the current row (ranking-only phrases not
// counted).
void hits_fn(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int nval, sqlite3_value** vals) {
  if (nval != 1) {
    sqlite3_result_error(ctx, "cj_hits(table, phrase_terms): wrong arguments", -1);
    return;
  }
  const char* t = reinterpret_cast<const char*>(sqlite3_value_text(vals[0]));
  const std::vector<int> term_of = parse_phrase_terms(t ? t : "");
  int ninst = 0;
  if (api->xInstCount(fts, &ninst) != SQLITE_OK) ninst = 0;
  int64_t n = 0;
  for (int i = 0; i < ninst; ++i) {
    int phrase = 0, col = 0, off = 0;
    if (api->xInst(fts, i, &phrase, &col, &off) != SQLITE_OK || col != 0) continue;
    if (phrase < static_cast<int>(term_of.size()) && term_of[static_cast<size_t>(phrase)] >= 0) ++n;
  }
  sqlite3_result_int64(ctx, n);
}

bool is_space_byte_run(const char* p, int n) {
  // True if [p, p+n) is only ASCII whitespace or U+3000 (E3 80 80).
  for (int i = 0; i < n;) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
      ++i;
    } else if (c == 0xE3 && i + 2 < n && static_cast<unsigned char>(p[i + 1]) == 0x80 &&
               static_cast<unsigned char>(p[i + 2]) == 0x80) {
      i += 3;
    } else {
      return false;
    }
  }
  return true;
}

void snippet_fn(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int nval, sqlite3_value** vals) {
  if (nval != 4 && nval != 5) {
    sqlite3_result_error(ctx, "cj_snippet(table, open, close, ellipsis, tokens[, phrase_terms]): wrong arguments", -1);
    return;
  }
  const auto text_arg = [&](int i) {
    const char* t = reinterpret_cast<const char*>(sqlite3_value_text(vals[i]));
    return std::string(t ? t : "");
  };
  const std::string open = text_arg(0), close = text_arg(1), ellipsis = text_arg(2);
  const int ntok = std::clamp(sqlite3_value_int(vals[3]), 4, 400);
  // phrase index -> term index ("0,-,-,1"); without it every phrase is its own term.
  const std::vector<int> term_of = nval == 5 ? parse_phrase_terms(text_arg(4)) : std::vector<int>();

  int ninst = 0;
  if (api->xInstCount(fts, &ninst) != SQLITE_OK) ninst = 0;
  struct Inst {
    int pos, last, phrase;  // phrase: the query term it belongs to
  };
  std::vector<Inst> inst;
  inst.reserve(static_cast<size_t>(std::min(ninst, 2000)));
  for (int i = 0; i < ninst && i < 2000; ++i) {
    int phrase = 0, col = 0, off = 0;
    if (api->xInst(fts, i, &phrase, &col, &off) != SQLITE_OK || col != 0) continue;
    const int term = phrase < static_cast<int>(term_of.size()) ? term_of[static_cast<size_t>(phrase)] : phrase;
    if (term < 0) continue;  // a ranking-only phrase (a word token covers more than its one position)
    inst.push_back({off, off + std::max(1, api->xPhraseSize(fts, phrase)) - 1, term});
  }
  std::sort(inst.begin(), inst.end(), [](const Inst& a, const Inst& b) { return a.pos < b.pos; });

  // The window start with the most distinct terms, then the most instances, within ntok tokens.
  int best_start = 0, best_score = -1;
  for (size_t i = 0, j = 0; i < inst.size(); ++i) {
    j = std::max(j, i);
    while (j < inst.size() && inst[j].last < inst[i].pos + ntok) ++j;
    uint64_t seen = 0;
    int distinct = 0;
    for (size_t k = i; k < j; ++k) {
      const uint64_t bit = 1ull << (inst[k].phrase & 63);
      if (!(seen & bit)) ++distinct, seen |= bit;
    }
    const int score = distinct * 10000 + static_cast<int>(j - i);
    if (score > best_score) best_score = score, best_start = inst[i].pos;
  }
  Window w;
  w.first = std::max(0, best_start - ntok / 5);
  w.end = w.first + ntok;
  // A term is marked whole or not at all: a window edge inside a match moves out to include it.
  for (const Inst& in : inst) {
    if (in.pos < w.first && in.last >= w.first) w.first = in.pos;
    if (in.pos < w.end && in.last >= w.end) w.end = in.last + 1;
  }

  const char* text = nullptr;
  int len = 0;
  if (api->xColumnText(fts, 0, &text, &len) != SQLITE_OK || !text) {
    sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
    return;
  }
  std::pair<Window*, int> cb{&w, 0};
  const int rc = api->xTokenize(fts, text, len, &cb, collect);
  if (rc != SQLITE_OK && rc != kStop) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  std::vector<char> lit(w.bytes.size(), 0);  // highlighted tokens in the window
  for (const Inst& in : inst)
    for (int p = std::max(in.pos, w.first); p <= in.last && p < w.end; ++p)
      if (static_cast<size_t>(p - w.first) < lit.size()) lit[static_cast<size_t>(p - w.first)] = 1;

  std::string out;
  if (w.first > 0) out += ellipsis;
  for (size_t k = 0; k < w.bytes.size(); ++k) {
    if (k > 0) {
      const int gap_begin = w.bytes[k - 1].second, gap_end = w.bytes[k].first;
      if (gap_end > gap_begin) {
        if (is_space_byte_run(text + gap_begin, gap_end - gap_begin)) out += ' ';
        else out.append(text + gap_begin, static_cast<size_t>(gap_end - gap_begin));
      }
    }
    if (lit[k] && (k == 0 || !lit[k - 1])) out += open;
    out.append(text + w.bytes[k].first, static_cast<size_t>(w.bytes[k].second - w.bytes[k].first));
    if (lit[k] && (k + 1 == w.bytes.size() || !lit[k + 1])) out += close;
  }
  if (w.more) out += ellipsis;
  sqlite3_result_text(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

}  // namespace

Status register_snippet_function(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK)
    return make_error("this SQLite library was built without FTS5 full-text search");
  sqlite3_bind_pointer(stmt, 1, &api, "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (!api) return make_error("this SQLite library was built without FTS5 full-text search");
  if (api->xCreateFunction(api, "cj_snippet", nullptr, snippet_fn, nullptr) != SQLITE_OK)
    return make_error("cannot register the search snippet function");
  if (api->xCreateFunction(api, "cj_hits", nullptr, hits_fn, nullptr) != SQLITE_OK)
    return make_error("cannot register the search hit count function");
  return Status::Ok();
}

}  // namespace cj::storage
