// The SSE parser: events come out the same however the bytes are split (every split point, one byte at a
// time, CR LF pairs torn apart), with the WHATWG line and field rules the OpenAI-compatible servers rely on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "studio/remote_generator.h"
#include "studio/sse_parser.h"

namespace cj::studio {
namespace {

std::vector<std::string> parse_in_pieces(const std::string& s, const std::vector<size_t>& cuts) {
  SseParser p;
  std::vector<std::string> out;
  size_t at = 0;
  auto feed = [&](size_t end) {
    EXPECT_TRUE(p.feed(std::string_view(s).substr(at, end - at), [&](const SseEvent& e) {
      out.push_back(e.event + "|" + e.data);
      return true;
    }));
    at = end;
  };
  for (size_t c : cuts) feed(c);
  feed(s.size());
  return out;
}

const std::string kStream =
    "\xEF\xBB\xBF: keep-alive comment\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: note\ndata:no-space\ndata:  two spaces\n\n"
    "data: 中文\rdata: second\r\r"
    "id: 7\nretry: 100\nunknown: x\n\n"  // no data: not dispatched
    "data\n\n"                           // a field with no colon: empty data line
    "data: [DONE]\n\n"
    "data: unterminated";

const std::vector<std::string> kWant = {"|{\"a\":1}", "note|no-space\n two spaces", "|中文\nsecond", "|", "|[DONE]"};

TEST(SseParser, WholeStream) { EXPECT_EQ(parse_in_pieces(kStream, {}), kWant); }

TEST(SseParser, EverySplitPointGivesTheSameEvents) {
  for (size_t i = 0; i <= kStream.size(); ++i) EXPECT_EQ(parse_in_pieces(kStream, {i}), kWant) << "split at " << i;
  for (size_t i = 0; i <= kStream.size(); ++i)
    for (size_t j = i; j <= kStream.size(); j += 7) EXPECT_EQ(parse_in_pieces(kStream, {i, j}), kWant) << i << "," << j;
}

TEST(SseParser, OneByteAtATime) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < kStream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(parse_in_pieces(kStream, cuts), kWant);
}

TEST(SseParser, CrLfTornApartIsOneLineEnd) {
  // "a\r" | "\n\r" | "\n": two line ends, i.e. one event — not three ends (which would add an empty event).
  SseParser p;
  int n = 0;
  auto count = [&](const SseEvent& e) {
    EXPECT_EQ(e.data, "a");
    ++n;
    return true;
  };
  EXPECT_TRUE(p.feed("data: a\r", count));
  EXPECT_TRUE(p.feed("\n\r", count));
  EXPECT_TRUE(p.feed("\n", count));
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(p.feed("data: a\n\n", count));
  EXPECT_EQ(n, 2);
}

TEST(SseParser, StopsWhenTheCallbackSaysSoAndOnOverlongLines) {
  SseParser p;
  int n = 0;
  EXPECT_FALSE(p.feed("data: 1\n\ndata: 2\n\n", [&](const SseEvent&) { return ++n < 1; }));
  EXPECT_EQ(n, 1);
  SseParser small(16);
  EXPECT_FALSE(small.feed("data: " + std::string(64, 'x'), [](const SseEvent&) { return true; }));
  EXPECT_TRUE(small.overflow());
}

TEST(RemoteGenerator, TokenEstimateOverCountsTypicalText) {
  EXPECT_EQ(estimate_tokens(""), 0);
  EXPECT_EQ(estimate_tokens("林黛玉进了荣国府"), 8);  // one per CJK character
  EXPECT_EQ(estimate_tokens("abcdef"), 2);
  EXPECT_EQ(estimate_tokens("abcdefg"), 3);
}

TEST(RemoteGenerator, ValidateNamesTheProblem) {
  RemoteSettings s;
  s.url = "127.0.0.1:8000";
  EXPECT_NE(validate(s).error().find("http://"), std::string::npos);
  s.url = "http://127.0.0.1:8000/v1";
  EXPECT_TRUE(validate(s).ok());
  s.ctx = 10;
  EXPECT_NE(validate(s).error().find("context"), std::string::npos);
}

}  // namespace
}  // namespace cj::studio
