// Flash attention over the paged KV cache for the CPU backend (issue 25): one kernel for prefill tiles and for
// split-K decode, plus the scalar reference every SIMD path is tested against.
//
// A work item is (KV head g, a tile of consecutive queries, a run of keys). Its rows are the tile's (query, head of
// the GQA group) pairs, m = query * G + head, so every K/V block a work item loads serves all query heads of the
// group. Keys are visited in chunks of kChunk (64) inside one 256-token page: the chunk's keys are packed once
// (AVX-512: bf16, keys transposed into pairs of channels so that 16 keys fill a vector; AVX2: f32), then for
// blocks of rows the scores S = Q·Kᵀ are small matrix products (VDPBF16PS / FMA), an online softmax keeps each
// row's running max m and sum l, and O += P·V is a second small product (values packed as pairs of keys).
// Chunks after a tile's last query are skipped (causal); the diagonal chunks are masked per row.
// Decode (one query, G rows): its keys are split across tasks and the partial states (m, l, O) are merged by
// log-sum-exp; an exact step splits at segment boundaries (kFlashSegment) and runs the tile arithmetic, so that its
// bits are a prefill row's. A step with page selection runs, on AVX-512, a decode kernel of its own that multiplies
// in f32 straight from the cache rows (no packing, no bf16), 256 keys per softmax update, every loaded key serving
// the G heads (set_flash_decode chooses otherwise). Keys may be given as ranges of positions (page selection
// attends only the selected units, sinks and the recent window).
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/kv/kv_cache.h"
#include "engine/kv/kv_select.h"

namespace cj {

class ThreadPool;
struct AttentionArgs;
class AttentionScratch;

enum class FlashIsa { None, Avx2, Avx512Bf16 };
// The instruction set the flash kernel uses on this CPU (CJ_FLASH=avx2 or CJ_FLASH=off force a lower one, for
// A/B measurements and tests).
FlashIsa flash_isa();
// Overrides the choice for the whole process (benchmarks' A/B runs); FlashIsa::None turns the kernel off.
void set_flash_isa(FlashIsa isa);
const char* flash_isa_name(FlashIsa isa);
// Which arithmetic decode steps use, for the whole process (CJ_FLASH_DECODE=auto|f32|packed; A/B runs, tests).
// Auto (the default): an exact decode step runs the arithmetic of a prefill tile row (keys and values packed to
// bf16 per 64-key chunk, the prefill kernel with a tile of one query), so that its bits are those of the same row
// in a whole prefill: a prompt whose tail is one token after a cached prefix, and a sequence recomputed after
// preemption, get the bits of a whole prefill (PrefixBits.*); a step with page selection (never bit-comparable
// with a prefill: prefill is always exact) runs the f32 decode kernel (10x more precise, 1.7x faster over
// scattered units). F32: every decode step through the f32 kernel; Packed: every one through the tile path.
enum class FlashDecode { Auto, F32, Packed };
void set_flash_decode(FlashDecode d);
// Keys of one segment of a row's canonical arithmetic: every row (a prefill tile's or a decode step's) runs the
// online softmax over each kFlashSegment-key segment of its keys from a fresh state and merges the segments'
// states by log-sum-exp in order, so that decode may split its keys across threads at segment boundaries and still
// give a prefill row's bits, whatever the batch and the thread count.
constexpr int kFlashSegment = 1024;
// Whether the flash kernel handles this shape (head sizes 32, 64 or 128; any GQA group) on this CPU.
bool flash_supported(int head_dim, int head_dim_v);

// Attention of a batch (AttentionArgs: runs of queries of several sequences, causal: query i of a run attends its
// sequence's keys 0 .. pos0 + i). With a.select, each decode step (a run of one query) attends the keys page
// selection chooses (engine/cpu/page_select.h). Uses s.stage() for disk pages; decode states (one per segment, or per split of the selected keys) live in the call's own plan.
// sel (tests, tools): per decode step of the batch, in order, the keys it attends, instead of a.select's choice.
// A cache of F32 KV is never rounded to bf16: with isa Avx512Bf16 it runs the f32 (AVX2) kernel.
// Returns false (and does nothing) when the shape is not supported.
bool flash_attention(const AttentionArgs& a, AttentionScratch& s, ThreadPool* pool, int n_threads,
                     const KeySelection* const* sel = nullptr, FlashIsa isa = flash_isa());

// The scalar reference: two-pass softmax in double precision over keys decoded to f32. sel: per decode step of
// the batch (in order), the keys it attends (nullptr entries or sel == nullptr: every key).
void attention_reference(const AttentionArgs& a, const KeySelection* const* sel = nullptr);

}  // namespace cj
