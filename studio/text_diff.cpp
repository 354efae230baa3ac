#include "studio/text_diff.h"

#include <algorithm>
#include <cstdint>

#include "engine/base/utf8.h"

namespace cj::studio {
namespace {

std::vector<std::string_view> split_paras(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t nl = s.find('\n', start);
    std::string_view p = s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!p.empty() && p.back() == '\r') p.remove_suffix(1);
    out.push_back(p);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

// LCS edit script over two sequences (a[i] == b[j] via eq). Emits ops in order: 0 same, 1 removed (a), 2 added (b).
// Cells are bounded: beyond kMaxCells the middle is reported as removed + added.
template <typename Eq>
std::vector<std::pair<int, size_t>> lcs_script(size_t n, size_t m, Eq eq) {
  constexpr size_t kMaxCells = 4'000'000;
  std::vector<std::pair<int, size_t>> ops;
  size_t pre = 0;
  while (pre < n && pre < m && eq(pre, pre)) ops.push_back({0, pre}), ++pre;
  size_t suf = 0;
  while (suf < n - pre && suf < m - pre && eq(n - 1 - suf, m - 1 - suf)) ++suf;
  const size_t an = n - pre - suf, bm = m - pre - suf;
  if (an * bm > kMaxCells) {
    for (size_t i = 0; i < an; ++i) ops.push_back({1, pre + i});
    for (size_t j = 0; j < bm; ++j) ops.push_back({2, pre + j});
  } else {
    // dp[i][j] = LCS length of a[pre+i..] and b[pre+j..]
    std::vector<uint32_t> dp((an + 1) * (bm + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return dp[i * (bm + 1) + j]; };
    for (size_t i = an; i-- > 0;)
      for (size_t j = bm; j-- > 0;)
        at(i, j) = eq(pre + i, pre + j) ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    while (i < an || j < bm) {
      if (i < an && j < bm && eq(pre + i, pre + j)) {
        ops.push_back({0, pre + i}), ++i, ++j;
      } else if (j < bm && (i == an || at(i, j + 1) > at(i + 1, j))) {  // removals first on ties
        ops.push_back({2, pre + j}), ++j;
      } else {
        ops.push_back({1, pre + i}), ++i;
      }
    }
  }
  for (size_t k = 0; k < suf; ++k) ops.push_back({0, n - suf + k});
  return ops;
}

void append_piece(std::vector<DiffPiece>& out, DiffPiece::Kind k, std::string_view text) {
  if (text.empty()) return;
  if (!out.empty() && out.back().kind == k)
    out.back().text += text;
  else
    out.push_back({k, std::string(text)});
}

}  // namespace

std::vector<DiffPiece> diff_chars(std::string_view a, std::string_view b) {
  // Code points with their byte spans.
  auto spans = [](std::string_view s) {
    std::vector<std::pair<uint32_t, std::string_view>> v;
    for (size_t i = 0; i < s.size();) {
      uint32_t c;
      int n = utf8::decode(s, i, &c);
      if (n == 0) n = 1, c = 0xFFFD;
      v.push_back({c, s.substr(i, static_cast<size_t>(n))});
      i += static_cast<size_t>(n);
    }
    return v;
  };
  const auto ca = spans(a), cb = spans(b);
  std::vector<DiffPiece> out;
  for (auto [op, idx] :
       lcs_script(ca.size(), cb.size(), [&](size_t i, size_t j) { return ca[i].first == cb[j].first; })) {
    if (op == 0)
      append_piece(out, DiffPiece::kSame, ca[idx].second);
    else if (op == 1)
      append_piece(out, DiffPiece::kRemoved, ca[idx].second);
    else
      append_piece(out, DiffPiece::kAdded, cb[idx].second);
  }
  return out;
}

std::vector<DiffPara> diff_text(std::string_view old_text, std::string_view new_text) {
  const auto a = split_paras(old_text), b = split_paras(new_text);
  const auto ops = lcs_script(a.size(), b.size(), [&](size_t i, size_t j) { return a[i] == b[j]; });
  std::vector<DiffPara> out;
  for (size_t k = 0; k < ops.size();) {
    const auto [op, idx] = ops[k];
    if (op == 0) {
      out.push_back({DiffPara::kSame, {{DiffPiece::kSame, std::string(a[idx])}}});
      ++k;
      continue;
    }
    // A run of removals and additions between two unchanged paragraphs.
    std::vector<size_t> rem, add;
    while (k < ops.size() && ops[k].first != 0) {
      (ops[k].first == 1 ? rem : add).push_back(ops[k].second);
      ++k;
    }
    if (rem.size() == 1 && add.size() == 1) {
      out.push_back({DiffPara::kChanged, diff_chars(a[rem[0]], b[add[0]])});
      continue;
    }
    for (size_t i : rem) out.push_back({DiffPara::kRemoved, {{DiffPiece::kRemoved, std::string(a[i])}}});
    for (size_t j : add) out.push_back({DiffPara::kAdded, {{DiffPiece::kAdded, std::string(b[j])}}});
  }
  return out;
}

}  // namespace cj::studio
