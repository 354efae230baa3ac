// The CPU forward pass against the independent numpy reference (tests/reference/ref_forward.py), and the
// backend's own consistency: prefill vs. token-by-token decode, batch chunking, threads, f16 KV cache.
#include "engine_test_util.h"

namespace cj::test {
namespace {

MakeModelSpec tiny(Arch a) {
  MakeModelSpec s;
  s.arch = a;
  s.n_layers = 2;
  s.n_embd = 64;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.n_ff = 96;
  s.n_vocab = 300;
  s.seed = 11 + int(a);
  s.freq_base = a == Arch::Llama ? 10000.0f : 1000000.0f;
  return s;
}

EngineOptions f32_opts(int threads = 1, int n_batch = 256, int n_ctx = 512) {
  EngineOptions o;
  o.n_threads = threads;
  o.n_ctx = n_ctx;
  o.n_batch = n_batch;
  o.kv_type = KVType::F32;
  return o;
}

void check_against_reference(const std::string& name, const MakeModelSpec& s, int n_tokens, double tol) {
  std::string path = make_tiny(name, s);
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab;
  auto toks = some_tokens(n_tokens, V);
  auto ref = reference_logits(path, toks, V);
  ASSERT_FALSE(ref.empty());
  auto got = engine_logits(**m, toks, f32_opts());
  double err = max_row_rel_err(got, ref, V);
  EXPECT_LE(err, tol) << name;
  std::printf("%s: max relative error %.3g over %d positions\n", name.c_str(), err, n_tokens);
}

TEST(Forward, LlamaF32MatchesReference) { check_against_reference("llama_f32", tiny(Arch::Llama), 9, 1e-4); }

TEST(Forward, Qwen2F32MatchesReference) {
  auto s = tiny(Arch::Qwen2);
  s.tied = false;
  check_against_reference("qwen2_f32", s, 9, 1e-4);
}

TEST(Forward, Qwen3F32MatchesReference) {
  auto s = tiny(Arch::Qwen3);
  s.head_dim = 32;  // head_dim != embd / heads, from attention.key_length
  check_against_reference("qwen3_f32", s, 9, 1e-4);
}

MakeModelSpec tiny_moe() {
  auto s = tiny(Arch::Qwen3Moe);
  s.head_dim = 32;
  s.n_expert = 8;
  s.n_expert_used = 3;
  s.n_ff_exp = 48;
  return s;
}

TEST(Forward, Qwen3MoeF32MatchesReference) {
  // Prefill of 9 tokens: the rows are grouped by expert (several rows per expert) and each expert's products run
  // on exactly its rows; the reference runs every token through its own top-k experts one by one.
  check_against_reference("qwen3moe_f32", tiny_moe(), 9, 1e-4);
}

TEST(Forward, Qwen3MoeLeadingDenseBlockMatchesReference) {
  auto s = tiny_moe();
  s.n_layers = 3;
  s.n_dense_lead = 1;
  s.n_expert_used = 1;
  s.tied = false;
  check_against_reference("qwen3moe_dense_lead", s, 9, 1e-4);
}

TEST(Forward, Qwen3MoeQuantizedMatchesDequantizedReference) {
  auto s = tiny_moe();
  s.n_embd = 256;
  s.n_ff_exp = 256;
  s.n_layers = 1;
  // The quantized attention moves the router's input by ~1%, which can swap two experts whose probabilities nearly
  // tie (then that position differs by ~15%, as it does for one of these 8 with q4_k): every position but one must
  // be within the kernels' error, and none may be wrong (a broken kernel or expert offset gives errors ~1).
  for (const char* t : {"q8_0", "q4_k", "f16"}) {
    ASSERT_TRUE(dtype_from_name(t, &s.type));
    std::string path = make_tiny(std::string("qwen3moe_") + t, s);
    auto m = Model::load(path);
    ASSERT_TRUE(m.ok()) << m.error();
    const int V = (*m)->config().n_vocab;
    auto toks = some_tokens(8, V);
    auto ref = reference_logits(path, toks, V);
    ASSERT_FALSE(ref.empty());
    auto got = engine_logits(**m, toks, f32_opts());
    int over = 0;
    for (size_t r = 0; r < toks.size(); ++r) {
      const double e = rel_err(got.data() + r * V, ref.data() + r * V, V);
      EXPECT_LE(e, 0.3) << t << " position " << r;
      over += e > (s.type == DType::F16 ? 1e-5 : 3e-2);
    }
    EXPECT_LE(over, 1) << t;
  }
}

TEST(Forward, Qwen3MoeDecodeEqualsPrefill) {
  // Token-by-token decode (one row: the experts read straight from the input, fused dispatch) against one prefill
  // (rows grouped by expert), 2 threads.
  std::string path = make_tiny("qwen3moe_decode", tiny_moe());
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab;
  auto toks = some_tokens(40, V, 7);
  auto all = engine_logits(**m, toks, f32_opts(1, 256, 512));
  auto be = open_sequence(**m, f32_opts(2, 5, 512));
  ASSERT_TRUE(be.ok());
  std::vector<float> one(static_cast<size_t>(V));
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE((*be)->eval(&toks[size_t(i)], 1, one.data(), 1).ok());
    EXPECT_LE(rel_err(one.data(), all.data() + size_t(i) * V, V), 1e-5) << "position " << i;
  }
}

TEST(Forward, Qwen3MoeBytesPerTokenCountActiveExperts) {
  auto s = tiny_moe();
  std::string path = make_tiny("qwen3moe_bytes", s);
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  const size_t expert = size_t(3) * s.n_embd * s.n_ff_exp * 4;  // gate, up, down of one f32 expert
  // Every expert stored, n_used of them read per token. Tied output: the total counts token_embd once, a token
  // reads all of it (logits) plus its own embedding row.
  const int64_t diff = int64_t((*m)->weight_bytes_total()) - int64_t((*m)->weight_bytes_per_token());
  EXPECT_EQ(diff, int64_t(s.n_layers) * (s.n_expert - s.n_expert_used) * int64_t(expert) - int64_t(s.n_embd) * 4);
}

MakeModelSpec tiny_deepseek2() {
  auto s = tiny(Arch::Deepseek2);
  s.freq_base = 10000;
  s.n_layers = 3;
  s.n_dense_lead = 1;
  s.n_heads = 4;
  s.n_expert = 8;
  s.n_expert_used = 2;
  s.n_ff_exp = 32;
  s.n_expert_shared = 1;
  s.q_lora_rank = 48;
  s.kv_lora_rank = 32;
  s.qk_nope = 16;
  s.qk_rope = 8;
  s.v_head = 24;
  return s;
}

// One decode token with a pool runs each active expert (gate, up, silu, down) as one task of one dispatch, the
// shared experts as one more (first when they are the widest): the same logits as 1-thread decode (grouped path)
// and as prefill. deepseek2 with two shared experts (wider than a routed one) in f32; qwen3moe in q4_k (the
// decode kernels on prepared inputs).
TEST(Forward, MoeOneDispatchDecodeMatchesGroupedPath) {
  auto ds = tiny_deepseek2();
  ds.n_expert_shared = 2;
  auto qm = tiny_moe();
  qm.n_embd = 256;
  qm.n_ff_exp = 256;
  qm.n_layers = 2;
  ASSERT_TRUE(dtype_from_name("q4_k", &qm.type));
  for (const auto& [name, spec] : {std::pair<const char*, MakeModelSpec>{"moe1d_deepseek2", ds},
                                   std::pair<const char*, MakeModelSpec>{"moe1d_qwen3moe_q4k", qm}}) {
    auto m = Model::load(make_tiny(name, spec));
    ASSERT_TRUE(m.ok()) << m.error();
    const int V = (*m)->config().n_vocab;
    const auto toks = some_tokens(12, V, 31);
    std::vector<float> logits[2];
    for (int threads : {1, 2}) {
      auto be = open_sequence(**m, f32_opts(threads, 16, 64));
      ASSERT_TRUE(be.ok());
      logits[threads - 1].resize(toks.size() * size_t(V));
      for (size_t i = 0; i < toks.size(); ++i)
        ASSERT_TRUE((*be)->eval(&toks[i], 1, logits[threads - 1].data() + i * size_t(V), 1).ok());
    }
    EXPECT_LE(max_row_rel_err(logits[1], logits[0], V), 1e-5) << name;
    if (spec.type == DType::F32) {
      auto all = engine_logits(**m, toks, f32_opts(1, 256, 64));
      EXPECT_LE(max_row_rel_err(logits[1], all, V), 1e-5) << name;
    }
  }
}

TEST(Forward, Deepseek2F32MatchesReference) {
  // Latent attention in the absorbed form against the reference's decompressed per-head keys and values; a dense
  // leading block, softmax routing without renormalisation, one shared expert.
  check_against_reference("deepseek2_f32", tiny_deepseek2(), 9, 1e-4);
}

TEST(Forward, Deepseek2SigmoidGatingMatchesReference) {
  auto s = tiny_deepseek2();
  s.sigmoid_gating = true;  // with the selection bias exp_probs_b
  s.expert_weights_norm = true;
  s.expert_weights_scale = 2.5f;
  s.n_expert_shared = 2;
  s.tied = false;
  s.q_lora_rank = 0;  // attn_q directly, as DeepSeek-V2-Lite
  check_against_reference("deepseek2_sigmoid", s, 9, 1e-4);
}

TEST(Forward, Deepseek2DecodeEqualsPrefillOverTwoBlocks) {
  // 300 positions: the latent rows cross a KV page; decode splits the keys across 2 threads.
  auto s = tiny_deepseek2();
  s.n_layers = 2;
  std::string path = make_tiny("deepseek2_decode", s);
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab;
  auto toks = some_tokens(300, V, 9);
  auto all = engine_logits(**m, toks, f32_opts(1, 256, 512));
  auto be = open_sequence(**m, f32_opts(2, 64, 512));
  ASSERT_TRUE(be.ok());
  std::vector<float> out(size_t(V) * 4);
  ASSERT_TRUE((*be)->eval(toks.data(), 280, out.data(), 4).ok());
  std::vector<float> one(static_cast<size_t>(V));
  for (int i = 280; i < 300; ++i) {
    ASSERT_TRUE((*be)->eval(&toks[size_t(i)], 1, one.data(), 1).ok());
    EXPECT_LE(rel_err(one.data(), all.data() + size_t(i) * V, V), 1e-5) << "position " << i;
  }
}

TEST(Forward, Deepseek2CachesOneLatentRowPerTokenAndLayer) {
  auto s = tiny_deepseek2();
  std::string path = make_tiny("deepseek2_kv", s);
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  for (KVType t : {KVType::F32, KVType::F16}) {
    auto L = KVLayout::make((*m)->config(), t);
    ASSERT_TRUE(L.ok()) << L.error();
    const size_t el = t == KVType::F32 ? 4 : 2;
    EXPECT_EQ(L->token_bytes(), size_t(s.kv_lora_rank + s.qk_rope) * el * size_t(s.n_layers));
  }
}

TEST(Forward, YarnMatchesReference) {
  auto s = tiny(Arch::Qwen2);
  s.rope_scaling = "yarn";
  s.rope_factor = 4;
  s.rope_orig_ctx = 64;
  s.freq_base = 10000;
  check_against_reference("qwen2_yarn", s, 9, 1e-4);
}

TEST(Forward, RopeFreqFactorsMatchReference) {
  auto s = tiny(Arch::Llama);
  s.rope_freqs = true;
  check_against_reference("llama_rope_freqs", s, 9, 1e-4);
}

TEST(Forward, LongerThanOneKvBlockMatchesReference) {
  auto s = tiny(Arch::Qwen2);
  s.n_layers = 1;
  check_against_reference("qwen2_long", s, 300, 1e-4);
}

struct QuantCase {
  const char* type;
  double tol;
};

class ForwardQuant : public ::testing::TestWithParam<QuantCase> {};

// Quantized weights: the engine (quantized kernels, possibly on quantized activations) against the reference on
// the same weights dequantized to float64: the only difference is the kernels' arithmetic. f16/bf16 run on f32
// activations (errors ~1e-7); the 4/6/8-bit types multiply 8-bit-quantized activations (per 32 values), which
// costs ~0.5% per dot product and ~2% on the logits of this 2-layer model; a wrong kernel gives errors ~1.
TEST_P(ForwardQuant, MatchesDequantizedReference) {
  auto s = tiny(Arch::Qwen2);
  s.n_embd = 256;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.n_ff = 512;
  ASSERT_TRUE(dtype_from_name(GetParam().type, &s.type));
  check_against_reference(std::string("qwen2_") + GetParam().type, s, 6, GetParam().tol);
}

INSTANTIATE_TEST_SUITE_P(Types, ForwardQuant,
                         ::testing::Values(QuantCase{"f16", 1e-5}, QuantCase{"bf16", 1e-5}, QuantCase{"q8_0", 3e-2},
                                           QuantCase{"q4_0", 4e-2}, QuantCase{"q4_k", 4e-2}, QuantCase{"q6_k", 3e-2}),
                         [](const auto& info) { return std::string(info.param.type); });

TEST(Forward, DecodeEqualsPrefillAndChunking) {
  std::string path = make_tiny("decode_eq", tiny(Arch::Qwen3));
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab;
  auto toks = some_tokens(270, V, 3);
  auto all = engine_logits(**m, toks, f32_opts(1, 256, 512));
  // Small prefill chunks (n_batch 7), then token-by-token decode over the KV block boundary at 256, 2 threads.
  auto be = open_sequence(**m, f32_opts(2, 7, 512));
  ASSERT_TRUE(be.ok());
  std::vector<float> out(size_t(V) * 20);
  ASSERT_TRUE((*be)->eval(toks.data(), 250, out.data(), 20).ok());
  EXPECT_LE(max_row_rel_err(out, std::vector<float>(all.begin() + size_t(230) * V, all.begin() + size_t(250) * V), V),
            1e-5);
  std::vector<float> one(static_cast<size_t>(V));
  for (int i = 250; i < 270; ++i) {
    ASSERT_TRUE((*be)->eval(&toks[i], 1, one.data(), 1).ok());
    EXPECT_LE(rel_err(one.data(), all.data() + size_t(i) * V, V), 1e-5) << "position " << i;
  }
  EXPECT_EQ((*be)->n_past(), 270);
  // Truncate and re-run the tail: same logits.
  (*be)->truncate(260);
  ASSERT_TRUE((*be)->eval(&toks[260], 10, out.data(), 10).ok());
  std::vector<float> tail(out.begin(), out.begin() + size_t(10) * V);
  EXPECT_LE(max_row_rel_err(tail, std::vector<float>(all.begin() + size_t(260) * V, all.end()), V), 1e-5);
}

TEST(Forward, F16CacheIsClose) {
  std::string path = make_tiny("f16kv", tiny(Arch::Llama));
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = (*m)->config().n_vocab;
  auto toks = some_tokens(40, V, 5);
  auto a = engine_logits(**m, toks, f32_opts());
  auto o = f32_opts();
  o.kv_type = KVType::F16;
  auto b = engine_logits(**m, toks, o);
  double err = max_row_rel_err(b, a, V);
  EXPECT_LE(err, 5e-3);
  EXPECT_GT(err, 0.0);  // it really stored halves
}

TEST(Forward, ErrorsAreReported) {
  std::string path = make_tiny("errs", tiny(Arch::Llama));
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  auto be = open_sequence(**m, f32_opts(1, 16, 8));
  ASSERT_TRUE(be.ok());
  std::vector<float> out(static_cast<size_t>((*m)->config().n_vocab));
  auto toks = some_tokens(9, (*m)->config().n_vocab);
  Status s = (*be)->eval(toks.data(), 9, out.data(), 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error().find("context"), std::string::npos);
  EXPECT_EQ((*be)->n_past(), 0);
  TokenId bad = 100000;
  EXPECT_FALSE((*be)->eval(&bad, 1, out.data(), 1).ok());
  EXPECT_FALSE(Model::load(temp_path("does_not_exist.gguf")).ok());
}

}  // namespace
}  // namespace cj::test

namespace cj::test {
namespace {

// Writes a copy of a model with every tensor dequantized to f32 (scalar metadata only: no tokenizer).
std::string f32_twin(const std::string& path) {
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok());
  gguf::Writer w;
  for (const auto& [k, v] : f->metadata()) {
    switch (v.type) {
      case gguf::ValueType::STRING: w.set_string(k, v.s); break;
      case gguf::ValueType::UINT32: w.set_u32(k, uint32_t(v.i)); break;
      case gguf::ValueType::INT32: w.set_i32(k, int32_t(v.i)); break;
      case gguf::ValueType::FLOAT32: w.set_f32(k, float(v.f)); break;
      default: break;
    }
  }
  for (const auto& t : f->tensors()) {
    std::vector<float> x(static_cast<size_t>(t.n_elements()));
    const int64_t cols = t.dims[0];
    for (int64_t r = 0; r < t.rows(); ++r)
      dequantize_row(t.type, f->tensor_data(t) + size_t(r) * row_bytes(t.type, cols), x.data() + r * cols, cols);
    w.add_tensor(t.name, DType::F32, t.dims, x.data());
  }
  std::string out = path + ".f32twin.gguf";
  EXPECT_TRUE(w.write(out).ok());
  return out;
}

// The engine on a quantized model against the engine on its dequantized-f32 twin.
TEST(Forward, QuantizedMatchesItsF32Twin) {
  for (const char* type : {"q8_0", "q4_k"}) {
    MakeModelSpec s;
    s.arch = Arch::Qwen3;
    s.n_layers = 2;
    s.n_embd = 256;
    s.n_heads = 4;
    s.n_kv_heads = 2;
    s.n_ff = 512;
    s.n_vocab = 300;
    ASSERT_TRUE(dtype_from_name(type, &s.type));
    std::string q = make_tiny(std::string("twin_") + type, s);
    std::string f = f32_twin(q);
    auto mq = Model::load(q);
    auto mf = Model::load(f);
    ASSERT_TRUE(mq.ok() && mf.ok());
    auto toks = some_tokens(12, 300, 23);
    EngineOptions o;
    o.kv_type = KVType::F32;
    o.n_ctx = 64;
    auto a = engine_logits(**mq, toks, o);
    auto b = engine_logits(**mf, toks, o);
    double err = max_row_rel_err(a, b, 300);
    EXPECT_LE(err, 4e-2) << type;
    EXPECT_GT(err, 0.0) << type;  // the quantized path really ran
  }
}

// Decode of a quantized model through the fused q/k/v and gate/up dispatch (2 threads: input prepared once per
// weight type, row slices of several matrices per task) against the plain per-matrix decode (1 thread).
TEST(Forward, QuantizedFusedDecodeMatchesSingleThread) {
  for (const char* type : {"q8_0", "q4_0", "q4_k"}) {
    MakeModelSpec s;
    s.arch = Arch::Qwen2;
    s.n_layers = 2;
    s.n_embd = 256;
    s.n_heads = 4;
    s.n_kv_heads = 2;
    s.n_ff = 512;
    s.n_vocab = 300;
    ASSERT_TRUE(dtype_from_name(type, &s.type));
    auto m = Model::load(make_tiny(std::string("fused_") + type, s));
    ASSERT_TRUE(m.ok()) << m.error();
    const auto toks = some_tokens(10, 300, 29);
    std::vector<float> logits[2];
    for (int threads : {1, 2}) {
      auto be = open_sequence(**m, f32_opts(threads, 16, 64));
      ASSERT_TRUE(be.ok());
      logits[threads - 1].resize(toks.size() * 300);
      for (size_t i = 0; i < toks.size(); ++i)
        ASSERT_TRUE((*be)->eval(&toks[i], 1, logits[threads - 1].data() + i * 300, 1).ok());
    }
    EXPECT_LE(max_row_rel_err(logits[1], logits[0], 300), 1e-4) << type;
  }
}

}  // namespace
}  // namespace cj::test

namespace cj::test {
namespace {

// Older deepseek2 converters write one attn_kv_b [kv_lora -> H * (qk_nope + v_head)] (per head: the key rows, then
// the value rows) and the per-head sizes in key_length / value_length; the loader splits it into the absorbed
// form's attn_k_b / attn_v_b. The same weights written both ways give the same logits.
TEST(Forward, Deepseek2OlderKvBEqualsSplitKAndVB) {
  MakeModelSpec s = tiny_deepseek2();
  const std::string split = make_tiny("deepseek2_split", s);
  auto f = gguf::File::open(split);
  ASSERT_TRUE(f.ok()) << f.error();
  const int H = s.n_heads, R = s.kv_lora_rank, N = s.qk_nope, V = s.v_head;
  gguf::Writer w;
  for (const auto& [k, v] : f->metadata()) {
    if (k.find("length_mla") != std::string::npos || k == "deepseek2.attention.key_length" ||
        k == "deepseek2.attention.value_length" || k == "deepseek2.attention.head_count_kv")
      continue;
    switch (v.type) {
      case gguf::ValueType::STRING: w.set_string(k, v.s); break;
      case gguf::ValueType::UINT32: w.set_u32(k, uint32_t(v.i)); break;
      case gguf::ValueType::INT32: w.set_i32(k, int32_t(v.i)); break;
      case gguf::ValueType::FLOAT32: w.set_f32(k, float(v.f)); break;
      case gguf::ValueType::BOOL: w.set_bool(k, v.i != 0); break;
      default: break;
    }
  }
  w.set_u32("deepseek2.attention.key_length", uint32_t(N + s.qk_rope));
  w.set_u32("deepseek2.attention.value_length", uint32_t(V));
  w.set_u32("deepseek2.attention.head_count_kv", uint32_t(H));
  std::vector<std::vector<float>> keep;
  for (const auto& t : f->tensors()) {
    const auto* src = reinterpret_cast<const float*>(f->tensor_data(t));
    ASSERT_EQ(t.type, DType::F32);
    if (t.name.find("attn_v_b") != std::string::npos) continue;
    if (t.name.find("attn_k_b") == std::string::npos) {
      w.add_tensor(t.name, t.type, t.dims, src);
      continue;
    }
    const std::string p = t.name.substr(0, t.name.find("attn_k_b"));
    const auto* vt = f->find_tensor(p + "attn_v_b.weight");
    ASSERT_NE(vt, nullptr);
    const auto* vb = reinterpret_cast<const float*>(f->tensor_data(*vt));
    std::vector<float> kvb(size_t(H) * (N + V) * R);
    for (int h = 0; h < H; ++h) {
      for (int i = 0; i < N; ++i)
        for (int r = 0; r < R; ++r)  // attn_k_b[h] is [R rows, N cols]
          kvb[(size_t(h) * (N + V) + i) * R + r] = src[(size_t(h) * R + r) * N + i];
      for (int j = 0; j < V; ++j)
        for (int r = 0; r < R; ++r)  // attn_v_b[h] is [V rows, R cols]
          kvb[(size_t(h) * (N + V) + N + j) * R + r] = vb[(size_t(h) * V + j) * R + r];
    }
    keep.push_back(std::move(kvb));
    w.add_tensor(p + "attn_kv_b.weight", DType::F32, {R, int64_t(H) * (N + V)}, keep.back().data());
  }
  const std::string older = temp_path("deepseek2_kv_b.gguf");
  ASSERT_TRUE(w.write(older).ok());
  auto a = Model::load(split);
  auto b = Model::load(older);
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_TRUE((*a)->config().mla.split_kv_b);
  EXPECT_FALSE((*b)->config().mla.split_kv_b);
  const int NV = (*a)->config().n_vocab;
  auto toks = some_tokens(12, NV, 4);
  auto la = engine_logits(**a, toks, f32_opts());
  auto lb = engine_logits(**b, toks, f32_opts());
  EXPECT_LE(max_row_rel_err(lb, la, NV), 1e-5);
  // And the older file against the reference, which reads attn_kv_b itself.
  auto ref = reference_logits(older, toks, NV);
  ASSERT_FALSE(ref.empty());
  EXPECT_LE(max_row_rel_err(lb, ref, NV), 1e-4);
}

}  // namespace
}  // namespace cj::test

namespace cj::test {
namespace {

// The grouped expert products cut rows into items across threads and share each prepared (quantized) input row
// between experts: 2 threads give the single thread's logits for quantized MoE models, in prefill (rows grouped by
// expert, several rows per expert) and in decode (one row, the matrix-vector kernels; these quantize the input
// differently from the prefill kernels, so decode is compared with decode).
TEST(Forward, MoeQuantizedThreadsMatchOneThread) {
  for (Arch a : {Arch::Qwen3Moe, Arch::Deepseek2}) {
    MakeModelSpec s = a == Arch::Qwen3Moe ? tiny_moe() : tiny_deepseek2();
    s.n_embd = 256;
    s.n_ff = 256;
    s.n_ff_exp = 256;
    s.type = DType::Q4_K;
    std::string path = make_tiny(std::string("moe_threads_") + arch_name(a), s);
    auto m = Model::load(path);
    ASSERT_TRUE(m.ok()) << m.error();
    const int V = (*m)->config().n_vocab;
    auto toks = some_tokens(40, V, 12);
    std::vector<float> out[2];
    for (int t = 1; t <= 2; ++t) {
      auto be = open_sequence(**m, f32_opts(t, 64, 128));
      ASSERT_TRUE(be.ok());
      std::vector<float>& o = out[t - 1];
      o.assign(size_t(V) * 40, 0.0f);
      ASSERT_TRUE((*be)->eval(toks.data(), 36, o.data(), 36).ok());
      for (int i = 36; i < 40; ++i) ASSERT_TRUE((*be)->eval(&toks[size_t(i)], 1, o.data() + size_t(i) * V, 1).ok());
    }
    for (int i = 0; i < 40; ++i)
      EXPECT_LE(rel_err(out[1].data() + size_t(i) * V, out[0].data() + size_t(i) * V, V), 1e-5)
          << arch_name(a) << " position " << i;
  }
}

}  // namespace
}  // namespace cj::test
