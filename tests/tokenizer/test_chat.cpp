// ChatML as Qwen3's chat template renders it (conversations without tools).
#include <gtest/gtest.h>

#include "engine/tokenizer/tokenizer.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

using namespace cj;

TEST(ChatMl, TurnsAndGenerationPrompt) {
  const std::vector<ChatMessage> m{{"system", "你是小说助手。"}, {"user", "续写第一回。"}};
  EXPECT_EQ(format_chatml(m, true),
            "<|im_start|>system\n你是小说助手。<|im_end|>\n<|im_start|>user\n续写第一回。<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(format_chatml(m, true, false),
            "<|im_start|>system\n你是小说助手。<|im_end|>\n<|im_start|>user\n续写第一回。<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n");
  EXPECT_EQ(format_chatml(m, false), "<|im_start|>system\n你是小说助手。<|im_end|>\n<|im_start|>user\n续写第一回。<|im_end|>\n");
}

TEST(ChatMl, ReasoningOfEarlierTurnsIsDropped) {
  const std::vector<ChatMessage> m{{"user", "一"}, {"assistant", "<think>\n想想\n</think>\n\n答一"}, {"user", "二"}};
  EXPECT_EQ(format_chatml(m, true),
            "<|im_start|>user\n一<|im_end|>\n<|im_start|>assistant\n答一<|im_end|>\n<|im_start|>user\n二<|im_end|>\n"
            "<|im_start|>assistant\n");
  // The last assistant turn after the last user message keeps its reasoning (Qwen3 template).
  const std::vector<ChatMessage> m2{{"user", "一"}, {"assistant", "<think>\n想想\n</think>\n\n答一"}};
  EXPECT_EQ(format_chatml(m2, false),
            "<|im_start|>user\n一<|im_end|>\n<|im_start|>assistant\n<think>\n想想\n</think>\n\n答一<|im_end|>\n");
}

TEST(ChatMl, TokenizesWithSpecialTokens) {
  const auto& tok = test::qwen3();
  const auto ids = tok.encode(format_chatml({{"user", "你好"}}, true), true);
  ASSERT_GE(ids.size(), 6u);
  EXPECT_EQ(ids.front(), 151644);  // <|im_start|>
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151645), 1);  // one <|im_end|>
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151644), 2);
}
