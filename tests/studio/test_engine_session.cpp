// EngineSession: KV prefix reuse gives the same text as a fresh cache; cancel stops within one token.
#include <thread>

#include "studio/engine_session.h"
#include "tests/studio/studio_test_util.h"

namespace cj::studio {
namespace {

using testing::open_engine;

SessionRequest greedy(const std::string& prompt, int n) {
  SessionRequest r;
  r.prompt = prompt;
  r.max_tokens = n;
  r.temperature = 0;
  return r;
}

TEST(EngineSession, ValidateNamesTheSetting) {
  EngineSettings s;
  EXPECT_NE(validate(s).error().find("model"), std::string::npos);
  s.model_path = "/nonexistent/m.gguf";
  EXPECT_NE(validate(s).error().find("does not exist"), std::string::npos);
  s.model_path = testing::tiny_model();
  s.threads = 0;
  EXPECT_NE(validate(s).error().find("threads"), std::string::npos);
  s.threads = 1;
  s.ctx = 10;
  EXPECT_NE(validate(s).error().find("context"), std::string::npos);
  s.ctx = 512;
  EXPECT_TRUE(validate(s).ok());
}

TEST(EngineSession, PrefixReuseMatchesAFreshCache) {
  auto a = open_engine();
  auto b = open_engine();
  ASSERT_TRUE(a && b);
  const std::string base = "【前文】林黛玉进了荣国府，见过了贾母，又见了三位姑娘。";
  SessionStats s1, s2, s3;
  auto t1 = a->generate(greedy(base + "宝玉来了。", 24), {}, nullptr, &s1);
  ASSERT_TRUE(t1.ok()) << t1.error();
  EXPECT_EQ(s1.reused_tokens, 0);
  EXPECT_EQ(s1.gen_tokens, 24);
  // A second prompt sharing the prefix: only the rest is prefilled, and the text equals a fresh session's.
  auto t2 = a->generate(greedy(base + "凤姐笑道。", 24), {}, nullptr, &s2);
  ASSERT_TRUE(t2.ok());
  EXPECT_GT(s2.reused_tokens, s2.prompt_tokens / 2);
  EXPECT_LT(s2.reused_tokens, s2.prompt_tokens);
  auto fresh = b->generate(greedy(base + "凤姐笑道。", 24), {}, nullptr, &s3);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(s3.reused_tokens, 0);
  EXPECT_EQ(*t2, *fresh);
  // Continuing with prompt + generated text reuses the whole cache (what a resumed draft does).
  SessionStats s4;
  auto t4 = a->generate(greedy(base + "凤姐笑道。" + *t2, 8), {}, nullptr, &s4);
  ASSERT_TRUE(t4.ok());
  EXPECT_GE(s4.reused_tokens, s2.prompt_tokens + s2.gen_tokens - 2);
  // The identical prompt again: everything but the last token comes from the cache, same text.
  SessionStats s5;
  auto t5 = b->generate(greedy(base + "凤姐笑道。", 24), {}, nullptr, &s5);
  ASSERT_TRUE(t5.ok());
  EXPECT_EQ(s5.reused_tokens, s5.prompt_tokens - 1);
  EXPECT_EQ(*t5, *fresh);
}

// Number of generated tokens needed to produce `text` (streamed through a StreamDecoder).
int tokens_for(const Tokenizer& tok, const std::vector<TokenId>& ids, const std::string& text) {
  StreamDecoder dec(tok);
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (out.size() >= text.size()) return int(i);
    out += dec.push(ids[i]);
  }
  return int(ids.size());
}

TEST(EngineSession, CancelFromTheCallbackStopsWithinOneToken) {
  auto e = open_engine();
  ASSERT_TRUE(e);
  for (int stop_after : {1, 5, 17}) {
    std::atomic<bool> stop{false};
    int pieces = 0;
    std::string seen;
    SessionStats st;
    auto t = e->generate(greedy("从前有一座山。", 200), [&](std::string_view p) {
      seen.append(p);
      if (++pieces == stop_after) stop = true;
      return true;
    }, &stop, &st);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(st.stop_reason, "cancelled");
    EXPECT_EQ(*t, seen);
    // Re-run greedily without cancel to learn the token ids behind the text.
    std::atomic<bool> never{false};
    SessionStats full;
    auto all = e->generate(greedy("从前有一座山。", st.gen_tokens + 4), {}, &never, &full);
    ASSERT_TRUE(all.ok());
    // The same greedy text; the cancelled run generated at most one token past what it had streamed.
    ASSERT_EQ(all->substr(0, seen.size()), seen);
    int needed = tokens_for(e->tokenizer(), full.tokens, seen);
    EXPECT_LE(st.gen_tokens, needed + 1) << "stop_after " << stop_after;
    EXPECT_GE(st.gen_tokens, needed);
  }
}

TEST(EngineSession, CallbackStopEndsOnlyThisRequest) {
  auto e = open_engine();
  ASSERT_TRUE(e);
  std::atomic<bool> stop{false};
  int pieces = 0;
  SessionStats st;
  auto t = e->generate(greedy("春天来了。", 50), [&](std::string_view) { return ++pieces < 3; }, &stop, &st);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(pieces, 3);
  EXPECT_FALSE(stop.load());  // the caller's flag is not left set
  auto t2 = e->generate(greedy("春天来了。", 5), {}, &stop, &st);
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(st.gen_tokens, 5);
}

TEST(EngineSession, CancelFromAnotherThreadStopsWithinOneToken) {
  auto e = open_engine();
  ASSERT_TRUE(e);
  std::atomic<bool> stop{false};
  std::atomic<int> pieces{0};
  std::atomic<int> pieces_at_stop{-1};
  std::thread canceller([&] {
    while (pieces.load() < 10) std::this_thread::yield();
    pieces_at_stop = pieces.load();
    stop = true;
  });
  SessionStats st;
  auto t = e->generate(greedy("天下大势，分久必合，合久必分。", 100000 /* clamped to the window */),
                       [&](std::string_view) {
                         ++pieces;
                         return true;
                       },
                       &stop, &st);
  canceller.join();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(st.stop_reason, "cancelled");
  // Pieces are whole characters: a token yields at most one piece, so pieces after the flag ≤ 1 + the one
  // being decoded when the flag was set.
  EXPECT_LE(pieces.load() - pieces_at_stop.load(), 2);
}

}  // namespace
}  // namespace cj::studio

#include "studio/engine_text_generator.h"
#ifdef CJ_STUDIO_HAVE_TEXT_GENERATOR
namespace cj::studio {
namespace {
TEST(EngineTextGenerator, StreamsAndStopsWhenTheCallbackSaysSo) {
  auto e = open_engine();
  ASSERT_TRUE(e);
  EngineTextGenerator gen(*e);
  memory::GenOptions o;
  o.max_tokens = 12;
  o.temperature = 0;
  std::string seen;
  auto all = gen.generate("总结：林黛玉进府。", o, [&](std::string_view p) {
    seen.append(p);
    return true;
  });
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(*all, seen);
  EXPECT_FALSE(all->empty());
  int pieces = 0;
  auto part = gen.generate("总结：林黛玉进府。", o, [&](std::string_view) { return ++pieces < 2; });
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(pieces, 2);
  EXPECT_EQ(all->substr(0, part->size()), *part);  // greedy: the same start
  EXPECT_EQ(gen.name(), "tiny-qwen3.gguf");
}
}  // namespace
}  // namespace cj::studio
#endif
