#include "ui/text_doc.h"

#include <algorithm>

#include "engine/base/result.h"
#include "engine/base/segmenter.h"
#include "engine/base/text.h"
#include "engine/base/utf8.h"

namespace cj::ui {
namespace {

// Decodes at s[i]; an invalid byte reads as U+FFFD of length 1 (the document sanitizes its input, so this is
// only a guard).
inline int next_cp(std::string_view s, size_t i, uint32_t* cp) {
  const int n = utf8::decode(s, i, cp);
  if (n > 0) return n;
  *cp = 0xFFFD;
  return 1;
}

inline bool is_space(uint32_t c) {
  return c == ' ' || c == '\t' || c == 0x3000 || c == 0xA0 || (c >= 0x2000 && c <= 0x200B) || c == 0xFEFF;
}

inline bool is_cjk(uint32_t c) {
  return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFFEF) || c >= 0x20000;
}

// May a line break fall between prev and c?
bool breakable(uint32_t prev, uint32_t c) {
  if (is_closing_punct(c) || is_opening_punct(prev)) return false;
  if (is_space(prev)) return true;
  if (is_space(c)) return false;                                // spaces stay with the text before them
  if ((c == 0x2014 || c == 0x2026) && c == prev) return false;  // —— and …… are one mark
  if (!is_cjk(prev) && !is_cjk(c)) return false;                // inside a Latin word or number
  return true;
}

// End position of `text` inserted at `at`.
TextPos end_of(TextPos at, std::string_view text) {
  const size_t nl = text.rfind('\n');
  if (nl == std::string_view::npos) return {at.para, at.byte + static_cast<int>(text.size())};
  return {at.para + static_cast<int>(std::count(text.begin(), text.end(), '\n')),
          static_cast<int>(text.size() - nl - 1)};
}

// Typed or pasted text as the document stores it: '\n' line ends, no other control characters.
std::string clean_input(std::string_view in) {
  std::string s = utf8::sanitize(in);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (c == '\n' || c == '\t' || static_cast<unsigned char>(c) >= 0x20) {
      if (c != 0x7F) out += c;
    }
  }
  return out;
}

}  // namespace

bool is_closing_punct(uint32_t c) {
  switch (c) {
    case 0xFF0C:
    case 0x3002:
    case 0x3001:
    case 0xFF1B:
    case 0xFF1A:
    case 0xFF1F:
    case 0xFF01:
    case 0xFF0E:
    case 0xFF09:
    case 0xFF3D:
    case 0xFF5D:
    case 0x300D:
    case 0x300F:
    case 0x201D:
    case 0x2019:
    case 0x300B:
    case 0x3009:
    case 0x3011:
    case 0x3015:
    case 0x3017:
    case 0x3019:
    case 0x301B:
    case 0x30FB:
    case 0x00B7:
    case 0x2026:
    case 0x2014:
    case 0xFF5E:
    case 0xFF05:
    case 0x301E:
    case 0x301F:
    case ',':
    case '.':
    case ';':
    case ':':
    case '!':
    case '?':
    case ')':
    case ']':
    case '}':
    case '%':
      return true;
    default:
      return false;
  }
}

bool is_opening_punct(uint32_t c) {
  switch (c) {
    case 0xFF08:
    case 0xFF3B:
    case 0xFF5B:
    case 0x300C:
    case 0x300E:
    case 0x201C:
    case 0x2018:
    case 0x300A:
    case 0x3008:
    case 0x3010:
    case 0x3014:
    case 0x3016:
    case 0x3018:
    case 0x301A:
    case 0x301D:
    case '(':
    case '[':
    case '{':
      return true;
    default:
      return false;
  }
}

size_t count_zi(std::string_view s) { return text::zishu(s); }

TextDoc::TextDoc() { set_text(""); }
TextDoc::~TextDoc() = default;

// ---------------------------------------------------------------- content

void TextDoc::set_text(std::string_view utf8_in) {
  const std::string s = clean_input(utf8_in);
  paras_.clear();
  size_t start = 0;
  for (;;) {
    const size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      paras_.emplace_back(s.substr(start));
      break;
    }
    paras_.emplace_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  layout_.assign(paras_.size(), ParaLayout{});
  tops_valid_ = false;
  caret_ = anchor_ = TextPos{};
  caret_upstream_ = false;
  preferred_x_ = -1;
  undo_.clear();
  redo_.clear();
  sealed_ = true;
  ++version_;
}

std::string TextDoc::text() const {
  size_t n = paras_.size();
  for (const auto& p : paras_) n += p.size();
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < paras_.size(); ++i) {
    if (i) out += '\n';
    out += paras_[i];
  }
  return out;
}

size_t TextDoc::zi_count() const {
  if (zi_version_ != version_) {
    zi_ = 0;
    for (size_t i = 0; i < paras_.size(); ++i) {
      int& z = layout_[i].zi;
      if (z < 0) z = static_cast<int>(count_zi(paras_[i]));
      zi_ += static_cast<size_t>(z);
    }
    zi_version_ = version_;
  }
  return zi_;
}

std::string TextDoc::text_range(TextPos a, TextPos b) const {
  a = clamp(a);
  b = clamp(b);
  if (b < a) std::swap(a, b);
  if (a.para == b.para) return paras_[a.para].substr(a.byte, b.byte - a.byte);
  std::string out = paras_[a.para].substr(a.byte);
  for (int p = a.para + 1; p < b.para; ++p) out += '\n' + paras_[p];
  out += '\n';
  out += paras_[b.para].substr(0, b.byte);
  return out;
}

// ---------------------------------------------------------------- caret and selection

TextPos TextDoc::clamp(TextPos p) const {
  p.para = std::clamp(p.para, 0, para_count() - 1);
  const std::string& s = paras_[p.para];
  p.byte = std::clamp(p.byte, 0, static_cast<int>(s.size()));
  while (p.byte > 0 && p.byte < static_cast<int>(s.size()) && (static_cast<unsigned char>(s[p.byte]) & 0xC0) == 0x80)
    --p.byte;
  return p;
}

TextPos TextDoc::doc_end() const { return {para_count() - 1, static_cast<int>(paras_.back().size())}; }

std::pair<TextPos, TextPos> TextDoc::selection() const {
  return caret_ < anchor_ ? std::pair{caret_, anchor_} : std::pair{anchor_, caret_};
}

std::string TextDoc::selected_text() const {
  auto [a, b] = selection();
  return text_range(a, b);
}

void TextDoc::set_caret(TextPos p, bool extend, bool upstream) {
  caret_ = clamp(p);
  if (!extend) anchor_ = caret_;
  caret_upstream_ = upstream;
  preferred_x_ = -1;
  sealed_ = true;
}

void TextDoc::select_all() {
  anchor_ = {0, 0};
  caret_ = doc_end();
  caret_upstream_ = false;
  sealed_ = true;
}

// ---------------------------------------------------------------- editing

TextPos TextDoc::raw_replace(TextPos a, TextPos b, std::string_view text) {
  CJ_ASSERT(!(b < a));
  ++version_;
  tops_valid_ = false;
  if (a.para == b.para && text.find('\n') == std::string_view::npos) {
    paras_[a.para].replace(a.byte, b.byte - a.byte, text);
    layout_[a.para].valid = false;
    layout_[a.para].zi = -1;
    return {a.para, a.byte + static_cast<int>(text.size())};
  }
  const std::string prefix = paras_[a.para].substr(0, a.byte);
  const std::string suffix = paras_[b.para].substr(b.byte);
  std::vector<std::string> np;
  size_t start = 0;
  for (;;) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      np.emplace_back(text.substr(start));
      break;
    }
    np.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  const int end_byte = static_cast<int>(np.back().size()) + (np.size() == 1 ? a.byte : 0);
  np.front().insert(0, prefix);
  np.back() += suffix;
  const int end_para = a.para + static_cast<int>(np.size()) - 1;
  paras_.erase(paras_.begin() + a.para, paras_.begin() + b.para + 1);
  paras_.insert(paras_.begin() + a.para, std::make_move_iterator(np.begin()), std::make_move_iterator(np.end()));
  layout_.erase(layout_.begin() + a.para, layout_.begin() + b.para + 1);
  layout_.insert(layout_.begin() + a.para, np.size(), ParaLayout{});
  return {end_para, end_byte};
}

void TextDoc::edit(TextPos a, TextPos b, std::string_view text, EditKind kind) {
  Edit e;
  e.at = a;
  e.removed = text_range(a, b);
  e.inserted = std::string(text);
  e.caret_before = caret_;
  e.anchor_before = anchor_;
  e.kind = kind;
  const TextPos end = raw_replace(a, b, text);
  caret_ = anchor_ = e.caret_after = end;
  caret_upstream_ = false;
  preferred_x_ = -1;
  redo_.clear();
  bool merged = false;
  if (!sealed_ && !undo_.empty() && kind != EditKind::kOther) {
    Edit& p = undo_.back();
    if (kind == EditKind::kType && p.kind == kind && e.removed.empty() && p.inserted.size() < 4096 &&
        e.at == end_of(p.at, p.inserted)) {
      p.inserted += e.inserted;
      merged = true;
    } else if (kind == EditKind::kBackspace && p.kind == kind && p.inserted.empty() &&
               end_of(e.at, e.removed) == p.at) {
      p.at = e.at;
      p.removed.insert(0, e.removed);
      merged = true;
    } else if (kind == EditKind::kDelete && p.kind == kind && p.inserted.empty() && e.at == p.at) {
      p.removed += e.removed;
      merged = true;
    }
    if (merged) p.caret_after = end;
  }
  if (!merged) undo_.push_back(std::move(e));
  sealed_ = kind == EditKind::kOther;
}

void TextDoc::insert(std::string_view utf8_in) {
  const std::string s = clean_input(utf8_in);
  auto [a, b] = selection();
  if (s.empty() && a == b) return;
  edit(a, b, s, a == b ? EditKind::kType : EditKind::kOther);
  if (a != b) sealed_ = false;  // typing right after replacing a selection continues that step
  if (a != b) undo_.back().kind = EditKind::kType;
}

void TextDoc::paste(std::string_view utf8_in) {
  const std::string s = clean_input(utf8_in);
  auto [a, b] = selection();
  if (s.empty() && a == b) return;
  sealed_ = true;
  edit(a, b, s, EditKind::kOther);
}

void TextDoc::backspace(bool word) {
  if (has_selection()) {
    auto [a, b] = selection();
    sealed_ = true;
    edit(a, b, "", EditKind::kOther);
    return;
  }
  const TextPos from = word ? word_left(caret_) : prev_char(caret_);
  if (from == caret_) return;
  edit(from, caret_, "", word ? EditKind::kOther : EditKind::kBackspace);
}

void TextDoc::delete_forward(bool word) {
  if (has_selection()) {
    auto [a, b] = selection();
    sealed_ = true;
    edit(a, b, "", EditKind::kOther);
    return;
  }
  const TextPos to = word ? word_right(caret_) : next_char(caret_);
  if (to == caret_) return;
  edit(caret_, to, "", word ? EditKind::kOther : EditKind::kDelete);
}

bool TextDoc::undo() {
  if (undo_.empty()) return false;
  Edit e = std::move(undo_.back());
  undo_.pop_back();
  raw_replace(e.at, end_of(e.at, e.inserted), e.removed);
  caret_ = e.caret_before;
  anchor_ = e.anchor_before;
  caret_upstream_ = false;
  preferred_x_ = -1;
  sealed_ = true;
  redo_.push_back(std::move(e));
  return true;
}

bool TextDoc::redo() {
  if (redo_.empty()) return false;
  Edit e = std::move(redo_.back());
  redo_.pop_back();
  raw_replace(e.at, end_of(e.at, e.removed), e.inserted);
  caret_ = anchor_ = e.caret_after;
  caret_upstream_ = false;
  preferred_x_ = -1;
  sealed_ = true;
  undo_.push_back(std::move(e));
  return true;
}

// ---------------------------------------------------------------- movement

TextPos TextDoc::prev_char(TextPos p) const {
  if (p.byte == 0) return p.para == 0 ? p : TextPos{p.para - 1, static_cast<int>(paras_[p.para - 1].size())};
  const std::string& s = paras_[p.para];
  int b = p.byte - 1;
  while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  return {p.para, b};
}

TextPos TextDoc::next_char(TextPos p) const {
  const std::string& s = paras_[p.para];
  if (p.byte >= static_cast<int>(s.size())) return p.para + 1 < para_count() ? TextPos{p.para + 1, 0} : p;
  uint32_t c;
  return {p.para, p.byte + next_cp(s, static_cast<size_t>(p.byte), &c)};
}

TextPos TextDoc::word_left(TextPos p) const {
  if (p.byte == 0) return prev_char(p);
  if (!seg_) seg_ = std::make_unique<Segmenter>();
  const std::string& s = paras_[p.para];
  const auto segs = seg_->segment(std::string_view(s).substr(0, p.byte));
  for (auto it = segs.rbegin(); it != segs.rend(); ++it)
    if (it->kind != Segment::kSpace) return {p.para, static_cast<int>(it->begin)};
  return {p.para, 0};
}

TextPos TextDoc::word_right(TextPos p) const {
  const std::string& s = paras_[p.para];
  if (p.byte >= static_cast<int>(s.size())) return next_char(p);
  if (!seg_) seg_ = std::make_unique<Segmenter>();
  const auto segs = seg_->segment(std::string_view(s).substr(static_cast<size_t>(p.byte)));
  for (const auto& sg : segs)
    if (sg.kind != Segment::kSpace) return {p.para, p.byte + static_cast<int>(sg.end)};
  return {p.para, static_cast<int>(s.size())};
}

void TextDoc::move_to(TextPos p, bool extend, bool keep_x) {
  const float x = preferred_x_;
  set_caret(p, extend);
  if (keep_x) preferred_x_ = x;
}

void TextDoc::move_left(bool word, bool extend) {
  if (has_selection() && !extend) return move_to(selection().first, false);
  move_to(word ? word_left(caret_) : prev_char(caret_), extend);
}

void TextDoc::move_right(bool word, bool extend) {
  if (has_selection() && !extend) return move_to(selection().second, false);
  move_to(word ? word_right(caret_) : next_char(caret_), extend);
}

void TextDoc::move_home(bool doc, bool extend) {
  if (doc) return move_to({0, 0}, extend);
  ensure_layout();
  const auto& ls = lines(caret_.para);
  move_to({caret_.para, ls[static_cast<size_t>(line_of(caret_, caret_upstream_))].begin}, extend);
}

void TextDoc::move_end(bool doc, bool extend) {
  if (doc) return move_to(doc_end(), extend);
  ensure_layout();
  const auto& ls = lines(caret_.para);
  const int li = line_of(caret_, caret_upstream_);
  const bool wrapped = li + 1 < static_cast<int>(ls.size());
  set_caret({caret_.para, ls[static_cast<size_t>(li)].end}, extend, wrapped);
}

void TextDoc::move_up(int n, bool extend) { move_vertical(-n, extend); }
void TextDoc::move_down(int n, bool extend) { move_vertical(n, extend); }

void TextDoc::move_vertical(int n, bool extend) {
  ensure_layout();
  if (has_selection() && !extend && n != 0) {
    // Like most editors: collapse to the side we move towards, then move.
    const TextPos p = n < 0 ? selection().first : selection().second;
    anchor_ = caret_ = p;
  }
  float x = preferred_x_;
  if (x < 0) x = pos_to_xy(caret_).first;
  int para = caret_.para;
  int li = line_of(caret_, caret_upstream_);
  bool hit_edge = false;
  for (int k = 0; k < std::abs(n); ++k) {
    if (n > 0) {
      if (li + 1 < static_cast<int>(lines(para).size())) {
        ++li;
      } else if (para + 1 < para_count()) {
        ++para, li = 0;
      } else {
        hit_edge = true;
        break;
      }
    } else {
      if (li > 0) {
        --li;
      } else if (para > 0) {
        --para, li = static_cast<int>(lines(para).size()) - 1;
      } else {
        hit_edge = true;
        break;
      }
    }
  }
  if (hit_edge && para == caret_.para && li == line_of(caret_, caret_upstream_)) {
    // Already on the first/last line: go to the document's start/end.
    move_to(n > 0 ? doc_end() : TextPos{0, 0}, extend);
    return;
  }
  const auto& ls = lines(para);
  const LayoutLine& line = ls[static_cast<size_t>(li)];
  const int b = byte_at_x(para, line, x);
  const bool upstream = b == line.end && li + 1 < static_cast<int>(ls.size());
  set_caret({para, b}, extend, upstream);
  preferred_x_ = x;
}

// ---------------------------------------------------------------- layout

void TextDoc::set_layout_params(float wrap_width, float line_height, float para_gap, MeasureFn measure) {
  wrap_width = std::max(wrap_width, 8.0f);
  if (wrap_width != wrap_w_ || line_height != line_h_ || para_gap != para_gap_ || !measure_) {
    for (auto& l : layout_) l.valid = false;
    tops_valid_ = false;
  }
  wrap_w_ = wrap_width;
  line_h_ = line_height;
  para_gap_ = para_gap;
  measure_ = std::move(measure);
}

void TextDoc::invalidate_layout() {
  for (auto& l : layout_) l.valid = false;
  tops_valid_ = false;
}

float TextDoc::x_in_line(int para, int line, int byte) const {
  return x_of(para, layout_[static_cast<size_t>(para)].lines[static_cast<size_t>(line)], byte);
}

void TextDoc::lay_out(int para) {
  ParaLayout& pl = layout_[static_cast<size_t>(para)];
  pl.lines = wrap_lines(paras_[static_cast<size_t>(para)], wrap_w_, measure_);
  pl.valid = true;
  ++relayouts_;
}

std::vector<LayoutLine> wrap_lines(std::string_view s, float wrap_w, const MeasureFn& measure) {
  std::vector<LayoutLine> lines;
  const int n = static_cast<int>(s.size());
  int begin = 0, last_break = -1, hung = 0;
  float x = 0, x_at_break = 0;
  uint32_t prev = 0;
  for (int i = 0; i < n;) {
    uint32_t c;
    const int len = next_cp(s, static_cast<size_t>(i), &c);
    const float adv = measure ? measure(c) : 1.0f;
    if (i > begin && breakable(prev, c)) {
      last_break = i;
      x_at_break = x;
    }
    if (x + adv > wrap_w && i > begin) {
      // Closing punctuation (at most two marks, e.g. 。」) and spaces hang past the margin rather than start
      // the next line.
      if (is_space(c) || (is_closing_punct(c) && hung < 2)) {
        ++hung;
      } else {
        const bool at_break = last_break > begin;
        const int brk = at_break ? last_break : i;
        lines.push_back({begin, brk});
        x -= at_break ? x_at_break : x;
        begin = brk;
        last_break = -1;
        hung = 0;
      }
    }
    x += adv;
    prev = c;
    i += len;
  }
  lines.push_back({begin, n});
  return lines;
}

void TextDoc::ensure_layout() {
  for (int i = 0; i < para_count(); ++i)
    if (!layout_[static_cast<size_t>(i)].valid) {
      lay_out(i);
      tops_valid_ = false;
    }
  if (!tops_valid_) {
    tops_.resize(paras_.size() + 1);
    float y = 0;
    for (size_t i = 0; i < paras_.size(); ++i) {
      tops_[i] = y;
      y += static_cast<float>(layout_[i].lines.size()) * line_h_ + para_gap_;
    }
    tops_.back() = y;
    tops_valid_ = true;
  }
}

float TextDoc::x_of(int para, const LayoutLine& line, int byte) const {
  const std::string& s = paras_[static_cast<size_t>(para)];
  float x = 0;
  for (int i = line.begin; i < byte && i < line.end;) {
    uint32_t c;
    i += next_cp(s, static_cast<size_t>(i), &c);
    x += measure_ ? measure_(c) : 1.0f;
  }
  return x;
}

int TextDoc::byte_at_x(int para, const LayoutLine& line, float x) const {
  const std::string& s = paras_[static_cast<size_t>(para)];
  float cur = 0;
  for (int i = line.begin; i < line.end;) {
    uint32_t c;
    const int len = next_cp(s, static_cast<size_t>(i), &c);
    const float adv = measure_ ? measure_(c) : 1.0f;
    if (x < cur + adv * 0.5f) return i;
    cur += adv;
    i += len;
  }
  return line.end;
}

int TextDoc::line_of(TextPos p, bool upstream) const {
  const auto& ls = layout_[static_cast<size_t>(p.para)].lines;
  const int n = static_cast<int>(ls.size());
  int k = n - 1;
  for (int i = 0; i < n; ++i)
    if (p.byte < ls[static_cast<size_t>(i)].end) {
      k = i;
      break;
    }
  if (upstream && k > 0 && p.byte == ls[static_cast<size_t>(k)].begin && ls[static_cast<size_t>(k - 1)].end == p.byte)
    --k;
  return k;
}

int TextDoc::first_para_at(float y) const {
  if (paras_.empty() || tops_.size() != paras_.size() + 1) return 0;
  const auto it = std::upper_bound(tops_.begin(), tops_.end() - 1, y);
  return std::clamp(static_cast<int>(it - tops_.begin()) - 1, 0, para_count() - 1);
}

TextPos TextDoc::hit_test(float x, float y, bool* upstream) const {
  if (upstream) *upstream = false;
  if (tops_.size() != paras_.size() + 1) return {0, 0};
  if (y < 0) return {0, 0};
  if (y >= total_height()) return doc_end();
  const int para = first_para_at(y);
  const auto& ls = layout_[static_cast<size_t>(para)].lines;
  const int li = std::clamp(static_cast<int>((y - para_top(para)) / line_h_), 0, static_cast<int>(ls.size()) - 1);
  const LayoutLine& line = ls[static_cast<size_t>(li)];
  const int b = byte_at_x(para, line, x);
  if (upstream) *upstream = b == line.end && li + 1 < static_cast<int>(ls.size());
  return {para, b};
}

std::pair<float, float> TextDoc::pos_to_xy(TextPos p) const {
  p = clamp(p);
  if (tops_.size() != paras_.size() + 1 || !layout_[static_cast<size_t>(p.para)].valid) return {0, 0};
  const int li = line_of(p, p == caret_ && caret_upstream_);
  const LayoutLine& line = layout_[static_cast<size_t>(p.para)].lines[static_cast<size_t>(li)];
  return {x_of(p.para, line, p.byte), para_top(p.para) + static_cast<float>(li) * line_h_};
}

}  // namespace cj::ui
