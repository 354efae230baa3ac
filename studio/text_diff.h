// Differences between two versions of a chapter, for showing a revision against the current text: paragraphs are
// matched by a longest common subsequence; a paragraph replaced by one other paragraph is diffed again by
// characters so that the changed words stand out. No ImGui (tested in tests/ui/text_diff_test.cpp; the GUI's 对比 and changjuan-cli revisions diff).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cj::studio {

struct DiffPiece {
  enum Kind { kSame, kRemoved, kAdded };
  Kind kind = kSame;
  std::string text;  // UTF-8
};

struct DiffPara {
  enum Kind { kSame, kRemoved, kAdded, kChanged };
  Kind kind = kSame;
  std::vector<DiffPiece> pieces;  // kChanged: the character-level diff; otherwise one piece, the paragraph
};

// Paragraph diff of old_text -> new_text (split at '\n'). Long inputs stay fast: the common prefix and suffix
// are skipped before the quadratic part, which is bounded (beyond it, a block is shown as removed + added).
std::vector<DiffPara> diff_text(std::string_view old_text, std::string_view new_text);
// Character (code point) diff of two paragraphs.
std::vector<DiffPiece> diff_chars(std::string_view a, std::string_view b);

}  // namespace cj::studio
