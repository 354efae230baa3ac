// Sizes from options reach the engine checked (issue 20 item 14): a context size near INT_MAX is an error naming
// it, not an int overflow while the KV pool is sized (UBSan reported the same for KVCache before).
#include <climits>

#include "engine/engine.h"
#include "engine_test_util.h"

namespace cj::test {
namespace {

TEST(HostileEngine, ContextBeyondTheLimitIsAnErrorNotAnOverflow) {
  MakeModelSpec s;
  s.n_layers = 1;
  s.n_embd = 32;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.n_ff = 48;
  s.n_vocab = 64;
  auto m = Model::load(make_tiny("hostile_engine_ctx", s));
  ASSERT_TRUE(m.ok());
  for (int n_ctx : {INT_MAX, (1 << 24) + 1, 0}) {
    EngineOptions o;
    o.n_ctx = n_ctx;
    o.kv_type = KVType::F32;
    auto e = Engine::create(**m, o);
    ASSERT_FALSE(e.ok()) << n_ctx;
    EXPECT_NE(e.error().find("context size"), std::string::npos) << e.error();
  }
  EngineOptions ok;
  ok.n_ctx = 256;
  ok.kv_type = KVType::F32;
  EXPECT_TRUE(Engine::create(**m, ok).ok());
}

}  // namespace
}  // namespace cj::test
