// Mixture-of-experts pieces on their own: routing (top-k, renormalisation, scale, sigmoid with a selection bias,
// group limits), the per-tensor placement rule for accelerator backends, batched sequences on a MoE model, and the
// loader's refusals.
#include "engine/cpu/forward_moe.h"
#include "engine/model/placement.h"
#include "engine_test_util.h"

namespace cj::test {
namespace {

MoeRecipe recipe(int n_expert, int n_used) {
  MoeRecipe m;
  m.n_expert = n_expert;
  m.n_used = n_used;
  return m;
}

TEST(MoeRoute, SoftmaxTopKRenormalised) {
  MoeRecipe m = recipe(4, 2);
  m.norm_weights = true;
  float p[4] = {1.0f, 3.0f, 2.0f, 0.0f};
  int32_t e[2];
  float w[2];
  moe_route(m, p, nullptr, e, w);
  EXPECT_EQ(e[0], 1);
  EXPECT_EQ(e[1], 2);
  const double a = std::exp(3.0), b = std::exp(2.0);
  EXPECT_NEAR(w[0], a / (a + b), 1e-6);
  EXPECT_NEAR(w[1], b / (a + b), 1e-6);
}

TEST(MoeRoute, SoftmaxWithoutRenormalisationKeepsProbabilitiesTimesScale) {
  MoeRecipe m = recipe(3, 1);
  m.weights_scale = 2.0f;
  float p[3] = {0.0f, 0.0f, std::log(2.0f)};  // probabilities 1/4, 1/4, 1/2
  int32_t e[1];
  float w[1];
  moe_route(m, p, nullptr, e, w);
  EXPECT_EQ(e[0], 2);
  EXPECT_NEAR(w[0], 1.0, 1e-6);
}

TEST(MoeRoute, SigmoidBiasSelectsButDoesNotWeigh) {
  MoeRecipe m = recipe(3, 1);
  m.gating = ExpertGating::Sigmoid;
  float p[3] = {2.0f, 0.0f, 1.0f};
  const float bias[3] = {0.0f, 0.0f, 0.5f};  // expert 2: sigmoid(1) + 0.5 > sigmoid(2)
  int32_t e[1];
  float w[1];
  moe_route(m, p, bias, e, w);
  EXPECT_EQ(e[0], 2);
  EXPECT_NEAR(w[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
}

TEST(MoeRoute, GroupLimitKeepsTheBestGroups) {
  MoeRecipe m = recipe(8, 2);
  m.n_group = 4;  // groups {0,1} {2,3} {4,5} {6,7}
  m.n_group_used = 1;
  m.gating = ExpertGating::Sigmoid;
  // Expert 0 has the single best score, but group {4,5} has the best two-expert sum.
  float p[8] = {5.0f, -5.0f, 0.0f, 0.0f, 3.0f, 3.0f, -1.0f, -1.0f};
  int32_t e[2];
  float w[2];
  moe_route(m, p, nullptr, e, w);
  EXPECT_EQ(std::min(e[0], e[1]), 4);
  EXPECT_EQ(std::max(e[0], e[1]), 5);
}

TEST(Placement, DefaultPutsRoutedExpertsInHostRam) {
  auto rules = parse_placement(kDefaultPlacement);
  ASSERT_TRUE(rules.ok()) << rules.error();
  for (const char* host : {"blk.3.ffn_gate_exps.weight", "blk.0.ffn_up_exps.weight", "blk.9.ffn_down_exps.weight"})
    EXPECT_EQ(resolve_placement(*rules, host), Placement::Host) << host;
  for (const char* dev : {"blk.3.ffn_gate_inp.weight", "blk.3.ffn_up_shexp.weight", "blk.3.attn_kv_a_mqa.weight",
                          "blk.3.attn_k_b.weight", "token_embd.weight", "output.weight", "blk.0.ffn_gate.weight",
                          "blk.1.exp_probs_b.bias"})
    EXPECT_EQ(resolve_placement(*rules, dev), Placement::Device) << dev;
}

TEST(Placement, FirstMatchWinsAndGlobsMatch) {
  auto rules = parse_placement("blk.0.*=device,*_exps.*=host,output.weight=host");
  ASSERT_TRUE(rules.ok()) << rules.error();
  EXPECT_EQ(resolve_placement(*rules, "blk.0.ffn_up_exps.weight"), Placement::Device);
  EXPECT_EQ(resolve_placement(*rules, "blk.10.ffn_up_exps.weight"), Placement::Host);
  EXPECT_EQ(resolve_placement(*rules, "output.weight"), Placement::Host);
  EXPECT_EQ(resolve_placement(*rules, "output_norm.weight"), Placement::Device);  // unmatched: device
  EXPECT_TRUE(glob_match("blk.?.attn_*", "blk.7.attn_q.weight"));
  EXPECT_FALSE(glob_match("blk.?.attn_*", "blk.17.attn_q.weight"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("a*b*c", std::string(2000, 'a') + "b"));  // bounded work on a long non-match
}

TEST(Placement, BadRulesAreRefused) {
  for (const char* bad : {"*_exps", "=host", "*=gpu", "a=host,,b=device"}) {
    auto r = parse_placement(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(Placement, BytesSplitOnADeepseek2Model) {
  MakeModelSpec s;
  s.arch = Arch::Deepseek2;
  s.n_layers = 2;
  s.n_dense_lead = 1;
  s.n_embd = 64;
  s.n_heads = 2;
  s.n_ff = 64;
  s.n_vocab = 100;
  s.n_expert = 4;
  s.n_expert_used = 2;
  s.n_ff_exp = 32;
  std::string path = make_tiny("placement_ds2", s);
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  auto rules = parse_placement(kDefaultPlacement);
  ASSERT_TRUE(rules.ok());
  PlacementBytes b = placement_bytes(**m, *rules);
  EXPECT_EQ(b.host, size_t(3) * 4 * 64 * 32 * 4);  // one MoE block: gate, up, down of 4 f32 experts
  EXPECT_EQ(b.host + b.device, (*m)->weight_bytes_total());
  // The engine checks the rule when it is made.
  EngineOptions o;
  o.placement = "*=nowhere";
  auto seq = open_sequence(**m, o);
  ASSERT_FALSE(seq.ok());
  EXPECT_NE(seq.error().find("nowhere"), std::string::npos);
}

TEST(MoeLoad, BadExpertMetadataIsRefused) {
  MakeModelSpec s;
  s.arch = Arch::Qwen3Moe;
  s.n_vocab = 100;
  s.n_expert = 4;
  s.n_expert_used = 4;
  std::string path = make_tiny("moe_all_used", s);
  ASSERT_TRUE(Model::load(path).ok());
  s.n_expert_used = 5;
  EXPECT_FALSE(make_model(s, temp_path("moe_too_many.gguf")).ok());  // the writer refuses it too
}

void check_eight_batched_equal_separate(const MakeModelSpec& s, const std::string& name) {
  std::string path = make_tiny(name, s);
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.error();
  const int V = 200;
  EngineOptions o;
  o.n_threads = 2;
  o.n_ctx = 64;
  o.kv_type = KVType::F32;
  o.max_sequences = 8;
  auto eng = Engine::create(**m, o);
  ASSERT_TRUE(eng.ok()) << eng.error();
  std::vector<std::unique_ptr<Sequence>> seqs;
  std::vector<std::vector<TokenId>> toks;
  for (int i = 0; i < 8; ++i) {
    auto q = (*eng)->new_sequence();
    ASSERT_TRUE(q.ok()) << q.error();
    seqs.push_back(std::move(*q));
    toks.push_back(some_tokens(6, V, 100 + i));
    std::vector<float> lg(V);
    ASSERT_TRUE(seqs.back()->eval(toks.back().data(), 5, lg.data(), 1).ok());
  }
  std::vector<SeqTokens> batch(8);
  std::vector<float> out(size_t(8) * V);
  for (int i = 0; i < 8; ++i) {
    batch[size_t(i)].seq = seqs[size_t(i)].get();
    batch[size_t(i)].tokens = &toks[size_t(i)][5];
    batch[size_t(i)].n = 1;
    batch[size_t(i)].n_logits = 1;
    batch[size_t(i)].logits = out.data() + size_t(i) * V;
  }
  ASSERT_TRUE((*eng)->eval(batch.data(), 8).ok());
  for (int i = 0; i < 8; ++i) {
    EngineOptions one;
    one.n_ctx = 64;
    one.kv_type = KVType::F32;
    auto alone = engine_logits(**m, toks[size_t(i)], one);
    EXPECT_LE(rel_err(out.data() + size_t(i) * V, alone.data() + size_t(5) * V, V), 1e-5) << name << " sequence " << i;
  }
}

TEST(MoeBatch, EightSequencesBatchedEqualSeparateRuns) {
  // The batch routes the 8 sequences' decode rows together (one task per active expert, on the rows routed to it;
  // the shared experts one more): the logits equal those of each sequence run alone.
  MakeModelSpec s;
  s.arch = Arch::Qwen3Moe;
  s.n_layers = 2;
  s.n_embd = 64;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.n_vocab = 200;
  s.n_expert = 8;
  s.n_expert_used = 2;
  s.n_ff_exp = 32;
  check_eight_batched_equal_separate(s, "moe_batch8");
  s.arch = Arch::Deepseek2;
  s.n_layers = 3;
  s.n_dense_lead = 1;
  s.n_ff = 96;
  s.n_expert_shared = 2;
  s.q_lora_rank = 48;
  s.kv_lora_rank = 32;
  s.qk_nope = 16;
  s.qk_rope = 8;
  s.v_head = 24;
  s.freq_base = 10000;
  check_eight_batched_equal_separate(s, "moe_batch8_deepseek2");
}

}  // namespace
}  // namespace cj::test
