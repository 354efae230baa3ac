#include "engine/model/model.h"

#include "engine/base/hash.h"

#include <cstdint>
#include <map>

namespace cj {

namespace {

// Looks up a tensor and checks its shape: dims == {cols} (rows = 1), {cols, rows}, or {cols, rows, mats} when
// mats > 1 (a stack of matrices).
Status bind(const gguf::File& f, const std::string& name, int64_t cols, int64_t rows, bool required, bool f32_only,
            WeightView* out, int64_t mats = 1) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  if (!t) {
    if (required) return make_error(f.path() + ": missing tensor " + name);
    return {};
  }
  bool vec = rows == 1 && mats == 1;
  bool shape_ok = vec    ? (t->dims.size() == 1 && t->dims[0] == cols) ||
                               (t->dims.size() == 2 && t->dims[0] == cols && t->dims[1] == 1)
                  : mats == 1 ? (t->dims.size() == 2 && t->dims[0] == cols && t->dims[1] == rows)
                             : (t->dims.size() == 3 && t->dims[0] == cols && t->dims[1] == rows && t->dims[2] == mats);
  if (!shape_ok) {
    std::string got;
    for (size_t i = 0; i < t->dims.size(); ++i) got += (i ? "," : "") + std::to_string(t->dims[i]);
    return make_error(f.path() + ": tensor " + name + " has shape [" + got + "], expected [" + std::to_string(cols) +
                      (vec ? "" : "," + std::to_string(rows)) + (mats > 1 ? "," + std::to_string(mats) : "") + "]");
  }
  if (f32_only && t->type != DType::F32)
    return make_error(f.path() + ": tensor " + name + " must be f32 (it is " + dtype_traits(t->type).name + ")");
  if (cols % dtype_traits(t->type).block_elems != 0)
    return make_error(f.path() + ": tensor " + name + " row length is not a multiple of its block size");
  // The kernels read floats and block structs in place: the data must be aligned for them (a file written with
  // general.alignment = 1 may place a tensor at an odd offset).
  if (reinterpret_cast<uintptr_t>(f.tensor_data(*t)) % alignof(float) != 0)
    return make_error(f.path() + ": tensor " + name + " is not aligned in the file (general.alignment " +
                      std::to_string(f.alignment()) + "); convert the model again");
  out->type = t->type;
  out->data = f.tensor_data(*t);
  out->rows = rows;
  out->cols = cols;
  out->n_mats = mats;
  return {};
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file.ok()) return Error{file.error()};
  return from_file(std::move(file.value()));
}

Result<std::unique_ptr<Model>> Model::from_file(gguf::File file) {
  const std::string path = file.path();
  auto cfg = config_from_gguf(file);
  if (!cfg.ok()) return Error{cfg.error()};
  std::unique_ptr<Model> m(new Model(std::move(file)));
  m->cfg_ = *cfg;
  const ModelConfig& c = m->cfg_;
  const gguf::File& f = m->file_;
  CJ_TRY(bind(f, "token_embd.weight", c.n_embd, c.n_vocab, true, false, &m->token_embd));
  CJ_TRY(bind(f, "output_norm.weight", c.n_embd, 1, true, true, &m->output_norm));
  if (c.tied_output) {
    m->output = m->token_embd;
  } else {
    CJ_TRY(bind(f, "output.weight", c.n_embd, c.n_vocab, true, false, &m->output));
  }
  CJ_TRY(bind(f, "rope_freqs.weight", c.rope.n_dims / 2, 1, false, true, &m->rope_freqs));
  m->layers.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights& L = m->layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    CJ_TRY(bind(f, p + "attn_norm.weight", c.n_embd, 1, true, true, &L.attn_norm));
    if (c.mla.active()) {
      CJ_TRY(m->bind_mla(l));
    } else {
      CJ_TRY(bind(f, p + "attn_q.weight", c.n_embd, c.q_dim(), true, false, &L.wq));
      CJ_TRY(bind(f, p + "attn_k.weight", c.n_embd, c.kv_dim(), true, false, &L.wk));
      CJ_TRY(bind(f, p + "attn_v.weight", c.n_embd, c.v_dim(), true, false, &L.wv));
      CJ_TRY(bind(f, p + "attn_output.weight", c.attn_out_dim(), c.n_embd, true, false, &L.wo));
      // Biases are required for qwen2 and honoured (if present) for any architecture.
      CJ_TRY(bind(f, p + "attn_q.bias", c.q_dim(), 1, c.qkv_bias, true, &L.bq));
      CJ_TRY(bind(f, p + "attn_k.bias", c.kv_dim(), 1, c.qkv_bias, true, &L.bk));
      CJ_TRY(bind(f, p + "attn_v.bias", c.v_dim(), 1, c.qkv_bias, true, &L.bv));
      CJ_TRY(bind(f, p + "attn_q_norm.weight", c.head_dim, 1, c.qk_norm, true, &L.q_norm));
      CJ_TRY(bind(f, p + "attn_k_norm.weight", c.head_dim, 1, c.qk_norm, true, &L.k_norm));
    }
    CJ_TRY(bind(f, p + "ffn_norm.weight", c.n_embd, 1, true, true, &L.ffn_norm));
    if (!c.is_moe_layer(l)) {
      CJ_TRY(bind(f, p + "ffn_gate.weight", c.n_embd, c.n_ff, true, false, &L.w_gate));
      CJ_TRY(bind(f, p + "ffn_up.weight", c.n_embd, c.n_ff, true, false, &L.w_up));
      CJ_TRY(bind(f, p + "ffn_down.weight", c.n_ff, c.n_embd, true, false, &L.w_down));
      continue;
    }
    const MoeConfig& e = c.moe;
    CJ_TRY(bind(f, p + "ffn_gate_inp.weight", c.n_embd, e.n_expert, true, false, &L.router));
    CJ_TRY(bind(f, p + "exp_probs_b.bias", e.n_expert, 1, false, true, &L.probs_bias));
    CJ_TRY(bind(f, p + "ffn_gate_exps.weight", c.n_embd, e.n_ff_exp, true, false, &L.gate_exps, e.n_expert));
    CJ_TRY(bind(f, p + "ffn_up_exps.weight", c.n_embd, e.n_ff_exp, true, false, &L.up_exps, e.n_expert));
    CJ_TRY(bind(f, p + "ffn_down_exps.weight", e.n_ff_exp, c.n_embd, true, false, &L.down_exps, e.n_expert));
    if (e.n_expert_shared > 0) {
      const int64_t ffs = int64_t(e.n_ff_exp) * e.n_expert_shared;
      CJ_TRY(bind(f, p + "ffn_gate_shexp.weight", c.n_embd, ffs, true, false, &L.gate_shexp));
      CJ_TRY(bind(f, p + "ffn_up_shexp.weight", c.n_embd, ffs, true, false, &L.up_shexp));
      CJ_TRY(bind(f, p + "ffn_down_shexp.weight", ffs, c.n_embd, true, false, &L.down_shexp));
    }
  }
  auto vocab = gguf::read_vocab(f);
  if (vocab.ok()) {
    auto tok = Tokenizer::from_vocab(*vocab);
    if (tok.ok()) m->tok_ = std::move(tok.value());
    else m->tok_error_ = tok.error();
  } else {
    m->tok_error_ = vocab.error();
  }
  if (m->tok_ && m->tok_->vocab_size() > size_t(c.n_vocab))
    return make_error(path + ": the tokenizer has " + std::to_string(m->tok_->vocab_size()) +
                      " tokens but the model only " + std::to_string(c.n_vocab));
  return m;
}

Status Model::bind_mla(int l) {
  const ModelConfig& c = cfg_;
  const MlaConfig& a = c.mla;
  const gguf::File& f = file_;
  LayerWeights& L = layers[size_t(l)];
  const std::string p = "blk." + std::to_string(l) + ".";
  const int64_t H = c.n_heads, Dq = a.qk_nope + a.qk_rope;
  if (a.q_lora_rank > 0) {
    CJ_TRY(bind(f, p + "attn_q_a.weight", c.n_embd, a.q_lora_rank, true, false, &L.wq_a));
    CJ_TRY(bind(f, p + "attn_q_a_norm.weight", a.q_lora_rank, 1, true, true, &L.q_a_norm));
    CJ_TRY(bind(f, p + "attn_q_b.weight", a.q_lora_rank, H * Dq, true, false, &L.wq_b));
  } else {
    CJ_TRY(bind(f, p + "attn_q.weight", c.n_embd, H * Dq, true, false, &L.wq));
  }
  CJ_TRY(bind(f, p + "attn_kv_a_mqa.weight", c.n_embd, a.kv_lora_rank + a.qk_rope, true, false, &L.wkv_a));
  CJ_TRY(bind(f, p + "attn_kv_a_norm.weight", a.kv_lora_rank, 1, true, true, &L.kv_a_norm));
  CJ_TRY(bind(f, p + "attn_output.weight", H * a.v_head, c.n_embd, true, false, &L.wo));
  if (a.split_kv_b) {
    CJ_TRY(bind(f, p + "attn_k_b.weight", a.qk_nope, a.kv_lora_rank, true, false, &L.wk_b, H));
    CJ_TRY(bind(f, p + "attn_v_b.weight", a.kv_lora_rank, a.v_head, true, false, &L.wv_b, H));
    return {};
  }
  // An older file: attn_kv_b [H * (qk_nope + v_head), kv_lora] holds, per head, the key rows then the value rows.
  // The absorbed form needs the key part transposed ([kv_lora, qk_nope] per head, as attn_k_b): both parts are
  // derived here once, in f32.
  WeightView kvb;
  CJ_TRY(bind(f, p + "attn_kv_b.weight", a.kv_lora_rank, H * (a.qk_nope + a.v_head), true, false, &kvb));
  const int R = a.kv_lora_rank, N = a.qk_nope, V = a.v_head;
  std::vector<float> kb(size_t(H) * R * N), vb(size_t(H) * V * R), row(static_cast<size_t>(R));
  for (int64_t h = 0; h < H; ++h)
    for (int i = 0; i < N + V; ++i) {
      dequantize_row(kvb.type, kvb.row(h * (N + V) + i), row.data(), R);
      if (i < N) {
        for (int r = 0; r < R; ++r) kb[(size_t(h) * R + size_t(r)) * N + size_t(i)] = row[size_t(r)];
      } else {
        std::copy(row.begin(), row.end(), vb.begin() + (long(h) * V + (i - N)) * R);
      }
    }
  owned_.push_back(std::move(kb));
  L.wk_b = WeightView{DType::F32, owned_.back().data(), R, N, H};
  owned_.push_back(std::move(vb));
  L.wv_b = WeightView{DType::F32, owned_.back().data(), V, R, H};
  return {};
}

namespace {
// Bytes of the weights of one layer a token reads; experts: n_used of n_expert (or all with n_used < 0).
size_t layer_bytes(const LayerWeights& L, int n_used, int n_expert) {
  size_t b = 0;
  for (const WeightView* w : {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.bq, &L.bk, &L.bv, &L.q_norm, &L.k_norm, &L.wo,
                              &L.ffn_norm, &L.w_gate, &L.w_up, &L.w_down, &L.router, &L.probs_bias, &L.gate_shexp,
                              &L.up_shexp, &L.down_shexp, &L.wq_a, &L.q_a_norm, &L.wq_b, &L.wkv_a, &L.kv_a_norm,
                              &L.wk_b, &L.wv_b})
    b += w->bytes();
  for (const WeightView* w : {&L.gate_exps, &L.up_exps, &L.down_exps})
    b += n_used < 0 || n_expert <= 0 ? w->bytes() : w->mat_bytes() * size_t(n_used);
  return b;
}
}  // namespace

size_t Model::weight_bytes_per_token() const {
  size_t b = token_embd.bytes() / size_t(cfg_.n_vocab) + output_norm.bytes() + output.bytes();
  for (const auto& L : layers) b += layer_bytes(L, cfg_.moe.n_expert_used, cfg_.moe.n_expert);
  return b;
}

size_t Model::weight_bytes_total() const {
  size_t b = token_embd.bytes() + output_norm.bytes() + (cfg_.tied_output ? 0 : output.bytes());
  for (const auto& L : layers) b += layer_bytes(L, -1, 0);
  return b;
}

std::string Model::describe() const {
  const ModelConfig& c = cfg_;
  std::map<std::string, int> types;
  for (const auto& t : file_.tensors()) types[dtype_traits(t.type).name]++;
  std::string ts;
  for (auto& [k, v] : types) ts += (ts.empty() ? "" : ",") + k + "x" + std::to_string(v);
  return std::string(arch_name(c.arch)) + " layers=" + std::to_string(c.n_layers) + " embd=" + std::to_string(c.n_embd) +
         " heads=" + std::to_string(c.n_heads) + "/" + std::to_string(c.n_kv_heads) + " head_dim=" +
         std::to_string(c.head_dim) + " ff=" + std::to_string(c.n_ff) +
         (c.moe.active() ? " experts=" + std::to_string(c.moe.n_expert_used) + "/" + std::to_string(c.moe.n_expert) +
                               " expert_ff=" + std::to_string(c.moe.n_ff_exp) +
                               (c.moe.n_expert_shared ? " shared=" + std::to_string(c.moe.n_expert_shared) : "") +
                               (c.moe.n_dense_lead ? " dense_lead=" + std::to_string(c.moe.n_dense_lead) : "")
                         : "") +
         (c.mla.active() ? " mla=" + std::to_string(c.mla.kv_lora_rank) + "+" + std::to_string(c.mla.qk_rope) +
                               (c.mla.q_lora_rank ? " q_lora=" + std::to_string(c.mla.q_lora_rank) : "")
                         : "") +
         " vocab=" + std::to_string(c.n_vocab) + (c.tied_output ? " tied" : "") + " tensors=" + ts;
}

uint64_t model_fingerprint(const Model& m) {
  const gguf::File& f = m.file();
  const ModelConfig& c = m.config();
  const int shape[] = {c.n_layers, c.n_embd, c.n_heads, c.n_kv_heads, c.head_dim, c.head_dim_v, c.n_ff, c.n_vocab};
  uint64_t h = hash_bytes(shape, sizeof shape, uint64_t(f.file_size()));
  for (const gguf::TensorInfo& t : f.tensors()) {
    h = hash_bytes(t.name.data(), t.name.size(), h);
    h = hash_bytes(f.tensor_data(t), std::min<size_t>(t.bytes, 256), h ^ uint64_t(t.type));
    if (t.bytes > 256) h = hash_bytes(f.tensor_data(t) + t.bytes - 256, 256, h);
  }
  return h;
}

}  // namespace cj
