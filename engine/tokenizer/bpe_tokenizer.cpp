// Byte-level BPE (GPT-2 family, Qwen2/2.5/3): special tokens, NFC (qwen2), the hand-written pre-tokenizer,
// bytes -> byte tokens, merges by rank with a per-call cache of word -> ids.
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/bytestream.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "engine/base/utf8.h"
#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/impl.h"
#include "engine/tokenizer/pretokenizer.h"
#include "engine/tokenizer/special_tokens.h"

namespace cj::tok {
namespace {

inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

constexpr uint32_t kNoMerge = ~0u;

// (left id, right id) -> merge rank; open addressing, linear probing, one 8-byte slot per pair (left 21 bits,
// right 21 bits, rank 22 bits) so that the table stays cache-friendly: the lookups are the hot loop. The merged
// id is found from the rank (merged_[rank]) only when a merge is applied.
class PairMap {
 public:
  static constexpr uint32_t kMaxId = (1u << 21) - 2, kMaxRank = (1u << 22) - 2;
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap * 5 < n * 8) cap <<= 1;  // load <= 0.625
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) rank for a repeated pair.
  void insert(TokenId a, TokenId b, uint32_t rank) {
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      if ((slots_[i] >> 22) == k) return;
      if (slots_[i] == kEmpty) {
        slots_[i] = (k << 22) | rank;
        return;
      }
    }
  }
  uint32_t rank(TokenId a, TokenId b) const {
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if ((s >> 22) == k) return static_cast<uint32_t>(s & ((1u << 22) - 1));
      if (s == kEmpty) return kNoMerge;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  static uint64_t key(TokenId a, TokenId b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 21) | static_cast<uint32_t>(b); }
  std::vector<uint64_t> slots_;  // [capacity]
  size_t mask_ = 0;
};

// Token text -> id over texts owned elsewhere (spec_.tokens): open addressing, the hash kept in the slot.
class StrIndex {
 public:
  void build(const std::vector<std::string>& texts, const std::vector<bool>& include) {
    texts_ = &texts;
    size_t cap = 16;
    while (cap < texts.size() * 2) cap <<= 1;
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    for (size_t id = 0; id < texts.size(); ++id) {
      if (!include[id]) continue;
      const uint64_t h = hash(texts[id]);
      size_t i = h & mask_;
      bool dup = false;
      for (; slots_[i]; i = (i + 1) & mask_) {
        if ((slots_[i] >> 32) == (h >> 32) && texts[(slots_[i] & 0xFFFFFFFFu) - 1] == texts[id]) {
          dup = true;  // keep the first id of a repeated text
          break;
        }
      }
      if (!dup) slots_[i] = (h & 0xFFFFFFFF00000000ULL) | (id + 1);
    }
  }
  std::optional<TokenId> find(std::string_view s) const {
    const uint64_t h = hash(s);
    for (size_t i = h & mask_; slots_[i]; i = (i + 1) & mask_) {
      if ((slots_[i] >> 32) == (h >> 32)) {
        const size_t id = (slots_[i] & 0xFFFFFFFFu) - 1;
        if ((*texts_)[id] == s) return static_cast<TokenId>(id);
      }
    }
    return std::nullopt;
  }

 private:
  static uint64_t hash(std::string_view s) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t v;
      std::memcpy(&v, s.data() + i, 8);
      h = mix(h ^ v) * 0x9E3779B97F4A7C15ULL;
    }
    uint64_t v = 0;
    std::memcpy(&v, s.data() + i, s.size() - i);
    h = mix(h ^ v);
    return (h << 32) | (h >> 32);  // the well-mixed high half also picks the slot
  }
  const std::vector<std::string>* texts_ = nullptr;
  std::vector<uint64_t> slots_;  // [capacity] hash high 32 bits | id + 1; 0 = empty
  size_t mask_ = 0;
};

// Per-call word -> ids cache (words up to kMaxCachedWord bytes).
class WordCache {
 public:
  static constexpr size_t kMaxCachedWord = 24;
  WordCache() { slots_.assign(1 << 12, 0); }
  // Returns the ids or nullptr.
  const TokenId* find(std::string_view w, uint64_t h, uint32_t* n) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) return nullptr;
      const Entry& e = entries_[s - 1];
      if (e.hash == h && e.klen == w.size() && std::memcmp(keys_.data() + e.koff, w.data(), w.size()) == 0) {
        *n = e.ilen;
        return ids_.data() + e.ioff;
      }
    }
  }
  void insert(std::string_view w, uint64_t h, const TokenId* ids, uint32_t n) {
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    entries_.push_back({h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(w.size()),
                        static_cast<uint32_t>(ids_.size()), n});
    keys_.append(w);
    ids_.insert(ids_.end(), ids, ids + n);
    place(static_cast<uint32_t>(entries_.size()));
  }

 private:
  struct Entry {
    uint64_t hash;
    uint32_t koff, klen, ioff, ilen;
  };
  void place(uint32_t idx) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = entries_[idx - 1].hash & mask;; i = (i + 1) & mask) {
      if (slots_[i] == 0) {
        slots_[i] = idx;
        return;
      }
    }
  }
  void grow() {
    slots_.assign(slots_.size() * 2, 0);
    for (uint32_t i = 1; i <= entries_.size(); ++i) place(i);
  }
  std::vector<uint32_t> slots_;  // [capacity] entry index + 1, 0 = empty
  std::vector<Entry> entries_;
  std::string keys_;
  std::vector<TokenId> ids_;
};

struct HeapItem {
  uint64_t key;  // rank << 32 | position of the left symbol
  TokenId left, right;
};
struct HeapGreater {
  bool operator()(const HeapItem& a, const HeapItem& b) const { return a.key > b.key; }
};

struct EncodeState {
  pretok::Scratch scratch;
  std::vector<uint32_t> ends;
  WordCache cache;
  std::vector<TokenId> sym;     // [n] symbol ids (-1 dead)
  std::vector<int32_t> next;    // [n]
  std::vector<int32_t> prev;    // [n]
  std::vector<HeapItem> heap;
  std::string norm;
};

class ByteLevelBpe final : public Tokenizer {
 public:
  explicit ByteLevelBpe(VocabSpec spec) : spec_(std::move(spec)) {}

  Status init() {
    const size_t n = spec_.tokens.size();
    if (n == 0) return Error{"byte-level BPE vocabulary is empty"};
    if (spec_.pre == "qwen2" || spec_.pre == "qwen35") {
      kind_ = pretok::Kind::kQwen2;
      nfc_ = true;  // Qwen's tokenizer.json normalizes to NFC
    } else if (spec_.pre == "gpt2" || spec_.pre == "default" || spec_.pre.empty()) {
      kind_ = pretok::Kind::kGpt2;
      nfc_ = false;
    } else {
      return Error{"unsupported byte-level BPE pre-tokenizer '" + spec_.pre + "' (supported: qwen2, gpt2)"};
    }
    bytes_.resize(n);
    std::vector<bool> plain(n, false);
    for (size_t id = 0; id < n; ++id) {
      const int32_t type = id < spec_.token_types.size() ? spec_.token_types[id] : kNormal;
      const std::string& t = spec_.tokens[id];
      if (type == kControl || type == kUserDefined) {
        bytes_[id] = t;  // added tokens are stored as plain text
        specials_.add(t, static_cast<TokenId>(id));
      } else {
        unmap_bytes(t, &bytes_[id]);
        plain[id] = true;
      }
    }
    by_text_.build(spec_.tokens, plain);
    for (int b = 0; b < 256; ++b) {
      auto it = by_text_.find(map_bytes(std::string(1, static_cast<char>(b))));
      if (!it)
        return Error{"byte-level BPE vocabulary lacks the token for byte " + std::to_string(b) + " (not a byte-level vocab?)"};
      byte_id_[b] = *it;
    }
    if (n > PairMap::kMaxId || spec_.merges.size() > PairMap::kMaxRank)
      return Error{"byte-level BPE vocabulary too large (" + std::to_string(n) + " tokens, " +
                   std::to_string(spec_.merges.size()) + " merges)"};
    pairs_.reserve(spec_.merges.size());
    merged_.assign(spec_.merges.size(), -1);
    std::string merged;
    for (size_t r = 0; r < spec_.merges.size(); ++r) {
      const std::string& m = spec_.merges[r];
      const size_t sp = m.find(' ', 1);  // a merge's left part is never empty
      if (sp == std::string::npos) return Error{"bad merge #" + std::to_string(r) + ": '" + m + "' (expected 'a b')"};
      const std::string_view a(m.data(), sp), b(m.data() + sp + 1, m.size() - sp - 1);
      auto ia = by_text_.find(a), ib = by_text_.find(b);
      merged.assign(a);
      merged.append(b);
      auto im = by_text_.find(merged);
      if (!ia || !ib || !im) continue;  // unusable merge
      pairs_.insert(*ia, *ib, static_cast<uint32_t>(r));
      merged_[r] = *im;
    }
    byte_pairs_.assign(256 * 256, kNoMerge);
    for (int a = 0; a < 256; ++a)
      for (int b = 0; b < 256; ++b) byte_pairs_[a * 256 + b] = pairs_.rank(byte_id_[a], byte_id_[b]);
    eog_.assign(n, false);
    auto mark = [&](TokenId id) {
      if (id >= 0 && static_cast<size_t>(id) < n) eog_[id] = true;
    };
    mark(spec_.eos_id);
    for (const char* t : {"<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end|>"})
      if (auto id = find_token(t)) mark(*id);
    eos_ = spec_.eos_id;
    if (eos_ < 0) {
      if (auto id = find_token("<|im_end|>")) eos_ = *id;
      else if (auto id2 = find_token("<|endoftext|>")) eos_ = *id2;
    }
    return Status::Ok();
  }

  std::vector<TokenId> encode(std::string_view text, bool parse_special) const override {
    std::vector<TokenId> out;
    EncodeState st;
    if (parse_special && !specials_.empty()) {
      specials_.split(
          text, [&](std::string_view piece) { encode_plain(piece, &st, &out); },
          [&](TokenId id) { out.push_back(id); });
    } else {
      encode_plain(text, &st, &out);
    }
    return out;
  }

  std::string token_bytes(TokenId id) const override {
    if (id < 0 || static_cast<size_t>(id) >= bytes_.size()) return {};
    return bytes_[id];
  }
  size_t vocab_size() const override { return bytes_.size(); }
  TokenId bos() const override { return spec_.bos_id; }
  TokenId eos() const override { return eos_; }
  bool is_eog(TokenId id) const override { return id >= 0 && static_cast<size_t>(id) < eog_.size() && eog_[id]; }
  bool add_bos() const override { return spec_.add_bos; }
  const VocabSpec& spec() const override { return spec_; }
  std::optional<TokenId> find_token(std::string_view text) const override {
    // Plain tokens by their mapped text, added tokens by their own text.
    if (auto it = by_text_.find(map_bytes(text))) return it;
    for (size_t id = 0; id < spec_.tokens.size(); ++id) {
      const int32_t type = id < spec_.token_types.size() ? spec_.token_types[id] : kNormal;
      if ((type == kControl || type == kUserDefined) && spec_.tokens[id] == text) return static_cast<TokenId>(id);
    }
    return std::nullopt;
  }

 private:
  void encode_plain(std::string_view text, EncodeState* st, std::vector<TokenId>* out) const {
    if (text.empty()) return;
    if (nfc_) text = normalize(text, st);
    st->ends.clear();
    pretok::split(kind_, text, &st->scratch, &st->ends);
    uint32_t b = 0;
    for (uint32_t e : st->ends) {
      encode_word(text.substr(b, e - b), st, out);
      b = e;
    }
  }

  // NFC of the valid UTF-8 runs (invalid bytes are kept as they are).
  std::string_view normalize(std::string_view text, EncodeState* st) const {
    UErrorCode err = U_ZERO_ERROR;
    const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(err);
    if (U_FAILURE(err)) return text;
    size_t bad = 0;
    if (utf8::valid(text, &bad)) {
      err = U_ZERO_ERROR;
      if (nfc->isNormalizedUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), err) &&
          U_SUCCESS(err))
        return text;
      st->norm.clear();
      append_nfc(nfc, text, &st->norm);
      return st->norm;
    }
    std::string outs;
    size_t i = 0;
    while (i < text.size()) {
      size_t j = i;
      uint32_t cp;
      while (j < text.size()) {
        const int n = utf8::decode(text, j, &cp);
        if (n == 0) break;
        j += n;
      }
      append_nfc(nfc, text.substr(i, j - i), &outs);
      if (j < text.size()) outs.push_back(text[j++]);  // the invalid byte itself
      i = j;
    }
    st->norm = std::move(outs);
    return st->norm;
  }

  static void append_nfc(const icu::Normalizer2* nfc, std::string_view valid, std::string* out) {
    if (valid.empty()) return;
    UErrorCode err = U_ZERO_ERROR;
    icu::StringByteSink<std::string> sink(out);
    nfc->normalizeUTF8(0, icu::StringPiece(valid.data(), static_cast<int32_t>(valid.size())), sink, nullptr, err);
    CJ_ASSERT(U_SUCCESS(err));
  }

  void encode_word(std::string_view w, EncodeState* st, std::vector<TokenId>* out) const {
    if (w.size() == 1) {
      out->push_back(byte_id_[static_cast<uint8_t>(w[0])]);
      return;
    }
    const bool cacheable = w.size() <= WordCache::kMaxCachedWord;
    uint64_t h = 0;
    if (cacheable) {
      h = std::hash<std::string_view>{}(w);
      uint32_t n;
      if (const TokenId* ids = st->cache.find(w, h, &n)) {
        out->insert(out->end(), ids, ids + n);
        return;
      }
    }
    const size_t before = out->size();
    bpe(w, st, out);
    if (cacheable) st->cache.insert(w, h, out->data() + before, static_cast<uint32_t>(out->size() - before));
  }

  // Short words: a compact array of symbols, the next merge found by a linear scan (no heap). Same result as
  // the heap version: the lowest rank wins, the leftmost among equal ranks.
  void bpe_small(std::string_view w, std::vector<TokenId>* out) const {
    constexpr uint32_t kNone = kNoMerge;
    TokenId sym[kSmallWord + 1];
    uint32_t rank[kSmallWord + 1];  // rank of the pair (i, i+1), kNone if no merge
    const auto* wb = reinterpret_cast<const uint8_t*>(w.data());
    int n = static_cast<int>(w.size());
    for (int i = 0; i < n; ++i) sym[i] = byte_id_[wb[i]];
    for (int i = 0; i + 1 < n; ++i) rank[i] = byte_pairs_[wb[i] * 256 + wb[i + 1]];
    rank[n - 1] = kNone;
    auto lookup = [&](int i) { rank[i] = pairs_.rank(sym[i], sym[i + 1]); };
    while (n > 1) {
      uint32_t best = kNone;
      int bi = -1;
      for (int i = 0; i + 1 < n; ++i) {
        if (rank[i] < best) {
          best = rank[i];
          bi = i;
        }
      }
      if (bi < 0) break;
      sym[bi] = merged_[best];
      for (int i = bi + 1; i + 1 < n; ++i) {
        sym[i] = sym[i + 1];
        rank[i] = rank[i + 1];
      }
      --n;
      rank[n - 1] = kNone;
      if (bi + 1 < n) lookup(bi);
      if (bi > 0) lookup(bi - 1);
    }
    out->insert(out->end(), sym, sym + n);
  }
  static constexpr size_t kSmallWord = 48;

  void bpe(std::string_view w, EncodeState* st, std::vector<TokenId>* out) const {
    if (w.size() <= kSmallWord) return bpe_small(w, out);
    const int32_t n = static_cast<int32_t>(w.size());
    st->sym.resize(n);
    st->next.resize(n);
    st->prev.resize(n);
    TokenId* sym = st->sym.data();
    int32_t* next = st->next.data();
    int32_t* prev = st->prev.data();
    for (int32_t i = 0; i < n; ++i) {
      sym[i] = byte_id_[static_cast<uint8_t>(w[i])];
      next[i] = i + 1;  // n = end
      prev[i] = i - 1;
    }
    auto& heap = st->heap;
    heap.clear();
    auto push = [&](int32_t l) {
      const int32_t r = next[l];
      if (r >= n) return;
      if (const uint32_t rk = pairs_.rank(sym[l], sym[r]); rk != kNoMerge) {
        heap.push_back({(static_cast<uint64_t>(rk) << 32) | static_cast<uint32_t>(l), sym[l], sym[r]});
        std::push_heap(heap.begin(), heap.end(), HeapGreater{});
      }
    };
    const auto* wb = reinterpret_cast<const uint8_t*>(w.data());
    for (int32_t i = 0; i + 1 < n; ++i) {
      const uint32_t rk = byte_pairs_[wb[i] * 256 + wb[i + 1]];
      if (rk != kNoMerge) heap.push_back({(static_cast<uint64_t>(rk) << 32) | static_cast<uint32_t>(i), sym[i], sym[i + 1]});
    }
    std::make_heap(heap.begin(), heap.end(), HeapGreater{});
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), HeapGreater{});
      const HeapItem it = heap.back();
      heap.pop_back();
      const auto l = static_cast<int32_t>(it.key & 0xFFFFFFFFu);
      if (sym[l] != it.left) continue;
      const int32_t r = next[l];
      if (r >= n || sym[r] != it.right) continue;
      sym[l] = merged_[it.key >> 32];
      sym[r] = -1;
      next[l] = next[r];
      if (next[r] < n) prev[next[r]] = l;
      if (prev[l] >= 0) push(prev[l]);
      push(l);
    }
    for (int32_t i = 0; i < n; i = next[i]) out->push_back(sym[i]);
  }

  VocabSpec spec_;
  pretok::Kind kind_ = pretok::Kind::kQwen2;
  bool nfc_ = true;
  std::vector<std::string> bytes_;                     // [n_vocab] raw bytes of each token
  StrIndex by_text_;  // mapped text of plain tokens -> id
  TokenId byte_id_[256] = {};
  PairMap pairs_;
  std::vector<TokenId> merged_;        // [n_merges] id that merge #rank produces
  std::vector<uint32_t> byte_pairs_;   // [256 * 256] rank of the merge of two single-byte symbols, or kNoMerge
  SpecialTokens specials_;
  std::vector<bool> eog_;  // [n_vocab]
  TokenId eos_ = -1;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_byte_level_bpe(const VocabSpec& spec) {
  auto t = std::make_unique<ByteLevelBpe>(spec);
  if (Status s = t->init(); !s.ok()) return Error{s.error()};
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace cj::tok
