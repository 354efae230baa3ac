#include "memory/extractive_summarizer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "engine/base/text.h"
#include "engine/base/utf8.h"

namespace cj::memory {
namespace {

bool is_han(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2FFFF) ||
         (c >= 0xF900 && c <= 0xFAFF);
}

// Sorted, unique bigrams of consecutive Han characters.
std::vector<uint64_t> bigrams(std::string_view s) {
  std::vector<uint64_t> out;
  uint32_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    int n = utf8::decode(s, i, &cp);
    if (n <= 0) { n = 1; cp = 0; }
    i += size_t(n);
    if (is_han(cp)) {
      if (prev) out.push_back((uint64_t(prev) << 32) | cp);
      prev = cp;
    } else {
      prev = 0;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

size_t overlap(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  size_t i = 0, j = 0, n = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) ++i;
    else if (b[j] < a[i]) ++j;
    else { ++n; ++i; ++j; }
  }
  return n;
}

bool is_closing(uint32_t c) {
  switch (c) {
    case 0x201D: case 0x2019: case 0x300D: case 0x300F: case 0xFF09: case ')': case ']': case 0x3011:
    case 0x300B: case 0x3009: case 0x3015: case 0xFF1E: case '"': case '\'':
      return true;
    default:
      return false;
  }
}
bool is_terminator(uint32_t c) {
  switch (c) {
    case 0x3002: case 0xFF01: case 0xFF1F: case '!': case '?': case 0xFF1B: case ';': case 0x2026: case 0x22EF:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string join_sentences(const std::vector<std::string_view>& sentences) {
  std::string out;
  for (size_t k = 0; k < sentences.size(); ++k) {
    auto cps = utf8::to_code_points(sentences[k]);
    size_t e = cps.size();
    while (e > 0 && is_closing(cps[e - 1])) --e;
    bool terminated = e > 0 && is_terminator(cps[e - 1]);
    out += sentences[k];
    if (k + 1 < sentences.size() && !terminated) out += '\n';
  }
  return out;
}

std::vector<std::string_view> ExtractiveSummarizer::pick(std::string_view text, size_t target_zi,
                                                         const std::vector<std::string>& names) const {
  std::vector<std::string_view> all = text::sentences(text);
  struct Sent {
    std::string_view s;
    size_t zi;
    std::vector<uint64_t> grams;
    int names = 0;
  };
  std::vector<Sent> ss;
  ss.reserve(all.size());
  for (auto s : all) {
    size_t zi = text::zishu(s);
    if (zi < o_.min_sentence_zi) continue;
    ss.push_back({s, zi, bigrams(s), 0});
  }
  const size_t n = ss.size();
  if (n == 0 || target_zi == 0) return {};
  // Names that occur in this text at all, then per sentence.
  std::vector<std::string_view> present;
  for (const auto& nm : names)
    if (!nm.empty() && text.find(nm) != std::string_view::npos) present.push_back(nm);
  for (auto& s : ss)
    for (auto nm : present)
      if (s.s.find(nm) != std::string_view::npos) ++s.names;

  // Similarity graph through an inverted index of bigrams (sparse: most pairs share nothing).
  std::unordered_map<uint64_t, std::vector<uint32_t>> posting;
  for (uint32_t i = 0; i < n; ++i)
    for (uint64_t g : ss[i].grams) posting[g].push_back(i);
  std::vector<std::vector<std::pair<uint32_t, float>>> adj(n);
  std::vector<uint32_t> count(n, 0);
  std::vector<uint32_t> touched;
  for (uint32_t i = 0; i < n; ++i) {
    touched.clear();
    for (uint64_t g : ss[i].grams)
      for (uint32_t j : posting[g])
        if (j != i) {
          if (count[j]++ == 0) touched.push_back(j);
        }
    std::sort(touched.begin(), touched.end());
    for (uint32_t j : touched) {
      double denom = std::log(double(ss[i].grams.size()) + 1) + std::log(double(ss[j].grams.size()) + 1);
      adj[i].push_back({j, float(count[j] / std::max(denom, 1e-9))});
      count[j] = 0;
    }
  }
  std::vector<double> wsum(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (auto [j, w] : adj[i]) wsum[i] += w;
  std::vector<double> pr(n, 1.0 / double(n)), next(n);
  for (int it = 0; it < o_.iterations; ++it) {
    std::fill(next.begin(), next.end(), (1 - o_.damping) / double(n));
    for (size_t i = 0; i < n; ++i) {
      if (wsum[i] <= 0) continue;
      double share = o_.damping * pr[i] / wsum[i];
      for (auto [j, w] : adj[i]) next[j] += share * w;
    }
    pr.swap(next);
  }
  std::vector<double> score(n);
  for (size_t i = 0; i < n; ++i) score[i] = pr[i] * (1 + o_.name_weight * std::min(ss[i].names, 3));
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return score[a] > score[b]; });

  std::vector<uint32_t> chosen;
  size_t used = 0;
  for (uint32_t i : order) {
    if (used + ss[i].zi > target_zi) continue;
    bool redundant = false;
    for (uint32_t c : chosen) {
      size_t m = std::min(ss[i].grams.size(), ss[c].grams.size());
      if (m > 0 && double(overlap(ss[i].grams, ss[c].grams)) > o_.redundancy * double(m)) {
        redundant = true;
        break;
      }
    }
    if (redundant) continue;
    chosen.push_back(i);
    used += ss[i].zi;
    if (target_zi - used < o_.min_sentence_zi) break;
  }
  std::sort(chosen.begin(), chosen.end());
  std::vector<std::string_view> out;
  for (uint32_t c : chosen) out.push_back(ss[c].s);
  return out;
}

Result<std::string> ExtractiveSummarizer::summarize(const SummaryRequest& req) {
  return join_sentences(pick(req.text, req.target_zi, req.names));
}

const char* level_name(SummaryLevel l) {
  switch (l) {
    case SummaryLevel::kScene: return "场景";
    case SummaryLevel::kChapter: return "章节";
    case SummaryLevel::kArc: return "卷";
    case SummaryLevel::kBook: return "全书";
  }
  return "";
}

}  // namespace cj::memory
