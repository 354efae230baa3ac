// Partial attention of one query token over a chosen set of a sequence's KV pages, as log-sum-exp states
// (attn_state.h). What a device backend needs for the pages that are not on the device: it attends its
// device-resident pages itself, the CPU attends the host- (and disk-) resident ones here, and the two states are
// merged exactly. Plain scalar code over the pool's read interface: pages on a tier the CPU cannot address are
// staged one KV head at a time.
#pragma once
#include <cstddef>

#include "engine/kv/kv_cache.h"

namespace cj::attn {

enum class PageSet { All, OffDevice, OnDevice };  // which pages of the sequence a call attends

struct PageAttnArgs {
  int layer = 0;
  int n_heads = 0, n_kv_heads = 0, head_dim = 0, head_dim_v = 0;
  float scale = 1;
  PageSet pages = PageSet::All;
};

// Bytes of `stage` and floats of `work` one call needs.
size_t page_attn_stage_bytes(const KVLayout& L);
size_t page_attn_work_floats(const KVLayout& L);

// states[h * state_floats(head_dim_v)] for each query head h: the attention of q ([n_heads * head_dim], f32) over
// positions 0 .. n_keys-1 of the pages in a.pages (initialised here: a head that sees no key has l = 0).
void attend_pages(const KVCache& kv, const PageAttnArgs& a, const float* q, int n_keys, float* states, float* work,
                  unsigned char* stage);

// Blocks of positions 0 .. n_keys-1 of one layer whose page is not on the device.
int blocks_off_device(const KVCache& kv, int layer, int n_keys);

}  // namespace cj::attn
