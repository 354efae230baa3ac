// Added/special tokens (<|im_start|>, <think> …): found in raw text before pre-tokenization when the caller asks
// for special-token parsing. At each position the longest token wins (as HF tokenizers' leftmost-longest match).
// A byte trie: adding a token costs its length, and matching at a position costs at most the longest token's
// length, however many tokens there are (a vocabulary may add tens of thousands).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace cj::tok {

class SpecialTokens {
 public:
  // A text added twice keeps its first id.
  void add(std::string_view text, TokenId id);
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  // The longest token that starts at text[i]: its id and length, or {-1, 0}.
  std::pair<TokenId, size_t> longest_at(std::string_view text, size_t i) const {
    if (i >= text.size() || !first_[static_cast<uint8_t>(text[i])]) return {-1, 0};
    std::pair<TokenId, size_t> best{-1, 0};
    uint32_t node = 0;
    for (size_t k = i; k < text.size(); ++k) {
      auto it = edges_.find(edge_key(node, static_cast<uint8_t>(text[k])));
      if (it == edges_.end()) break;
      node = it->second;
      if (ids_[node] >= 0) best = {ids_[node], k + 1 - i};
    }
    return best;
  }
  // Calls on_text(piece) for plain text and on_token(id) for each special token, in order.
  template <typename OnText, typename OnToken>
  void split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
    size_t plain = 0;
    for (size_t i = 0; i < text.size();) {
      const auto [id, len] = longest_at(text, i);
      if (id < 0) {
        ++i;
        continue;
      }
      if (i > plain) on_text(text.substr(plain, i - plain));
      on_token(id);
      i += len;
      plain = i;
    }
    if (plain < text.size()) on_text(text.substr(plain));
  }

 private:
  static uint64_t edge_key(uint32_t node, uint8_t byte) { return (uint64_t(node) << 8) | byte; }
  std::unordered_map<uint64_t, uint32_t> edges_;  // (node, byte) → child node
  std::vector<TokenId> ids_ = {-1};                // [nodes] the token ending at the node, or -1; node 0 = root
  std::array<bool, 256> first_{};
  size_t count_ = 0;
};

}  // namespace cj::tok
