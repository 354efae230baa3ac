#include "engine/base/segmenter.h"

#include <unicode/brkiter.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

#include <algorithm>

#include "engine/base/result.h"
#include "engine/base/utf8.h"

namespace cj {

void Lexicon::add(std::string_view word) {
  uint32_t cp;
  if (word.empty() || !utf8::valid(word) || utf8::decode(word, 0, &cp) == 0) return;
  auto& v = by_first_[cp];
  if (std::find(v.begin(), v.end(), word) != v.end()) return;
  v.emplace_back(word);
  std::stable_sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  ++count_;
}

size_t Lexicon::longest_match(std::string_view text, size_t pos) const {
  uint32_t cp;
  if (utf8::decode(text, pos, &cp) == 0) return 0;
  auto it = by_first_.find(cp);
  if (it == by_first_.end()) return 0;
  for (const std::string& w : it->second) {  // longest first
    if (text.compare(pos, w.size(), w) == 0) return w.size();
  }
  return 0;
}

struct Segmenter::Impl {
  std::unique_ptr<icu::BreakIterator> bi;
};

Segmenter::Segmenter() : impl_(std::make_unique<Impl>()) {
  UErrorCode st = U_ZERO_ERROR;
  impl_->bi.reset(icu::BreakIterator::createWordInstance(icu::Locale::getChinese(), st));
  CJ_ASSERT_MSG(U_SUCCESS(st) && impl_->bi, "ICU word break iterator unavailable (libicu data missing?)");
}

Segmenter::~Segmenter() = default;

namespace {

Segment::Kind classify_none(std::string_view text, uint32_t b, uint32_t e) {
  size_t i = b;
  uint32_t cp;
  while (i < e) {
    const int n = utf8::decode(text, i, &cp);
    if (n == 0 || !u_isUWhiteSpace(static_cast<UChar32>(cp))) return Segment::kPunct;
    i += n;
  }
  return Segment::kSpace;
}

}  // namespace

std::vector<Segment> Segmenter::segment(std::string_view text) const {
  std::vector<Segment> out;
  if (text.empty()) return out;
  // ICU needs valid UTF-8; work on a sanitized copy of the same byte length when the input is not.
  std::string fixed;
  std::string_view src = text;
  if (!utf8::valid(text)) {
    fixed.assign(text);
    for (size_t i = 0; i < fixed.size();) {
      uint32_t cp;
      const int n = utf8::decode(fixed, i, &cp);
      if (n == 0) {
        fixed[i] = '?';
        ++i;
      } else {
        i += n;
      }
    }
    src = fixed;
  }
  UErrorCode st = U_ZERO_ERROR;
  UText* ut = utext_openUTF8(nullptr, src.data(), static_cast<int64_t>(src.size()), &st);
  CJ_ASSERT(U_SUCCESS(st));
  icu::BreakIterator& bi = *impl_->bi;
  bi.setText(ut, st);
  CJ_ASSERT(U_SUCCESS(st));

  const Lexicon* lex = (lexicon_ && !lexicon_->empty()) ? lexicon_ : nullptr;
  uint32_t consumed = 0;  // everything before this byte has been emitted
  int32_t b = bi.first();
  for (int32_t e = bi.next(); e != icu::BreakIterator::DONE; b = e, e = bi.next()) {
    const int status = bi.getRuleStatus();
    Segment::Kind kind;
    if (status >= UBRK_WORD_NUMBER && status < UBRK_WORD_NUMBER_LIMIT) {
      kind = Segment::kNumber;
    } else if (status >= UBRK_WORD_NONE && status < UBRK_WORD_NONE_LIMIT) {
      kind = classify_none(src, static_cast<uint32_t>(b), static_cast<uint32_t>(e));
    } else {
      kind = Segment::kWord;
    }
    const auto seg_end = static_cast<uint32_t>(e);
    if (seg_end <= consumed) continue;  // swallowed by a lexicon match
    uint32_t run = std::max<uint32_t>(static_cast<uint32_t>(b), consumed);
    uint32_t pos = run;
    while (lex && pos < seg_end) {
      const size_t len = lex->longest_match(src, pos);
      if (len > 0) {
        if (pos > run) out.push_back({run, pos, kind, false});
        out.push_back({pos, static_cast<uint32_t>(pos + len), Segment::kWord, true});
        pos += static_cast<uint32_t>(len);
        run = pos;
      } else {
        uint32_t cp;
        const int n = utf8::decode(src, pos, &cp);
        pos += n > 0 ? n : 1;
      }
    }
    if (run < seg_end) out.push_back({run, seg_end, kind, false});
    consumed = std::max(seg_end, run);
  }
  utext_close(ut);
  return out;
}

std::vector<std::string> Segmenter::words(std::string_view text) const {
  std::vector<std::string> out;
  for (const Segment& s : segment(text)) {
    if (s.kind == Segment::kWord || s.kind == Segment::kNumber) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  }
  return out;
}

}  // namespace cj
