#include "studio/sentence_end.h"

namespace cj::studio {
namespace {

bool terminal(char32_t c) {
  return c == U'。' || c == U'！' || c == U'？' || c == U'!' || c == U'?' || c == U'…' || c == U'⋯' || c == U'．';
}
// 1..4 for an opening / closing quotation mark (“ ‘ 「 『 / ” ’ 」 』), 0 for anything else.
char quote_open(char32_t c) { return c == U'“' ? 1 : c == U'‘' ? 2 : c == U'「' ? 3 : c == U'『' ? 4 : 0; }
char quote_close(char32_t c) { return c == U'”' ? 1 : c == U'’' ? 2 : c == U'」' ? 3 : c == U'』' ? 4 : 0; }
bool bracket_close(char32_t c) { return c == U'）' || c == U'》' || c == U')' || c == U'\''; }
bool space(char32_t c) { return c == U' ' || c == U'\n' || c == U'\r' || c == U'\t' || c == U'\u3000'; }
bool ascii_letter(char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }

// Length of the UTF-8 sequence starting with byte b (1 for a stray continuation or invalid byte).
size_t seq_len(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 1;
}

char32_t decode(std::string_view s) {
  const auto b = [&](size_t i) { return char32_t(static_cast<unsigned char>(s[i])); };
  switch (s.size()) {
    case 1: return b(0) < 0x80 ? b(0) : 0xFFFD;
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

}  // namespace

// An end followed by closers moves forward ("好。" then "好。”"): the entry is replaced, not added.
void SentenceEnds::push(std::vector<size_t>& v, size_t at) {
  if (!v.empty() && v.back() == prev_end_) v.back() = at;
  else v.push_back(at);
}

void SentenceEnds::step(char32_t c, size_t end_byte) {
  if (terminal(c) || (c == U'.' && ascii_letter(prev_))) {
    in_end_ = true;
  } else if (const char q = quote_close(c)) {
    const size_t at = open_.rfind(q);
    if (at != std::string::npos) open_.resize(at);  // closes it (and whatever was left open inside it)
    else if (c == U'’') in_end_ = false;           // an apostrophe (Lily’s), not a closing quote
  } else if (const char o = quote_open(c)) {
    if (open_.empty() || open_.back() != o) open_ += o;  // “ inside “ re-opens
    in_end_ = false;
  } else if (c == U'"') {
    if (!open_.empty()) {
      open_.pop_back();
    } else if (straight_open_) {
      straight_open_ = false;
    } else if (in_end_ && !space(prev_)) {
      // right after a sentence end or a closing mark: a closing quote with nothing open (。”" or ?"), not an
      // opening one
    } else {
      straight_open_ = true;
      straight_in_cjk_ = prev_ >= 0x2E80;  // 说"那: likely a stray mark in Chinese text
      in_end_ = false;
    }
  } else if (c == U'\n') {
    if (in_end_ && term_at_ > 0 && para_end_ != term_at_) para_end_ = term_at_, para_ends_.push_back(term_at_);
    open_.clear();  // a paragraph break ends every quote
    straight_open_ = false;
    prev_ = c;
    prev_end_ = SIZE_MAX;
    return;
  } else if (bracket_close(c)) {
    // closes what the sentence end was inside of: the end stands
  } else if (space(c)) {
    prev_ = c;
    prev_end_ = SIZE_MAX;
    return;  // trailing white space neither makes nor breaks an end
  } else {
    in_end_ = false;
  }
  prev_ = c;
  if (!in_end_) {
    prev_end_ = SIZE_MAX;
    return;
  }
  term_at_ = end_byte;
  push(any_ends_, end_byte);
  if (open_.empty()) {
    if (!straight_open_) last_end_ = end_byte;
    if (!straight_open_ || straight_in_cjk_) {
      loose_end_ = end_byte;
      push(best_ends_, end_byte);
    }
  }
  prev_end_ = end_byte;
}

void SentenceEnds::append(std::string_view piece) {
  size_t i = 0;
  // Finish a sequence split across pieces.
  while (!pending_.empty() && i < piece.size()) {
    pending_ += piece[i++];
    if (pending_.size() >= seq_len(static_cast<unsigned char>(pending_[0]))) {
      size_ += pending_.size();
      step(decode(pending_), size_);
      pending_.clear();
    }
  }
  while (i < piece.size()) {
    const size_t n = seq_len(static_cast<unsigned char>(piece[i]));
    if (i + n > piece.size()) {
      pending_.assign(piece.substr(i));
      return;
    }
    size_ += n;
    step(decode(piece.substr(i, n)), size_);
    i += n;
  }
}

bool SentenceEnds::at_end() const {
  return in_end_ && open_.empty() && !straight_open_ && last_end_ > 0 && pending_.empty();
}

size_t SentenceEnds::best_end() const { return last_end_ > 0 ? last_end_ : loose_end_; }

size_t last_sentence_end(std::string_view text) {
  SentenceEnds e;
  e.append(text);
  return e.best_end();
}

}  // namespace cj::studio
