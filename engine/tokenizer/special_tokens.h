// Added/special tokens (<|im_start|>, <think> …): found in raw text before pre-tokenization when the caller asks
// for special-token parsing. At each position the longest token wins (as HF tokenizers' leftmost-longest match).
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace cj::tok {

class SpecialTokens {
 public:
  void add(std::string text, TokenId id);
  bool empty() const { return list_.empty(); }
  // Calls on_text(piece) for plain text and on_token(id) for each special token, in order.
  template <typename OnText, typename OnToken>
  void split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
    size_t plain = 0;
    for (size_t i = 0; i < text.size();) {
      const auto b = static_cast<uint8_t>(text[i]);
      if (!first_[b]) {
        ++i;
        continue;
      }
      const Entry* hit = nullptr;
      for (const Entry& e : list_) {  // longest first
        if (static_cast<uint8_t>(e.text[0]) == b && text.compare(i, e.text.size(), e.text) == 0) {
          hit = &e;
          break;
        }
      }
      if (!hit) {
        ++i;
        continue;
      }
      if (i > plain) on_text(text.substr(plain, i - plain));
      on_token(hit->id);
      i += hit->text.size();
      plain = i;
    }
    if (plain < text.size()) on_text(text.substr(plain));
  }

 private:
  struct Entry {
    std::string text;
    TokenId id;
  };
  std::vector<Entry> list_;  // longest first
  std::array<bool, 256> first_{};
};

}  // namespace cj::tok
