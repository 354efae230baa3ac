// Chinese word segmentation: ICU dictionary word breaks overlaid with a caller-supplied lexicon (the book's
// names and aliases, which ICU's dictionary does not know: it splits 贾母 into 贾|母). At every position the
// longest lexicon entry wins over ICU's boundaries. Not thread-safe: use one Segmenter per thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cj {

struct Segment {
  enum Kind : uint8_t { kWord, kNumber, kPunct, kSpace };
  uint32_t begin = 0;  // byte offset in the UTF-8 input
  uint32_t end = 0;    // one past the last byte
  Kind kind = kWord;
  bool from_lexicon = false;
};

class Lexicon {
 public:
  void add(std::string_view word);  // ignored if empty or invalid UTF-8
  bool empty() const { return by_first_.empty(); }
  size_t size() const { return count_; }
  // Byte length of the longest entry that starts at text[pos], or 0.
  size_t longest_match(std::string_view text, size_t pos) const;

 private:
  // First code point -> entries starting with it, longest first.
  std::unordered_map<uint32_t, std::vector<std::string>> by_first_;
  size_t count_ = 0;
};

class Segmenter {
 public:
  Segmenter();
  ~Segmenter();
  Segmenter(const Segmenter&) = delete;
  Segmenter& operator=(const Segmenter&) = delete;

  void set_lexicon(const Lexicon* lex) { lexicon_ = lex; }
  // Segments of valid UTF-8 text (invalid bytes are treated as one-byte punctuation).
  std::vector<Segment> segment(std::string_view text) const;
  // Convenience: just the words and numbers (no spaces or punctuation), as strings.
  std::vector<std::string> words(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  const Lexicon* lexicon_ = nullptr;
};

}  // namespace cj
