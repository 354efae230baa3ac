// The CPU side of page selection (engine/kv/kv_select.h): scores the key summaries of a decode step's pages with
// its query, keeps the best units plus sinks and the recent window, and returns them as key ranges for the flash
// decode kernel (engine/cpu/attention_flash.h).
#pragma once
#include "engine/kv/kv_select.h"

namespace cj {

class ThreadPool;

struct SelectQuery {
  const KVCache* kv = nullptr;
  int layer = 0;
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  float scale = 1;
  int pos = 0;               // the query's position (keys 0 .. pos)
  const float* q = nullptr;  // [n_heads * head_dim]
};

// The keys the step attends, or nullptr when every key would be (short context, budget covering it, no summaries,
// a dense layer). slot: one per decode query of a batch; the result stays valid until the next call with the same
// slot. Uses scratch grown on the first calls (no allocation afterwards at a given context size).
const KeySelection* select_keys(const SelectQuery& a, const KVSelectOptions& o, ThreadPool* pool, int n_threads,
                                int slot = 0);

}  // namespace cj
