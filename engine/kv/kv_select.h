// Quest-style page selection for decode at long contexts (issue 25): the options, the plan of which units a step
// attends, the key ranges handed to attention, and the bytes a step reads. Every 32-token unit of a KV page keeps,
// per KV head, the per-channel max and min of its keys (KVPool::summary, f16, kept on the host whatever tier the
// page is on). A decode step scores each unit by an upper bound of q·k over it, Σ_d max(q_d·max_d, q_d·min_d),
// takes the largest over the query heads of the GQA group, and attends exactly over the best units plus the
// attention sinks (the first tokens) and the recent window (the last tokens). The CPU scorer is
// engine/cpu/page_select.h; a device backend can choose the host pages it attends the same way. Off by default
// (`--kv-select K`).
#pragma once
#include <cstddef>
#include <string>

#include "engine/base/result.h"
#include "engine/kv/kv_cache.h"

namespace cj {

struct KVSelectOptions {
  float fraction = 0;       // attend this fraction of the units (sinks and recent window included), when > 0
  int units = 0;            // or this many units, when > 0
  int sink_tokens = 32;     // always attended: the first tokens
  int recent_tokens = 128;  // always attended: the last tokens
  int dense_layers = 0;     // the first layers attend everything
  bool stats = false;       // measure the exact attention mass the selection captures (slow: tests, tools)
  bool enabled() const { return fraction > 0 || units > 0; }
};

// "1/8" or "0.125": a fraction of the units; "64": a number of units; "off". Clear error otherwise.
Status parse_kv_select(const std::string& s, KVSelectOptions* o);
std::string describe_kv_select(const KVSelectOptions& o);

// Key positions [t0, t1) of a sequence's cache.
struct KeyRange {
  int t0 = 0, t1 = 0;
};

// Keys attended by a decode step, per KV head: ranges[g * stride .. + count[g]) (sorted, disjoint).
struct KeySelection {
  const KeyRange* ranges = nullptr;
  const int* count = nullptr;  // [n_kv_heads]
  int stride = 0;
};

// A decode step with N keys attends the units [0, sink_u) (sinks), `top` units chosen among [sink_u, rec0), and
// [rec0, nU) (the recent window). active = false when that would be every unit: exact attention.
struct KVSelectPlan {
  int nU = 0, sink_u = 0, rec0 = 0, top = 0;
  bool active = false;
};
KVSelectPlan kv_select_plan(const KVSelectOptions& o, int N);

// Bytes of keys, values and key summaries one decode step reads with n tokens cached (exact: every key).
size_t kv_bytes_read_per_token(const KVCache& kv, const KVSelectOptions& o, int n);

// Counters of the selections made by this process (stats mode fills the mass figures).
struct KVSelectStats {
  long long steps = 0;             // (layer, KV head) selections made
  long long units_total = 0;       // units in the context, summed over the selections
  long long units_attended = 0;    // units attended (sinks, recent window and the selected ones)
  long long mass_count = 0;        // (layer, query head) pairs measured
  double mass_sum = 0, mass_min = 1;  // exact attention probability mass on the attended keys
  double oracle_sum = 0;           // the mass of the best units an oracle would pick with the same budget
};
KVSelectStats& kv_select_stats();

}  // namespace cj
