// Traditional and simplified Chinese as one in search: each Han character folds to its simplified form (範→范,
// 進→进, 裡→里), from ICU's Traditional-Simplified transform applied to every Han code point at build time
// (storage/tools/gen_han_fold.cpp; nothing written by hand). A character-by-character fold is many-to-one (髮 and
// 發 both become 发, 乾 becomes 干), which is what search wants: the index and the query fold alike, so 范进 finds
// 範進 and 範進 finds 范进; what is shown (snippets) is always the text as written.
#pragma once

namespace cj::storage {

char32_t fold_han(char32_t c);

}  // namespace cj::storage
