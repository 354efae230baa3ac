#include "storage/fts_tokenizer.h"

#include <sqlite3.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "engine/base/utf8.h"
#include "storage/han_fold.h"

namespace cj::storage {
namespace {

enum class CharClass : uint8_t { kHan, kAlnum, kSpace, kPunct };

CharClass classify_slow(uint32_t cp) {
  if (cp < 0x80) {
    if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::kAlnum;
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v') return CharClass::kSpace;
    return CharClass::kPunct;
  }
  const auto c = static_cast<UChar32>(cp);
  if (u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC)) return CharClass::kHan;
  UErrorCode st = U_ZERO_ERROR;
  const UScriptCode sc = uscript_getScript(c, &st);
  if (sc == USCRIPT_HAN || sc == USCRIPT_HIRAGANA || sc == USCRIPT_KATAKANA) return CharClass::kHan;
  if (u_isUWhiteSpace(c)) return CharClass::kSpace;
  if (u_isalnum(c)) return CharClass::kAlnum;
  return CharClass::kPunct;
}

// The Basic Multilingual Plane is classified once into a table (ICU property lookups are the tokenizer's hot
// spot otherwise); other planes go to ICU each time.
CharClass classify(uint32_t cp) {
  static const std::vector<CharClass> bmp = [] {
    std::vector<CharClass> t(0x10000);
    for (uint32_t c = 0; c < 0x10000; ++c) t[c] = classify_slow(c);
    return t;
  }();
  return cp < 0x10000 ? bmp[cp] : classify_slow(cp);
}

// Full-width forms of ASCII (Ａ１！, U+FF01–U+FF5E) are the same letters as their half-width ones: 阿Ｑ and 阿Q
// index alike.
uint32_t fold_width(uint32_t cp) { return cp >= 0xFF01 && cp <= 0xFF5E ? cp - 0xFEE0 : cp; }

bool all_han(std::string_view w) {
  for (size_t i = 0; i < w.size();) {
    uint32_t cp;
    const int n = utf8::decode(w, i, &cp);
    if (n == 0 || classify(cp) != CharClass::kHan) return false;
    i += n;
  }
  return true;
}

}  // namespace

int tokenize_text(SearchTokenizerState& st, std::string_view text, TokenizeMode mode, bool words, void* ctx,
                  TokenSink sink) {
  if (mode == TokenizeMode::kQuery && !text.empty() && text[0] == kWordMarker) {
    // A word token, spelled as in the index.
    return sink(ctx, 0, text.data(), static_cast<int>(text.size()), 0, static_cast<int>(text.size()));
  }
  std::vector<Segment> segs;
  if (mode == TokenizeMode::kDocument && words) segs = st.segmenter.segment(text);
  size_t si = 0;
  std::string tok;      // the current alnum run, case-folded
  std::string wordtok;  // kWordMarker + word (folded)
  std::string han;      // a folded Han character
  size_t run_begin = 0;
  bool in_run = false;
  bool last_was_break = true;  // no break token at the very start
  int rc = 0;

  auto flush_run = [&](size_t end) -> int {
    if (!in_run) return 0;
    in_run = false;
    last_was_break = false;
    return sink(ctx, 0, tok.data(), static_cast<int>(tok.size()), static_cast<int>(run_begin), static_cast<int>(end));
  };

  for (size_t i = 0; i < text.size();) {
    uint32_t cp;
    int n = utf8::decode(text, i, &cp);
    CharClass cls;
    if (n == 0) {
      n = 1;
      cls = CharClass::kPunct;
    } else {
      cp = fold_width(cp);
      cls = classify(cp);
    }
    if (cls == CharClass::kAlnum) {
      if (!in_run) {
        in_run = true;
        run_begin = i;
        tok.clear();
      }
      utf8::append(tok, cp < 0x80 ? static_cast<uint32_t>(std::tolower(static_cast<int>(cp)))
                                  : static_cast<uint32_t>(u_foldCase(static_cast<UChar32>(cp), U_FOLD_CASE_DEFAULT)));
      i += n;
      continue;
    }
    if ((rc = flush_run(i)) != 0) return rc;
    if (cls == CharClass::kHan) {
      // Traditional and simplified index alike (han_fold.h): 範 is the token 范.
      if (const char32_t f = fold_han(static_cast<char32_t>(cp)); f != static_cast<char32_t>(cp)) {
        han.clear();
        utf8::append(han, static_cast<uint32_t>(f));
        rc = sink(ctx, 0, han.data(), static_cast<int>(han.size()), static_cast<int>(i), static_cast<int>(i + n));
      } else {
        rc = sink(ctx, 0, text.data() + i, n, static_cast<int>(i), static_cast<int>(i + n));
      }
      if (rc) return rc;
      last_was_break = false;
      while (si < segs.size() && segs[si].begin < i) ++si;
      if (si < segs.size() && segs[si].begin == i && segs[si].kind == Segment::kWord &&
          segs[si].end - segs[si].begin > static_cast<uint32_t>(n)) {
        const std::string_view w = text.substr(segs[si].begin, segs[si].end - segs[si].begin);
        if (all_han(w)) {
          wordtok.assign(1, kWordMarker);
          for (size_t k = 0; k < w.size();) {
            uint32_t wc;
            const int wn = utf8::decode(w, k, &wc);
            utf8::append(wordtok, static_cast<uint32_t>(fold_han(static_cast<char32_t>(wc))));
            k += static_cast<size_t>(wn);
          }
          rc = sink(ctx, 0x0001 /* FTS5_TOKEN_COLOCATED */, wordtok.data(), static_cast<int>(wordtok.size()),
                    static_cast<int>(segs[si].begin), static_cast<int>(segs[si].end));
          if (rc) return rc;
        }
      }
    } else if (cls == CharClass::kPunct && !last_was_break) {
      rc = sink(ctx, 0, kBreakToken, 1, static_cast<int>(i), static_cast<int>(i + n));
      if (rc) return rc;
      last_was_break = true;
    }
    i += n;
  }
  return flush_run(text.size());
}

namespace {

struct TokenizerInstance {
  SearchTokenizerState* state;
  bool words;
};

int tok_create(void* user, const char** argv, int argc, Fts5Tokenizer** out) {
  auto* inst = new TokenizerInstance{static_cast<SearchTokenizerState*>(user), true};
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "chars") == 0) {
      inst->words = false;
    } else {
      delete inst;
      return SQLITE_ERROR;
    }
  }
  *out = reinterpret_cast<Fts5Tokenizer*>(inst);
  return SQLITE_OK;
}

void tok_delete(Fts5Tokenizer* t) { delete reinterpret_cast<TokenizerInstance*>(t); }

int tok_tokenize(Fts5Tokenizer* t, void* ctx, int flags, const char* text, int n,
                 int (*xToken)(void*, int, const char*, int, int, int)) {
  auto* inst = reinterpret_cast<TokenizerInstance*>(t);
  TokenizeMode mode = TokenizeMode::kDocument;
  if (flags & FTS5_TOKENIZE_QUERY) mode = TokenizeMode::kQuery;
  else if (flags & FTS5_TOKENIZE_AUX) mode = TokenizeMode::kAux;
  return tokenize_text(*inst->state, std::string_view(text ? text : "", static_cast<size_t>(n)), mode, inst->words,
                       ctx, xToken);
}

fts5_api* get_fts5_api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) return nullptr;
  sqlite3_bind_pointer(stmt, 1, &api, "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return api;
}

}  // namespace

Status register_search_tokenizer(sqlite3* db, SearchTokenizerState* state) {
  fts5_api* api = get_fts5_api(db);
  if (!api) return make_error("this SQLite library was built without FTS5 full-text search");
  fts5_tokenizer t{tok_create, tok_delete, tok_tokenize};
  if (api->xCreateTokenizer(api, "cj", state, &t, nullptr) != SQLITE_OK)
    return make_error("cannot register the full-text tokenizer");
  return Status::Ok();
}

}  // namespace cj::storage
