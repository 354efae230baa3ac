// Byte-level BPE (Qwen3 tokenizer.json). The id-exact comparison with the npm reference on the novels and the
// edge cases is tests/scripts/tokenizer_oracle.sh; here: llama.cpp's vectors, round trips, special tokens,
// invalid UTF-8, the pre-tokenizer's character classes, parallel encoding and the loaders.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/base/utf8.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/pretokenizer.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

using namespace cj;
using namespace cj::test;

namespace {

std::vector<std::string> pieces(std::string_view text) {
  pretok::Scratch sc;
  std::vector<uint32_t> ends;
  pretok::split(pretok::Kind::kQwen2, text, &sc, &ends);
  std::vector<std::string> out;
  uint32_t b = 0;
  for (uint32_t e : ends) {
    out.emplace_back(text.substr(b, e - b));
    b = e;
  }
  return out;
}

std::string novel(const char* name) {
  auto t = read_file(std::string(CJ_TEST_DATA "/novels/") + name);
  EXPECT_TRUE(t.ok());
  return *t;
}

}  // namespace

TEST(ByteLevelBpe, LlamaCppQwen2Vectors) {
  const auto cases = read_cases(kVocabTests + "ggml-vocab-qwen2.gguf.inp");
  const auto expected = read_expected(kVocabTests + "ggml-vocab-qwen2.gguf.out");
  ASSERT_EQ(cases.size(), 46u);
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(ids_str(qwen3().encode(cases[i], false)), ids_str(expected[i])) << "case " << i << ": " << cases[i];
}

TEST(ByteLevelBpe, KnownIds) {
  // Pinned from the Qwen vocabulary itself: "Hello world" is two tokens, "\n\n" one (271).
  EXPECT_EQ(ids_str(qwen3().encode("Hello world", false)), "9707 1879");
  EXPECT_EQ(ids_str(qwen3().encode("\n\n", false)), "271");
  EXPECT_EQ(qwen3().vocab_size(), 151669u);
}

TEST(ByteLevelBpe, RoundTripIsNfc) {
  const auto& tok = qwen3();
  for (const auto& c : read_cases(CJ_SOURCE_DIR "/tests/tokenizer/data/edge_cases.inp")) {
    EXPECT_EQ(tok.decode(tok.encode(c, false)), utf8::nfc(c)) << c;
    EXPECT_EQ(tok.decode(tok.encode(c, true)), utf8::nfc(c)) << c;
  }
  EXPECT_EQ(tok.decode(tok.encode("cafe\xCC\x81", false)), "caf\xC3\xA9");  // NFC composes e + U+0301
  const std::string book = novel("三国演义.txt");
  EXPECT_EQ(tok.decode(tok.encode(book, false)), utf8::nfc(book));
}

TEST(ByteLevelBpe, SpecialTokensOnlyWhenAsked) {
  const auto& tok = qwen3();
  const std::string text = "<|im_start|>user\n你好<|im_end|>\n<think>\n\n</think>";
  const auto im_start = tok.find_token("<|im_start|>"), im_end = tok.find_token("<|im_end|>");
  const auto think = tok.find_token("<think>");
  ASSERT_TRUE(im_start && im_end && think);
  EXPECT_EQ(*im_start, 151644);
  EXPECT_EQ(*im_end, 151645);
  EXPECT_EQ(*think, 151667);
  const auto with = tok.encode(text, true);
  ASSERT_GE(with.size(), 3u);
  EXPECT_EQ(with[0], *im_start);
  EXPECT_NE(std::find(with.begin(), with.end(), *think), with.end());
  const auto without = tok.encode(text, false);
  for (TokenId id : without) EXPECT_LT(id, 151643) << "an added token came out of plain text";
  EXPECT_EQ(tok.decode(without), text);
  EXPECT_EQ(tok.decode(with), text);
  // Longest match: "<|im_start|>" must not be taken for a shorter prefix.
  EXPECT_EQ(tok.encode("<|im_start|>", true), std::vector<TokenId>{*im_start});
  EXPECT_TRUE(tok.is_eog(*im_end));
  EXPECT_TRUE(tok.is_eog(*tok.find_token("<|endoftext|>")));
  EXPECT_FALSE(tok.is_eog(*im_start));
  EXPECT_EQ(tok.eos(), *im_end);  // tokenizer_config.json: eos_token = <|im_end|>
}

TEST(ByteLevelBpe, InvalidUtf8IsKeptByteForByte) {
  // Defined behaviour: each invalid byte is a character of its own of the class "other" (like punctuation):
  // valid text around it is tokenized as usual and decode() gives the exact input bytes back.
  const auto& tok = qwen3();
  const std::string bad = "abc\xFF\xFE" "def \xE4\xBD" "你好\xC0\xAF\x80 end\xF0\x9F\x98";
  const auto ids = tok.encode(bad, false);
  EXPECT_EQ(tok.decode(ids), bad);
  // A lone invalid byte is the byte-level token of that byte.
  const auto ff = tok.encode("\xFF", false);
  ASSERT_EQ(ff.size(), 1u);
  EXPECT_EQ(tok.token_bytes(ff[0]), "\xFF");
  // It splits pre-tokens like punctuation: "abc" before it tokenizes as it would alone.
  const auto abc = tok.encode("abc", false);
  EXPECT_TRUE(std::equal(abc.begin(), abc.end(), ids.begin()));
  EXPECT_EQ(pieces("ab\xFF" "cd"), (std::vector<std::string>{"ab", "\xFF" "cd"}));
}

TEST(ByteLevelBpe, PreTokenizerMatchesTheRegex) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces("I'M don't"), (V{"I", "'M", " don", "'t"}));
  EXPECT_EQ(pieces("a123"), (V{"a", "1", "2", "3"}));
  EXPECT_EQ(pieces("a   b"), (V{"a", "  ", " b"}));              // \s+(?!\S) leaves one space for " b"
  EXPECT_EQ(pieces("a  \n\n  b"), (V{"a", "  \n\n", " ", " b"}));  // \s*[\r\n]+ ends at the last newline
  EXPECT_EQ(pieces("。\r\n\r\n　　贾"), (V{"。\r\n\r\n", "　", "　贾"}));
  EXPECT_EQ(pieces("x  !!\n"), (V{"x", " ", " !!\n"}));
  EXPECT_EQ(pieces("end  "), (V{"end", "  "}));
  // Unicode White_Space (as HF's Oniguruma and llama.cpp): U+0085 is whitespace, U+FEFF is not (JS's \s
  // differs on both, so the npm oracle does too; these two stay out of the oracle's edge cases).
  EXPECT_EQ(pieces("a\xC2\x85" "b"), (V{"a", "\xC2\x85" "b"}));
  EXPECT_EQ(pieces("a \xEF\xBB\xBF!"), (V{"a", " \xEF\xBB\xBF!"}));
  // (?i:'s): U+017F LATIN SMALL LETTER LONG S case-folds to s (Oniguruma; the JS port spells it [sS]).
  EXPECT_EQ(pieces("it'\xC5\xBF"), (V{"it", "'\xC5\xBF"}));
}

TEST(ByteLevelBpe, ParallelEqualsSerial) {
  const auto& tok = qwen3();
  const std::string book = novel("红楼梦.txt");
  const auto serial = tok.encode(book, false);
  for (int t : {2, 3, 7}) EXPECT_EQ(tok.encode_parallel(book, false, t), serial) << t << " threads";
  // Blank lines and indented lines right after a cut: the cut must move past them.
  std::string tricky;
  for (int i = 0; i < 20000; ++i) tricky += (i % 3 == 0) ? "第一行\n\n\n" : (i % 3 == 1) ? "　　缩进\r\n \r\n" : "x \n";
  EXPECT_EQ(tok.encode_parallel(tricky, false, 4), tok.encode(tricky, false));
}

TEST(StreamDecoder, NeverEmitsHalfACharacter) {
  const auto& tok = qwen3();
  const std::string text = "贾宝玉😀𠀀e\xCC\x81 end 林黛玉";
  const auto ids = tok.encode(text, false);
  StreamDecoder d(tok);
  std::string all;
  for (TokenId id : ids) {
    const std::string piece = d.push(id);
    EXPECT_TRUE(utf8::valid(piece)) << "half a character emitted";
    all += piece;
  }
  all += d.flush();
  EXPECT_EQ(all, utf8::nfc(text));
  // Bytes that can never complete become U+FFFD; a truncated tail is replaced on flush.
  StreamDecoder d2(tok);
  std::string out;
  for (TokenId id : tok.encode("a\xFF" "b\xE4\xBD", false)) out += d2.push(id);
  EXPECT_EQ(out, "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(d2.flush(), "\xEF\xBF\xBD");
}

TEST(HfLoader, MergesAsStringsOrPairsAndConfig) {
  // A tiny byte-level tokenizer.json written both ways must give the same tokenizer.
  const auto dir = std::filesystem::temp_directory_path() / ("cj_tok_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "a");
  std::filesystem::create_directories(dir / "b");
  std::string vocab = "{";
  for (int b = 0; b < 256; ++b) {
    std::string t;
    // The GPT-2 byte alphabet, written with \u escapes.
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    static int extra = 0;
    if (b == 0) extra = 0;
    const int cp = printable ? b : 256 + extra++;
    char buf[16];
    std::snprintf(buf, sizeof buf, "\"\\u%04x\"", cp);
    vocab += std::string(buf) + ":" + std::to_string(b) + ",";
  }
  vocab += "\"ab\":256,\"abc\":257,\"\\u0120a\":258}";
  const std::string pre =
      R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]})";
  const std::string added = R"([{"id":259,"content":"<|im_end|>","special":true},{"id":260,"content":"<think>","special":false}])";
  auto doc = [&](const std::string& merges) {
    return R"({"version":"1.0","added_tokens":)" + added + R"(,"normalizer":{"type":"NFC"},"pre_tokenizer":)" + pre +
           R"(,"model":{"type":"BPE","vocab":)" + vocab + R"(,"merges":)" + merges + "}}";
  };
  std::ofstream(dir / "a" / "tokenizer.json") << doc(R"(["a b","ab c","\u0120 a"])");
  std::ofstream(dir / "b" / "tokenizer.json") << doc(R"([["a","b"],["ab","c"],["\u0120","a"]])");
  std::ofstream(dir / "b" / "tokenizer_config.json") << R"({"eos_token":"<|im_end|>","bos_token":null,"add_bos_token":false,"chat_template":"T"})";
  auto sa = load_hf_tokenizer_json((dir / "a" / "tokenizer.json").string());
  auto sb = load_hf_tokenizer_json((dir / "b" / "tokenizer.json").string());
  ASSERT_TRUE(sa.ok()) << sa.error();
  ASSERT_TRUE(sb.ok()) << sb.error();
  EXPECT_EQ(sa->merges, sb->merges);
  EXPECT_EQ(sa->pre, "qwen2");
  EXPECT_EQ(sb->eos_id, 259);
  EXPECT_EQ(sb->chat_template, "T");
  EXPECT_EQ(sb->token_types[259], 3);
  EXPECT_EQ(sb->token_types[260], 4);
  auto ta = Tokenizer::from_vocab(*sa);
  auto tb = Tokenizer::from_vocab(*sb);
  ASSERT_TRUE(ta.ok() && tb.ok());
  EXPECT_EQ(ids_str((*ta)->encode("abc ab a<think>", true)), "257 32 256 258 260");  // abc | Ġ ab (a+b outranks Ġ+a) | Ġa | <think>
  EXPECT_EQ((*ta)->encode("abc ab a", false), (*tb)->encode("abc ab a", false));
  std::filesystem::remove_all(dir);
}

TEST(HfLoader, ErrorsSayWhatIsWrong) {
  auto missing = load_hf_tokenizer_json("/nonexistent/tokenizer.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/tokenizer.json"), std::string::npos) << missing.error();
  const auto p = std::filesystem::temp_directory_path() / ("cj_bad_" + std::to_string(::getpid()) + ".json");
  std::ofstream(p) << R"({"model":{"type":"BPE","vocab":{"a":0,)";
  auto bad = load_hf_tokenizer_json(p.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("not a usable tokenizer.json"), std::string::npos) << bad.error();
  std::filesystem::remove(p);
  VocabSpec v;
  v.model = "wordpiece";
  EXPECT_FALSE(Tokenizer::from_vocab(v).ok());
}

TEST(ByteLevelBpe, Gpt2PreTokenizerParallelFallsBackToSerial) {
  // GPT-2's regex lets \s+(?!\S) run over line starts, so no cut is safe: encode_parallel must not cut.
  auto spec = load_hf_tokenizer_json(CJ_TEST_DATA "/models/minimind-3-meta/tokenizer.json");
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->pre, "gpt2");
  auto tok = Tokenizer::from_vocab(*spec);
  ASSERT_TRUE(tok.ok());
  std::string t;
  for (int i = 0; i < 30000; ++i) t += "。\r\n\r\n    却说 ";
  EXPECT_EQ((*tok)->encode_parallel(t, false, 4), (*tok)->encode(t, false));
  EXPECT_EQ((*tok)->decode((*tok)->encode(t, false)), t);
}

// The defined behaviour on any bytes: each maximal valid UTF-8 run is NFC-normalised, invalid bytes stay.
std::string expected_round_trip(const std::string& t) {
  std::string out;
  size_t i = 0;
  while (i < t.size()) {
    size_t j = i;
    uint32_t cp;
    while (j < t.size()) {
      const int n = utf8::decode(t, j, &cp);
      if (n == 0) break;
      j += n;
    }
    out += utf8::nfc(t.substr(i, j - i));
    if (j < t.size()) out += t[j++];
    i = j;
  }
  return out;
}

TEST(ByteLevelBpe, RandomBytesRoundTrip) {
  const auto& tok = qwen3();
  const std::vector<std::string> frags = {"a", "Z", " ", "\n", "\r\n", "\t", "'s", "1", "。", "贾", "\xE4", "\xBD",
                                          "\x80", "\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF0\x9F", "😀", "<|im_end|>",
                                          "<|im_start", "\xE3\x80\x80", "e\xCC\x81"};
  uint64_t s = 88172645463325252ULL;
  auto rnd = [&](size_t n) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<size_t>(s % n);
  };
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    const size_t len = rnd(i % 50 == 0 ? 300 : 30);
    for (size_t k = 0; k < len; ++k)
      t += (rnd(4) == 0) ? std::string(1, static_cast<char>(rnd(256))) : frags[rnd(frags.size())];
    const auto ids = tok.encode(t, false);
    ASSERT_EQ(tok.decode(ids), expected_round_trip(t)) << "case " << i;
    EXPECT_EQ(tok.decode(tok.encode(t, true)), expected_round_trip(t)) << "case " << i;
    for (TokenId id : ids) ASSERT_TRUE(id >= 0 && id < 151643) << "plain text produced id " << id;
  }
}

TEST(ByteLevelBpe, ParallelKeepsAddedTokensThatHoldNewlines) {
  // A byte-only vocabulary plus an added token with a newline inside: cuts after '\n' would split it.
  VocabSpec v;
  v.model = "gpt2";
  v.pre = "qwen2";
  for (int b = 0; b < 256; ++b) {
    std::string t;
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    static int extra = 0;
    if (b == 0) extra = 0;
    utf8::append(t, printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + extra++));
    v.tokens.push_back(t);
    v.token_types.push_back(1);
  }
  v.tokens.push_back("<a>\n<b>");
  v.token_types.push_back(3);
  auto tok = Tokenizer::from_vocab(v);
  ASSERT_TRUE(tok.ok()) << tok.error();
  std::string text;
  for (int i = 0; i < 40000; ++i) text += "xy <a>\n<b> z\n";
  const auto serial = (*tok)->encode(text, true);
  EXPECT_EQ(std::count(serial.begin(), serial.end(), 256), 40000);
  EXPECT_EQ((*tok)->encode_parallel(text, true, 4), serial);
}
