// Session snapshots: one sequence's KV cache written to a file and read back, so that a reopened book continues
// with no prefill. The header names what the keys/values depend on and is checked field by field on load; a
// mismatch or a damaged file is refused with a message that says what differs.
//
// File: "CJKVSES1", then u32 version, block_tokens, dtype, n_layers, n_kv_heads, head_dim, head_dim_v, n_tokens;
// u64 model hash (model_fingerprint), tokenizer hash, token ids hash, data hash; the token ids (i32 each); then
// for each block b < ceil(n_tokens / 256) and each layer l the page (KVLayout::page_bytes, as in memory).
#pragma once
#include <cstdint>
#include <string>

#include "engine/base/result.h"
#include "engine/kv/kv_cache.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj {

uint64_t tokenizer_fingerprint(const Tokenizer& t);

// Writes the first kv.n_tokens() tokens' keys and values (pages on disk are read back through the pool).
Status save_kv_session(const std::string& path, const KVCache& kv, uint64_t tokenizer_hash);
// Replaces kv's contents with the snapshot (kv.model_id() must equal the file's model hash). On any error the
// cache is left empty and the message names the file and the field that differs.
Status load_kv_session(const std::string& path, KVCache& kv, uint64_t tokenizer_hash);

}  // namespace cj
