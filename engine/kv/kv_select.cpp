#include "engine/kv/kv_select.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <vector>


namespace cj {

Status parse_kv_select(const std::string& s, KVSelectOptions* o) {
  const std::string err = "--kv-select must be a fraction of the pages (1/8 or 0.125) or a number of " +
                          std::to_string(KVPool::kSummaryTokens) + "-token pages (64); got '" + s + "'";
  o->fraction = 0;
  o->units = 0;
  if (s.empty() || s == "off" || s == "0") return {};
  char* end = nullptr;
  const size_t slash = s.find('/');
  if (slash != std::string::npos) {
    const long a = std::strtol(s.c_str(), &end, 10);
    if (end != s.c_str() + slash) return make_error(err);
    const long b = std::strtol(s.c_str() + slash + 1, &end, 10);
    if (*end != 0 || a < 1 || b < a || b > 1000000) return make_error(err);
    o->fraction = float(double(a) / double(b));
    return {};
  }
  if (s.find('.') != std::string::npos) {
    const double f = std::strtod(s.c_str(), &end);
    if (*end != 0 || !(f > 0) || f > 1) return make_error(err);
    o->fraction = float(f);
    return {};
  }
  const long n = std::strtol(s.c_str(), &end, 10);
  if (*end != 0 || n < 1 || n > (1L << 24)) return make_error(err);
  o->units = int(n);
  return {};
}

std::string describe_kv_select(const KVSelectOptions& o) {
  if (!o.enabled()) return "off";
  char buf[128];
  if (o.units > 0) std::snprintf(buf, sizeof buf, "%d pages of %d tokens", o.units, KVPool::kSummaryTokens);
  else std::snprintf(buf, sizeof buf, "%.4g of the %d-token pages", double(o.fraction), KVPool::kSummaryTokens);
  return buf;
}

KVSelectStats& kv_select_stats() {
  static KVSelectStats s;
  return s;
}

namespace {
constexpr int UT = KVPool::kSummaryTokens, U = KVPool::kSummaryUnits;
}  // namespace

KVSelectPlan kv_select_plan(const KVSelectOptions& o, int N) {
  KVSelectPlan p;
  p.nU = (N + UT - 1) / UT;
  const int budget = o.units > 0 ? o.units : int(std::ceil(double(o.fraction) * p.nU));
  p.sink_u = std::min(p.nU, (std::max(o.sink_tokens, 0) + UT - 1) / UT);
  p.rec0 = std::max(p.sink_u, std::max(0, N - std::max(o.recent_tokens, 1)) / UT);
  p.top = std::max(0, budget - p.sink_u - (p.nU - p.rec0));
  p.active = o.enabled() && p.top < p.rec0 - p.sink_u;
  return p;
}

size_t kv_bytes_read_per_token(const KVCache& kv, const KVSelectOptions& o, int n) {
  const KVLayout& L = kv.layout();
  const size_t row = L.k_row_bytes + L.v_row_bytes;
  const KVSelectPlan p = kv_select_plan(o, n + 1);
  if (!p.active || !kv.pool().has_summaries()) return kv.bytes_read_per_token(n);
  const int dense = std::min(std::max(o.dense_layers, 0), L.n_layers);
  const size_t keys = size_t(p.sink_u + p.top) * UT + size_t(n + 1 - p.rec0 * UT);
  const size_t pages = size_t((p.rec0 - 1) / U + 1 - p.sink_u / U);
  const size_t per_head = keys * row + pages * kv.pool().summary_stride() * 2;
  return size_t(dense) * L.n_kv_heads * size_t(n) * row + size_t(L.n_layers - dense) * L.n_kv_heads * per_head;
}

}  // namespace cj
