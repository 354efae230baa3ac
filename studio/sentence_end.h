// Where a generated text may end: right after a sentence end outside any quotation. A draft stops at the first
// such end once it reaches its target and is cut back to the last one when it runs 10 % over (run_workflow), so
// that it never stops mid-word, mid-sentence or inside an open quote ("只笑说道：“今").
//
// A sentence end is 。！？!?…⋯ (a run of them, e.g. "？！" or "……"), or '.' after a letter, together with the
// closing quotes and brackets right after it (”’」』）》)"'). Quotes as books (and models trained on them) write
// them: “…” 「…」 『…』 ‘…’ open and close and nest with each other; the same mark opened again inside itself
// (“…“…) re-opens rather than nests, as proper nesting alternates marks; a straight " closes an open quote (some
// editions close “…?" so), is a stray closing mark right after a sentence end, or else toggles; an unmatched closing mark is ignored (the text may have started inside
// a quote); a paragraph break ends every quote (a quote running over paragraphs is re-opened on each).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cj::studio {

// Follows a text piece by piece: after each append(), at_end() says whether the whole text so far ends at a
// sentence end outside quotes, and last_end() is the byte length of the longest such prefix (0: none yet).
class SentenceEnds {
 public:
  void append(std::string_view piece);
  bool at_end() const;  // trailing white space after the end does not count against it
  size_t last_end() const { return last_end_; }
  // last_end(), or when a straight " opened right after a CJK character was left open (models write stray
  // ones: 说"那…), the last end outside the curly quotes.
  size_t best_end() const;
  // The end of the last paragraph whose last character ends a sentence (quotes left open or not): where a text
  // whose quotes never close (a weak model's) can still stop at a full sentence.
  size_t paragraph_end() const { return para_end_; }
  // The last sentence end whatever the quotes (a model whose quotes never close at all): at least not mid-word.
  size_t any_end() const { return term_at_; }
  // Every end of each kind so far, in order (best_end(), paragraph_end() and any_end() are their last ones), for
  // a caller that needs the last one before some length.
  const std::vector<size_t>& best_ends() const { return best_ends_; }
  const std::vector<size_t>& paragraph_ends() const { return para_ends_; }
  const std::vector<size_t>& any_ends() const { return any_ends_; }
  size_t size() const { return size_; }

 private:
  void step(char32_t c, size_t end_byte);
  size_t size_ = 0;       // bytes seen
  std::string pending_;   // an incomplete UTF-8 sequence at the end of the last piece
  std::string open_;      // the open quotation marks, innermost last (“ ‘ 「 『 as 1 2 3 4)
  bool straight_open_ = false;
  bool straight_in_cjk_ = false;  // the open straight quote came right after a CJK character
  bool in_end_ = false;   // the last characters were a sentence end (+ closers)
  char32_t prev_ = 0;
  size_t last_end_ = 0;
  size_t loose_end_ = 0;  // the last end outside curly quotes, whatever the straight ones
  size_t para_end_ = 0;
  size_t term_at_ = 0;    // byte just past the last sentence end (+ closers), quotes aside
  std::vector<size_t> best_ends_, para_ends_, any_ends_;
  void push(std::vector<size_t>& v, size_t at);
  size_t prev_end_ = SIZE_MAX;  // the end the last character made (closers after it extend it)
  size_t dot_at_ = 0;     // a '.' after a letter that ends a sentence if a space or the end follows
};

// The byte length of the longest prefix of text that ends at a sentence end outside quotes (0: none);
// SentenceEnds::best_end() of the whole text.
size_t last_sentence_end(std::string_view text);

}  // namespace cj::studio
