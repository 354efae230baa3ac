// Chinese text utilities for the rest of the app (no model knowledge): sentence splitting and 字数 counting.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cj::text {

// ---- Sentences --------------------------------------------------------------------------------------------
// A sentence ends
//   - after a run of terminators: 。！？!?；;… and ⋯ (a run: "！？", "……", "?!"), or a Western '.' (or "...")
//     that is followed by whitespace, the end, a closing mark or a CJK character (so 3.14, e.g. inside a word,
//     and example.com do not end one);
//   - the closing marks that directly follow the terminators belong to the sentence: ” ’ 」 』 ） ) ] 】 》 〉
//     〕 ＞ " ' (so 他说：“你好。”然后… splits after ”);
//   - at every line break (a paragraph ends its sentence even without punctuation).
// Sentences are trimmed of surrounding whitespace (ASCII, U+3000 and other Unicode spaces, CR/LF); empty ones are
// dropped. Offsets are bytes into the input; invalid UTF-8 bytes are ordinary characters.
struct Span {
  uint32_t begin = 0;  // byte offset of the first byte
  uint32_t end = 0;    // one past the last byte
};
std::vector<Span> split_sentences(std::string_view text);
std::vector<std::string_view> sentences(std::string_view text);  // the same spans as views into text

// ---- 字数 ------------------------------------------------------------------------------------------------
// The one 字数 of the whole app (chapter lists, revision lists, the CLI, the workflows' --words / target, the status
// bar, summaries' targets): what a writer's word processor shows as 字数 (Word, WPS: 中文字符 + 非中文单词).
//   汉字 (hanzi):  code points whose Unicode Script is Han (CJK Unified Ideographs and all extensions,
//                  compatibility ideographs, 〇 and 々; not 〆, whose Script is Common), excluding punctuation.
//   punctuation:   general category P* (punctuation) that is East Asian Width Fullwidth or Wide (。，、；：？！
//                  “”‘’ are Ambiguous in Unicode, so they are listed explicitly: “ ” ‘ ’ … — ― · and ⋯ count
//                  too), plus the full-width symbols of U+FF01–U+FF60 and U+FFE0–U+FFE6 (＋ ＝ ％ ￥ …).
//   other wide:    every other Fullwidth/Wide character: ＡＢＣ１２３, kana, hangul, emoji — one each.
//   Western words: a maximal run of narrow letters, digits and apostrophes (hello, 2024, don't) — one each.
// Not counted: whitespace of any kind (spaces, line breaks, the U+3000 paragraph indent), narrow punctuation and
// symbols (, . ! ?), control characters, invalid bytes.
// Examples:   他说：“你好。”            → 8   (他 说 你 好 + ： “ 。 ”)
//             　　第3章 iPhone 15 上市。 → 8   (第 章 上 市 + 。 + 3, iPhone, 15)
//             ……——                    → 4   (each … and — is one)
//             Ｑ阿Q                     → 3   (Ｑ wide, 阿, Q a word)
struct CharCounts {
  size_t hanzi = 0;
  size_t punct = 0;           // full-width punctuation as defined above
  size_t other_wide = 0;      // other Fullwidth/Wide characters: ＡＢＣ１２３, kana, hangul, emoji…
  size_t western_words = 0;   // maximal runs of letters/digits/apostrophes that are not wide (ASCII words, 2024)
  size_t western_punct = 0;   // narrow punctuation and symbols (, . ! ? ( ) …)
  size_t spaces = 0;          // whitespace code points (including U+3000 and line breaks)
  size_t invalid = 0;         // invalid UTF-8 bytes
  size_t zishu() const { return hanzi + punct + other_wide + western_words; }
  size_t chinese() const { return hanzi + punct; }  // 汉字 + full-width punctuation alone
};
CharCounts count_chars(std::string_view text);
inline size_t zishu(std::string_view text) { return count_chars(text).zishu(); }

// ---- Lists of names ---------------------------------------------------------------------------------------
// "黛玉、颦儿，林妹妹 潇湘妃子" -> {黛玉, 颦儿, 林妹妹, 潇湘妃子}: a list as a writer types it, split at 、 ， , ；
// ; and whitespace (ASCII, U+3000); empty items are dropped. Names that hold a space in Latin script are not
// Chinese usage (约翰·史密斯 keeps its ·). The one splitter of the add forms, `entities --alias` and `eval --names`.
std::vector<std::string> split_list(std::string_view s);

}  // namespace cj::text
