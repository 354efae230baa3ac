#include "studio/finding_groups.h"

#include <algorithm>
#include <map>

namespace cj::studio {

std::string finding_kind_label(const std::string& k) {
  if (k == "name_variant") return "名字写法";
  if (k == "after_death") return "死后出场";
  if (k == "attribute") return "设定矛盾";
  if (k == "timeline") return "时间线";
  if (k == "llm") return "模型发现";
  return k;
}

const char* finding_status_label(const std::string& s) {
  if (s == "open") return "待处理";
  if (s == "accepted") return "已确认";
  if (s == "dismissed") return "已忽略";
  if (s == "fixed") return "已修正";
  return "";
}

namespace {
int kind_rank(const std::string& k) {
  static const char* order[] = {"name_variant", "after_death", "attribute", "timeline", "llm"};
  for (int i = 0; i < 5; ++i)
    if (k == order[i]) return i;
  return 5;
}
}  // namespace

std::vector<KindGroup> group_findings(const std::vector<storage::Finding>& findings, bool open_only) {
  std::map<std::string, std::map<std::string, SubjectGroup>> by;
  std::vector<size_t> order(findings.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = findings[a];
    const auto& y = findings[b];
    return x.chapter != y.chapter ? x.chapter < y.chapter : x.span_begin < y.span_begin;
  });
  for (size_t i : order) {
    const auto& f = findings[i];
    const bool open = f.status == "open";
    if (open_only && !open) continue;
    SubjectGroup& g = by[f.kind][f.subject];
    g.subject = f.subject;
    g.items.push_back(i);
    g.open += open;
  }
  std::vector<KindGroup> out;
  for (auto& [kind, subjects] : by) {
    KindGroup k;
    k.kind = kind;
    for (auto& [name, g] : subjects) {
      k.count += g.items.size();
      k.open += g.open;
      k.subjects.push_back(std::move(g));
    }
    std::stable_sort(k.subjects.begin(), k.subjects.end(), [](const SubjectGroup& a, const SubjectGroup& b) {
      if (a.items.size() != b.items.size()) return a.items.size() > b.items.size();
      return a.subject < b.subject;
    });
    out.push_back(std::move(k));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const KindGroup& a, const KindGroup& b) { return kind_rank(a.kind) < kind_rank(b.kind); });
  return out;
}

}  // namespace cj::studio
