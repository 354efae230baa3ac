#include <gtest/gtest.h>

#include "engine/base/utf8.h"

using namespace cj;

TEST(Utf8, DecodesAndRejects) {
  uint32_t cp = 0;
  EXPECT_EQ(utf8::decode("林", 0, &cp), 3);
  EXPECT_EQ(cp, 0x6797u);
  EXPECT_EQ(utf8::decode("\xF0\x9F\x98\x80", 0, &cp), 4);
  EXPECT_EQ(cp, 0x1F600u);
  EXPECT_EQ(utf8::decode("\xC0\xAF", 0, &cp), 0);          // overlong
  EXPECT_EQ(utf8::decode("\xED\xA0\x80", 0, &cp), 0);      // surrogate
  EXPECT_EQ(utf8::decode("\xE6\x9E", 0, &cp), 0);          // truncated
  EXPECT_EQ(utf8::decode("\xF4\x90\x80\x80", 0, &cp), 0);  // > U+10FFFF
}

TEST(Utf8, ValidCountSanitize) {
  size_t bad = 99;
  EXPECT_TRUE(utf8::valid("红楼梦 abc"));
  EXPECT_FALSE(utf8::valid("ab\xFF" "cd", &bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_EQ(utf8::count_code_points("红楼梦ab"), 5u);
  EXPECT_EQ(utf8::sanitize("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
}

TEST(Utf8, AppendRoundTrip) {
  for (uint32_t cp : {0x41u, 0x7FFu, 0x4E2Du, 0xFFFDu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    utf8::append(s, cp);
    uint32_t back = 0;
    ASSERT_EQ(utf8::decode(s, 0, &back), static_cast<int>(s.size()));
    EXPECT_EQ(back, cp);
  }
}

TEST(Utf8, Nfc) {
  EXPECT_EQ(utf8::nfc("e\xCC\x81"), "\xC3\xA9");  // e + combining acute -> é
  EXPECT_EQ(utf8::nfc("红楼梦"), "红楼梦");
}
