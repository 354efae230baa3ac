#include "engine/kv/kv_session.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace cj {

namespace {

constexpr char kMagic[8] = {'C', 'J', 'K', 'V', 'S', 'E', 'S', '1'};
constexpr uint32_t kVersion = 1;

struct Header {
  uint32_t version, block_tokens, dtype, n_layers, n_kv_heads, head_dim, head_dim_v, n_tokens;
  uint64_t model_hash, tokenizer_hash, tokens_hash, data_hash;
};

using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

uint64_t tokenizer_fingerprint(const Tokenizer& t) {
  uint64_t h = hash_bytes(nullptr, 0, t.vocab_size());
  const int32_t ids[3] = {t.bos(), t.eos(), t.add_bos() ? 1 : 0};
  h = hash_bytes(ids, sizeof ids, h);
  for (size_t i = 0; i < t.vocab_size(); ++i) {
    const std::string s = t.token_bytes(TokenId(i));
    h = hash_bytes(s.data(), s.size(), h);
  }
  return h;
}

Status save_kv_session(const std::string& path, const KVCache& kv, uint64_t tokenizer_hash) {
  const KVLayout& L = kv.layout();
  const int n = kv.n_tokens(), nb = kv.n_blocks_used();
  std::vector<uint8_t> buf(L.page_bytes);
  Header h{};
  h.version = kVersion;
  h.block_tokens = KVLayout::kBlockTokens;
  h.dtype = uint32_t(L.type);
  h.n_layers = uint32_t(L.n_layers);
  h.n_kv_heads = uint32_t(L.n_kv_heads);
  h.head_dim = uint32_t(L.head_dim);
  h.head_dim_v = uint32_t(L.head_dim_v);
  h.n_tokens = uint32_t(n);
  h.model_hash = kv.model_id();
  h.tokenizer_hash = tokenizer_hash;
  h.tokens_hash = hash_bytes(kv.tokens(), size_t(n) * 4, 0);
  uint64_t dh = 0;
  for (int b = 0; b < nb; ++b)
    for (int l = 0; l < L.n_layers; ++l) dh = hash_bytes(kv.pool().read(kv.page(l, b), 0, L.page_bytes, buf.data()), L.page_bytes, dh);
  h.data_hash = dh;
  const std::string tmp = path + ".tmp";
  FilePtr f(std::fopen(tmp.c_str(), "wb"), std::fclose);
  if (!f) return make_error("cannot write the session file " + tmp + ": " + std::strerror(errno));
  bool ok = std::fwrite(kMagic, 8, 1, f.get()) == 1 && std::fwrite(&h, sizeof h, 1, f.get()) == 1 &&
            (n == 0 || std::fwrite(kv.tokens(), size_t(n) * 4, 1, f.get()) == 1);
  for (int b = 0; ok && b < nb; ++b)
    for (int l = 0; ok && l < L.n_layers; ++l)
      ok = std::fwrite(kv.pool().read(kv.page(l, b), 0, L.page_bytes, buf.data()), L.page_bytes, 1, f.get()) == 1;
  ok = ok && std::fflush(f.get()) == 0;
  f.reset();
  if (!ok || kv.pool().has_io_error()) {
    std::remove(tmp.c_str());
    return make_error("writing the session file " + path + " failed" +
                      (kv.pool().has_io_error() ? ": " + kv.pool().io_error() : std::string()));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  return {};
}

Status load_kv_session(const std::string& path, KVCache& kv, uint64_t tokenizer_hash) {
  kv.truncate(0);
  const KVLayout& L = kv.layout();
  auto refuse = [&](const std::string& why) { return make_error("the session " + path + " is refused: " + why); };
  FilePtr f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return make_error("cannot open the session file " + path + ": " + std::strerror(errno));
  char magic[8];
  Header h{};
  if (std::fread(magic, 8, 1, f.get()) != 1 || std::memcmp(magic, kMagic, 8) != 0)
    return refuse("not a Changjuan KV session file");
  if (std::fread(&h, sizeof h, 1, f.get()) != 1) return refuse("the header is truncated");
  if (h.version != kVersion) return refuse("version " + std::to_string(h.version) + ", expected " + std::to_string(kVersion));
  if (h.model_hash != kv.model_id())
    return refuse("it was made with another model (model hash " + hex(h.model_hash) + ", this model " +
                  hex(kv.model_id()) + ")");
  if (h.tokenizer_hash != tokenizer_hash)
    return refuse("it was made with another tokenizer (hash " + hex(h.tokenizer_hash) + ", this one " +
                  hex(tokenizer_hash) + ")");
  if (h.dtype != uint32_t(L.type))
    return refuse(std::string("KV type ") + (h.dtype <= 2 ? kv_type_name(KVType(h.dtype)) : "?") + ", this cache is " +
                  kv_type_name(L.type) + " (use the same --kv-type)");
  if (h.block_tokens != uint32_t(KVLayout::kBlockTokens))
    return refuse("block size " + std::to_string(h.block_tokens) + ", expected " + std::to_string(KVLayout::kBlockTokens));
  if (h.n_layers != uint32_t(L.n_layers) || h.n_kv_heads != uint32_t(L.n_kv_heads) || h.head_dim != uint32_t(L.head_dim) ||
      h.head_dim_v != uint32_t(L.head_dim_v))
    return refuse("the model shape differs (layers/kv heads/head sizes)");
  if (h.n_tokens > uint32_t(kv.capacity()))
    return refuse(std::to_string(h.n_tokens) + " tokens do not fit the context of " + std::to_string(kv.capacity()) +
                  " (raise --ctx)");
  const int n = int(h.n_tokens), nb = (n + KVLayout::kBlockTokens - 1) / KVLayout::kBlockTokens;
  std::vector<int32_t> toks(static_cast<size_t>(n));
  if (n && std::fread(toks.data(), size_t(n) * 4, 1, f.get()) != 1) return refuse("the token ids are truncated");
  if (hash_bytes(toks.data(), size_t(n) * 4, 0) != h.tokens_hash) return refuse("the token ids are corrupt (hash mismatch)");
  const long data_at = std::ftell(f.get());
  // Pass 1: the data must be complete and intact before anything reaches the cache (and the prefix cache).
  std::vector<uint8_t> buf(L.page_bytes);
  uint64_t dh = 0;
  for (int i = 0; i < nb * L.n_layers; ++i) {
    if (std::fread(buf.data(), L.page_bytes, 1, f.get()) != 1) return refuse("the KV data is truncated");
    dh = hash_bytes(buf.data(), L.page_bytes, dh);
  }
  if (std::fgetc(f.get()) != EOF) return refuse("trailing bytes after the KV data");
  if (dh != h.data_hash) return refuse("the KV data is corrupt (hash mismatch)");
  // Pass 2: block by block into the cache.
  std::fseek(f.get(), data_at, SEEK_SET);
  for (int b = 0; b < nb; ++b) {
    const int p0 = b * KVLayout::kBlockTokens, cnt = std::min(KVLayout::kBlockTokens, n - p0);
    Status s = kv.prepare(p0, cnt);
    if (!s.ok()) {
      kv.truncate(0);
      return make_error("loading the session " + path + ": " + s.error());
    }
    for (int l = 0; l < L.n_layers; ++l)
      if (std::fread(kv.page_for_write(l, b), L.page_bytes, 1, f.get()) != 1) {
        kv.truncate(0);
        return refuse("the file changed while it was read");
      }
    kv.commit(p0, toks.data() + p0, cnt);
  }
  return {};
}

}  // namespace cj
