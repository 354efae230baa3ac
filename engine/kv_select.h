// Quest-style page selection for decode at long contexts (issue 25). Every 32-token unit of a KV page keeps, per
// KV head, the per-channel max and min of its keys (KVPool::summary, f16, kept on the host whatever tier the page
// is on). A decode step scores each unit by an upper bound of q·k over it, Σ_d max(q_d·max_d, q_d·min_d), takes
// the largest over the query heads of the GQA group, and attends exactly over the best units plus the attention
// sinks (the first tokens) and the recent window (the last tokens); the flash decode kernel reads only those keys.
// Off by default (`--kv-select K`).
#pragma once
#include <string>

#include "engine/attention_flash.h"
#include "engine/base/result.h"

namespace cj {

class ThreadPool;
struct AttentionArgs;

struct KVSelectOptions {
  float fraction = 0;       // attend this fraction of the units (sinks and recent window included), when > 0
  int units = 0;            // or this many units, when > 0
  int sink_tokens = 32;     // always attended: the first tokens
  int recent_tokens = 128;  // always attended: the last tokens
  int dense_layers = 0;     // the first layers attend everything
  bool stats = false;       // measure the exact attention mass the selection captures (slow: tests, tools)
  bool enabled() const { return fraction > 0 || units > 0; }
};

// "1/8" or "0.125": a fraction of the units; "64": a number of units. Clear error otherwise.
Status parse_kv_select(const std::string& s, KVSelectOptions* o);
std::string describe_kv_select(const KVSelectOptions& o);

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

// Bytes of keys, values and key summaries one decode step reads with n tokens cached (exact: every key).
size_t kv_bytes_read_per_token(const KVCache& kv, const KVSelectOptions& o, int n);

// The keys a decode step (a.n_q == 1) attends, or nullptr when the context is small enough to attend every key.
// Uses per-thread scratch grown on the first calls (no allocation afterwards at a given context size).
const KeySelection* select_keys(const AttentionArgs& a, const KVSelectOptions& o, ThreadPool* pool, int n_threads);

}  // namespace cj
