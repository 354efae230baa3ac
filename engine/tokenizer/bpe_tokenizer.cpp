// Byte-level BPE (GPT-2 family, Qwen2/2.5/3): special tokens, NFC (qwen2), the hand-written pre-tokenizer,
// bytes -> byte tokens, merges by rank with a per-call cache of word -> ids.
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/bytestream.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <unordered_map>

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

// (left id, right id) -> (rank, merged id); open addressing, linear probing.
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    TokenId merged;
  };
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, Value{0, 0});
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) value for a repeated pair.
  void insert(TokenId a, TokenId b, Value v) {
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == k) return;
      if (keys_[i] == kEmpty) {
        keys_[i] = k;
        vals_[i] = v;
        return;
      }
    }
  }
  const Value* find(TokenId a, TokenId b) const {
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == k) return &vals_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  static uint64_t key(TokenId a, TokenId b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }
  std::vector<uint64_t> keys_;  // [capacity]
  std::vector<Value> vals_;     // [capacity]
  size_t mask_ = 0;
};

// Per-call word -> ids cache (words up to kMaxCachedWord bytes).
class WordCache {
 public:
  static constexpr size_t kMaxCachedWord = 96;
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
  TokenId left, right, merged;
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
    by_text_.reserve(n * 2);
    for (size_t id = 0; id < n; ++id) {
      const int32_t type = id < spec_.token_types.size() ? spec_.token_types[id] : kNormal;
      const std::string& t = spec_.tokens[id];
      if (type == kControl || type == kUserDefined) {
        bytes_[id] = t;  // added tokens are stored as plain text
        specials_.add(t, static_cast<TokenId>(id));
      } else {
        unmap_bytes(t, &bytes_[id]);
        by_text_.emplace(t, static_cast<TokenId>(id));
      }
    }
    for (int b = 0; b < 256; ++b) {
      auto it = by_text_.find(map_bytes(std::string(1, static_cast<char>(b))));
      if (it == by_text_.end())
        return Error{"byte-level BPE vocabulary lacks the token for byte " + std::to_string(b) + " (not a byte-level vocab?)"};
      byte_id_[b] = it->second;
    }
    pairs_.reserve(spec_.merges.size());
    std::string merged;
    for (size_t r = 0; r < spec_.merges.size(); ++r) {
      const std::string& m = spec_.merges[r];
      const size_t sp = m.find(' ', 1);  // a merge's left part is never empty
      if (sp == std::string::npos) return Error{"bad merge #" + std::to_string(r) + ": '" + m + "' (expected 'a b')"};
      const std::string_view a(m.data(), sp), b(m.data() + sp + 1, m.size() - sp - 1);
      auto ia = by_text_.find(std::string(a)), ib = by_text_.find(std::string(b));
      merged.assign(a);
      merged.append(b);
      auto im = by_text_.find(merged);
      if (ia == by_text_.end() || ib == by_text_.end() || im == by_text_.end()) continue;  // unusable merge
      pairs_.insert(ia->second, ib->second, {static_cast<uint32_t>(r), im->second});
    }
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
    auto it = by_text_.find(map_bytes(text));
    if (it != by_text_.end()) return it->second;
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

  void bpe(std::string_view w, EncodeState* st, std::vector<TokenId>* out) const {
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
      if (const PairMap::Value* v = pairs_.find(sym[l], sym[r])) {
        heap.push_back({(static_cast<uint64_t>(v->rank) << 32) | static_cast<uint32_t>(l), sym[l], sym[r], v->merged});
        std::push_heap(heap.begin(), heap.end(), HeapGreater{});
      }
    };
    for (int32_t i = 0; i + 1 < n; ++i) {
      if (const PairMap::Value* v = pairs_.find(sym[i], sym[i + 1]))
        heap.push_back({(static_cast<uint64_t>(v->rank) << 32) | static_cast<uint32_t>(i), sym[i], sym[i + 1], v->merged});
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
      sym[l] = it.merged;
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
  std::unordered_map<std::string, TokenId> by_text_;   // mapped text -> id (plain tokens)
  TokenId byte_id_[256] = {};
  PairMap pairs_;
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
