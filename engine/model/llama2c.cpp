#include "engine/model/llama2c.h"

#include <cstring>
#include <vector>

#include "engine/base/file.h"
#include "engine/format/gguf.h"
#include "engine/tokenizer/tokenizer.h"

namespace cj {

Result<Llama2cInfo> read_llama2c_header(std::string_view d, const std::string& model_bin) {
  if (d.size() < 28) return make_error(model_bin + ": too short for a llama2.c checkpoint header");
  int32_t h[7];
  std::memcpy(h, d.data(), 28);
  Llama2cInfo in;
  in.dim = h[0];
  in.hidden_dim = h[1];
  in.n_layers = h[2];
  in.n_heads = h[3];
  in.n_kv_heads = h[4];
  in.shared_classifier = h[5] > 0;
  // A negative vocab_size means "separate classifier"; INT32_MIN has no positive counterpart in int32.
  const int64_t vocab = h[5] < 0 ? -int64_t(h[5]) : int64_t(h[5]);
  in.vocab_size = vocab > (1 << 22) ? -1 : int(vocab);
  in.seq_len = h[6];
  auto bad = [&](const char* what) { return make_error(model_bin + ": bad llama2.c header (" + what + ")"); };
  if (in.dim <= 0 || in.dim > 65536) return bad("dim");
  if (in.hidden_dim <= 0 || in.hidden_dim > 1 << 20) return bad("hidden_dim");
  if (in.n_layers <= 0 || in.n_layers > 1024) return bad("n_layers");
  if (in.n_heads <= 0 || in.dim % in.n_heads) return bad("n_heads");
  if (in.n_kv_heads <= 0 || in.n_heads % in.n_kv_heads) return bad("n_kv_heads");
  if (in.vocab_size <= 0 || in.vocab_size > 1 << 22) return bad("vocab_size");
  if (in.seq_len <= 0 || in.seq_len > 1 << 24) return bad("seq_len");
  // Each bound above keeps every product below 2^47, so the sum fits in int64.
  const int64_t dim = in.dim, hid = in.hidden_dim, L = in.n_layers, V = in.vocab_size;
  const int64_t hs = dim / in.n_heads, kv_dim = hs * in.n_kv_heads;
  int64_t n = V * dim + L * dim + L * dim * dim + 2 * L * dim * kv_dim + L * dim * dim + L * dim + 3 * L * hid * dim +
              dim + int64_t(in.seq_len) * hs;  // freq_cis_real + freq_cis_imag (unused)
  if (!in.shared_classifier) n += V * dim;
  if ((d.size() - 28) / 4 < uint64_t(n))
    return make_error(model_bin + ": truncated (" + std::to_string(d.size()) + " bytes, the header needs " +
                      std::to_string(28 + n * 4) + ")");
  return in;
}

Result<Llama2cInfo> convert_llama2c(const std::string& model_bin, const std::string& tokenizer_bin,
                                    const std::string& out_gguf) {
  auto data = read_file(model_bin);
  if (!data.ok()) return Error{data.error()};
  const std::string& d = *data;
  auto info = read_llama2c_header(d, model_bin);
  if (!info.ok()) return Error{info.error()};
  const Llama2cInfo in = *info;
  const int64_t dim = in.dim, hid = in.hidden_dim, L = in.n_layers, V = in.vocab_size;
  const int64_t hs = dim / in.n_heads, kv_dim = hs * in.n_kv_heads;

  auto vocab = load_llama2c_tokenizer(tokenizer_bin);
  if (!vocab.ok()) return Error{vocab.error()};
  if (vocab->tokens.size() != size_t(V))
    return make_error(tokenizer_bin + ": " + std::to_string(vocab->tokens.size()) + " tokens, the model has " +
                      std::to_string(V));

  const float* p = reinterpret_cast<const float*>(d.data() + 28);  // read_file's buffer is suitably aligned
  std::vector<float> tmp;
  auto take = [&](int64_t count) {
    tmp.assign(p, p + count);
    p += count;
    return tmp.data();
  };
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "llama2.c import");
  w.set_u32("llama.context_length", uint32_t(in.seq_len));
  w.set_u32("llama.embedding_length", uint32_t(dim));
  w.set_u32("llama.block_count", uint32_t(L));
  w.set_u32("llama.feed_forward_length", uint32_t(hid));
  w.set_u32("llama.attention.head_count", uint32_t(in.n_heads));
  w.set_u32("llama.attention.head_count_kv", uint32_t(in.n_kv_heads));
  w.set_u32("llama.rope.dimension_count", uint32_t(hs));
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  gguf::write_vocab(w, *vocab);

  const float* tok_emb = p;
  w.add_tensor("token_embd.weight", DType::F32, {dim, V}, take(V * dim));
  auto per_layer = [&](const char* name, int64_t cols, int64_t rows) {
    for (int64_t l = 0; l < L; ++l) {
      std::vector<int64_t> dims = rows == 1 ? std::vector<int64_t>{cols} : std::vector<int64_t>{cols, rows};
      w.add_tensor("blk." + std::to_string(l) + "." + name, DType::F32, dims, take(cols * rows));
    }
  };
  per_layer("attn_norm.weight", dim, 1);
  per_layer("attn_q.weight", dim, dim);
  per_layer("attn_k.weight", dim, kv_dim);
  per_layer("attn_v.weight", dim, kv_dim);
  per_layer("attn_output.weight", dim, dim);
  per_layer("ffn_norm.weight", dim, 1);
  per_layer("ffn_gate.weight", dim, hid);  // w1
  per_layer("ffn_down.weight", hid, dim);  // w2
  per_layer("ffn_up.weight", dim, hid);    // w3
  w.add_tensor("output_norm.weight", DType::F32, {dim}, take(dim));
  p += int64_t(in.seq_len) * hs;  // skip freq_cis_real, freq_cis_imag
  if (!in.shared_classifier) w.add_tensor("output.weight", DType::F32, {dim, V}, take(V * dim));
  (void)tok_emb;
  CJ_TRY(w.write(out_gguf));
  return in;
}

}  // namespace cj
