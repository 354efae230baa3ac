#include "engine/tokenizer/special_tokens.h"

#include <algorithm>

namespace cj::tok {

void SpecialTokens::add(std::string text, TokenId id) {
  if (text.empty()) return;
  for (const Entry& e : list_)
    if (e.text == text) return;
  first_[static_cast<uint8_t>(text[0])] = true;
  list_.push_back({std::move(text), id});
  std::stable_sort(list_.begin(), list_.end(),
                   [](const Entry& a, const Entry& b) { return a.text.size() > b.text.size(); });
}

}  // namespace cj::tok
