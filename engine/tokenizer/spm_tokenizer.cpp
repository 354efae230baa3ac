// SentencePiece-style BPE (GGUF "llama" vocab, llama2.c): spaces become U+2581, a space is prefixed to the text
// (and after each special token) when add_space_prefix is set, UTF-8 characters are merged pairwise by the
// highest score (ties: leftmost first) as long as the merged piece is in the vocabulary, and characters that are
// not in the vocabulary fall back to their bytes as <0xNN> tokens (or <unk> when those are missing).
#include <cstdio>
#include <queue>
#include <unordered_map>

#include "engine/tokenizer/impl.h"
#include "engine/tokenizer/special_tokens.h"

namespace cj::tok {
namespace {

constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

inline size_t utf8_len(uint8_t b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 1;  // continuation or invalid lead byte: a symbol of its own
}

bool parse_byte_token(const std::string& t, uint8_t* b) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return false;
  unsigned v;
  if (std::sscanf(t.c_str() + 3, "%2x", &v) != 1) return false;
  *b = static_cast<uint8_t>(v);
  return true;
}

class SentencePieceBpe final : public Tokenizer {
 public:
  explicit SentencePieceBpe(VocabSpec spec) : spec_(std::move(spec)) {}

  Status init() {
    const size_t n = spec_.tokens.size();
    if (n == 0) return Error{"SentencePiece vocabulary is empty"};
    byte_id_.fill(-1);
    bytes_.resize(n);
    types_.resize(n, kNormal);
    by_text_.reserve(n * 2);
    for (size_t id = 0; id < n; ++id) {
      const std::string& t = spec_.tokens[id];
      int32_t type = id < spec_.token_types.size() ? spec_.token_types[id] : kNormal;
      uint8_t b = 0;
      const bool is_byte = parse_byte_token(t, &b);
      if (spec_.token_types.empty() && is_byte) type = kByte;
      types_[id] = type;
      by_text_.emplace(t, static_cast<TokenId>(id));
      if (type == kByte && is_byte) {
        byte_id_[b] = static_cast<TokenId>(id);
        bytes_[id] = std::string(1, static_cast<char>(b));
      } else if (type == kControl || type == kUserDefined || type == kUnknown) {
        bytes_[id] = t;
        if (type == kControl || type == kUserDefined) specials_.add(t, static_cast<TokenId>(id));
      } else {
        std::string& s = bytes_[id];
        for (size_t i = 0; i < t.size();) {
          if (t.compare(i, 3, kSpace) == 0) {
            s += ' ';
            i += 3;
          } else {
            s += t[i++];
          }
        }
      }
    }
    score_ = spec_.scores;
    score_.resize(n, 0.0f);
    eog_.assign(n, false);
    if (spec_.eos_id >= 0 && static_cast<size_t>(spec_.eos_id) < n) eog_[spec_.eos_id] = true;
    for (const char* t : {"</s>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>"})
      if (auto it = by_text_.find(t); it != by_text_.end() && types_[it->second] == kControl) eog_[it->second] = true;
    return Status::Ok();
  }

  std::vector<TokenId> encode(std::string_view text, bool parse_special) const override {
    std::vector<TokenId> out;
    bool prev_special = true;  // the text's start counts as following a special token
    auto plain = [&](std::string_view piece) {
      std::string s;
      s.reserve(piece.size() * 2 + 3);
      if (spec_.add_space_prefix && prev_special) s += kSpace;
      for (char c : piece) {
        if (c == ' ') s += kSpace;
        else s += c;
      }
      tokenize(s, &out);
      prev_special = false;
    };
    if (parse_special && !specials_.empty()) {
      specials_.split(text, plain, [&](TokenId id) {
        out.push_back(id);
        prev_special = true;
      });
    } else if (!text.empty()) {
      plain(text);
    }
    return out;
  }

  std::string token_bytes(TokenId id) const override {
    if (id < 0 || static_cast<size_t>(id) >= bytes_.size()) return {};
    return bytes_[id];
  }
  size_t vocab_size() const override { return bytes_.size(); }
  TokenId bos() const override { return spec_.bos_id; }
  TokenId eos() const override { return spec_.eos_id; }
  bool is_eog(TokenId id) const override { return id >= 0 && static_cast<size_t>(id) < eog_.size() && eog_[id]; }
  bool add_bos() const override { return spec_.add_bos; }
  const VocabSpec& spec() const override { return spec_; }
  std::optional<TokenId> find_token(std::string_view text) const override {
    auto it = by_text_.find(std::string(text));
    if (it != by_text_.end()) return it->second;
    return std::nullopt;
  }

 private:
  struct Symbol {
    int32_t prev, next;
    uint32_t off, len;  // bytes in the escaped text; len 0 = merged away
  };
  struct Bigram {
    float score;
    int32_t left;
    uint32_t size;
    bool operator<(const Bigram& o) const {  // max-heap: highest score, then leftmost
      return score < o.score || (score == o.score && left > o.left);
    }
  };

  void tokenize(const std::string& s, std::vector<TokenId>* out) const {
    std::vector<Symbol> sym;
    for (uint32_t i = 0; i < s.size();) {
      const auto len = static_cast<uint32_t>(std::min<size_t>(utf8_len(static_cast<uint8_t>(s[i])), s.size() - i));
      sym.push_back({static_cast<int32_t>(sym.size()) - 1, static_cast<int32_t>(sym.size()) + 1, i, len});
      i += len;
    }
    if (sym.empty()) return;
    sym.back().next = -1;
    std::priority_queue<Bigram> q;
    auto try_add = [&](int32_t l, int32_t r) {
      if (l < 0 || r < 0) return;
      const std::string_view piece(s.data() + sym[l].off, sym[l].len + sym[r].len);
      auto it = by_text_.find(std::string(piece));
      if (it == by_text_.end()) return;
      const int32_t type = types_[it->second];
      if (type != kNormal && type != kUserDefined && type != kUnused) return;
      q.push({score_[it->second], l, static_cast<uint32_t>(piece.size())});
    };
    for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
    while (!q.empty()) {
      const Bigram b = q.top();
      q.pop();
      Symbol& l = sym[b.left];
      if (l.len == 0 || l.next < 0) continue;
      Symbol& r = sym[l.next];
      if (r.len == 0 || l.len + r.len != b.size) continue;
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = b.left;
      try_add(l.prev, b.left);
      try_add(b.left, l.next);
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next) {
      const std::string_view piece(s.data() + sym[i].off, sym[i].len);
      auto it = by_text_.find(std::string(piece));
      if (it != by_text_.end() && types_[it->second] != kControl) {
        out->push_back(it->second);
        continue;
      }
      for (char c : piece) {  // byte fallback
        const TokenId b = byte_id_[static_cast<uint8_t>(c)];
        out->push_back(b >= 0 ? b : spec_.unk_id >= 0 ? spec_.unk_id : 0);
      }
    }
  }

  VocabSpec spec_;
  std::vector<std::string> bytes_;  // [n_vocab] decoded bytes (▁ -> space, <0xNN> -> the byte)
  std::vector<int32_t> types_;      // [n_vocab]
  std::vector<float> score_;        // [n_vocab]
  std::unordered_map<std::string, TokenId> by_text_;
  std::array<TokenId, 256> byte_id_{};
  SpecialTokens specials_;
  std::vector<bool> eog_;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_sentencepiece_bpe(const VocabSpec& spec) {
  auto t = std::make_unique<SentencePieceBpe>(spec);
  if (Status s = t->init(); !s.ok()) return Error{s.error()};
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace cj::tok
