// The generation loop with a tiny model and a toy tokenizer: stop strings, end-of-generation tokens, UTF-8-safe
// streaming, cancellation from another thread, and the statistics.
#include <atomic>
#include <thread>

#include "engine/base/utf8.h"
#include "engine/generate.h"
#include "engine_test_util.h"

namespace cj::test {
namespace {

struct Fixture {
  std::unique_ptr<Model> model;
  std::unique_ptr<Sequence> be;
  ToyTokenizer tok;
  Fixture() {
    MakeModelSpec s;
    s.arch = Arch::Qwen2;
    s.n_layers = 1;
    s.n_embd = 32;
    s.n_heads = 2;
    s.n_kv_heads = 1;
    s.n_ff = 64;
    s.n_vocab = 64;
    auto m = Model::load(make_tiny("gen", s));
    EXPECT_TRUE(m.ok());
    model = std::move(m.value());
    EngineOptions o;
    o.n_ctx = 256;
    auto b = open_sequence(*model, o);
    EXPECT_TRUE(b.ok());
    be = std::move(b.value());
  }
};

GenerateParams sampling(int n) {
  GenerateParams p;
  p.n_predict = n;
  p.sampling.temperature = 1.5f;
  p.sampling.top_k = 0;
  p.sampling.top_p = 1;
  p.sampling.min_p = 0;
  p.sampling.seed = 9;
  p.stop_on_eog = false;
  return p;
}

std::string tokens_text(const ToyTokenizer& t, const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId i : ids) s += t.token_bytes(i);
  return s;
}

TEST(Generate, StreamsEverythingAndIsReproducible) {
  Fixture f;
  std::string a, b;
  auto st = generate(*f.be, f.tok, {1, 2, 3}, sampling(40), [&](std::string_view s) { a += s; });
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(st->gen_tokens, 40);
  EXPECT_EQ(st->stop_reason, "length");
  EXPECT_EQ(a, tokens_text(f.tok, st->tokens));
  EXPECT_EQ(st->prompt_tokens, 3);
  EXPECT_GT(st->ttft_ms, 0);
  EXPECT_GT(st->decode_tok_s, 0);
  f.be->truncate(0);
  auto st2 = generate(*f.be, f.tok, {1, 2, 3}, sampling(40), [&](std::string_view s) { b += s; });
  ASSERT_TRUE(st2.ok());
  EXPECT_EQ(a, b);
}

TEST(Generate, StopStringEndsTheOutputBeforeIt) {
  Fixture f;
  std::string full;
  auto st = generate(*f.be, f.tok, {4, 5}, sampling(60), [&](std::string_view s) { full += s; });
  ASSERT_TRUE(st.ok());
  // Pick a two-byte ASCII substring from the middle of the free run as the stop string.
  size_t at = std::string::npos;
  for (size_t i = 10; i + 1 < full.size(); ++i)
    if ((unsigned char)full[i] < 0x80 && (unsigned char)full[i + 1] < 0x80) {
      at = i;
      break;
    }
  ASSERT_NE(at, std::string::npos);
  std::string stop = full.substr(at, 2);
  f.be->truncate(0);
  auto p = sampling(60);
  p.stop = {stop};
  std::string got;
  auto st2 = generate(*f.be, f.tok, {4, 5}, p, [&](std::string_view s) { got += s; });
  ASSERT_TRUE(st2.ok());
  EXPECT_EQ(st2->stop_reason, "stop_string");
  EXPECT_EQ(got, full.substr(0, full.find(stop)));
}

TEST(Generate, PiecesAreWholeUtf8) {
  Fixture f;
  // A stop string that starts with multi-byte characters makes the filter hold text back and cut it again.
  std::vector<std::string> pieces;
  auto p = sampling(300);
  p.stop = {"卷长é卷长é卷"};
  auto st = generate(*f.be, f.tok, {7}, p, [&](std::string_view s) { pieces.emplace_back(s); });
  ASSERT_TRUE(st.ok());
  std::string joined;
  for (auto& piece : pieces) {
    EXPECT_TRUE(utf8::valid(piece)) << "a piece splits a character";
    joined += piece;
  }
  EXPECT_EQ(joined, tokens_text(f.tok, st->tokens));
  EXPECT_NE(joined.find("长"), std::string::npos);
}

TEST(Generate, EndOfGenerationStops) {
  Fixture f;
  auto p = sampling(200);
  p.stop_on_eog = true;
  p.sampling.temperature = 4.0f;  // flat enough that token 26 comes up
  auto st = generate(*f.be, f.tok, {1}, p, nullptr);
  ASSERT_TRUE(st.ok());
  for (TokenId t : st->tokens) EXPECT_NE(t, 26);
  if (st->gen_tokens < 200) {
    EXPECT_EQ(st->stop_reason, "eog");
  }
}

TEST(Generate, CancelFromAnotherThread) {
  Fixture f;
  std::atomic<bool> cancel{false}, started{false};
  std::thread t([&] {
    while (!started.load()) std::this_thread::yield();
    cancel.store(true);
  });
  // The callback waits until the other thread has raised the flag, so the loop must notice it on the next token.
  auto st = generate(*f.be, f.tok, {1}, sampling(200), [&](std::string_view) {
    started.store(true);
    while (!cancel.load()) std::this_thread::yield();
  }, &cancel);
  t.join();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->stop_reason, "cancelled");
  EXPECT_LT(st->gen_tokens, 200);
}

}  // namespace
}  // namespace cj::test
