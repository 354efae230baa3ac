#include "engine/tokenizer/special_tokens.h"

namespace cj::tok {

void SpecialTokens::add(std::string_view text, TokenId id) {
  if (text.empty()) return;
  uint32_t node = 0;
  for (char ch : text) {
    auto [it, fresh] = edges_.try_emplace(edge_key(node, static_cast<uint8_t>(ch)), uint32_t(ids_.size()));
    if (fresh) ids_.push_back(-1);
    node = it->second;
  }
  if (ids_[node] >= 0) return;
  ids_[node] = id;
  first_[static_cast<uint8_t>(text[0])] = true;
  ++count_;
}

}  // namespace cj::tok
