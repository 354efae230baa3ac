// Hostile tokenizer files (issue 20): a tokenizer.json nested 100,000 levels deep is an error, not a stack
// overflow; vocabulary ids are checked against the file before the tables are sized by them (an 87-byte file
// asked for 2.5 GB); tens of thousands of added tokens load and match leftmost-longest through a trie (the old
// list was re-sorted on every add: 40,000 took minutes — see `BM_TokenizerLoadAddedTokens`).
#include <gtest/gtest.h>

#include <string>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/special_tokens.h"
#include "tests/tokenizer/tokenizer_fixtures.h"

using namespace cj;

namespace {

const std::string kPre = R"({"type":"ByteLevel"})";

std::string doc(const std::string& vocab, const std::string& extra = "") {
  return R"({"model":{"type":"BPE","vocab":)" + vocab + R"(,"merges":[]},"pre_tokenizer":)" + kPre + extra + "}";
}

}  // namespace

TEST(HostileTokenizerJson, DeepNestingIsAnErrorNotAStackOverflow) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  // Under a key the loader skips (the recursive skip_value overflowed the stack here) …
  auto r = parse_hf_tokenizer_json(R"({"truncation":)" + deep + "," + doc(R"({"a":0})").substr(1), "t.json");
  ASSERT_TRUE(r.ok()) << r.error();  // skipped, and the rest of the file still read
  // … unterminated …
  r = parse_hf_tokenizer_json(R"({"truncation":)" + std::string(100000, '['), "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not a usable tokenizer.json"), std::string::npos) << r.error();
  // … and where the loader hands the value to a DOM parser.
  r = parse_hf_tokenizer_json(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":)" + deep + "}",
                              "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("nested deeper"), std::string::npos) << r.error();
}

TEST(HostileTokenizerJson, IdsAreCheckedAgainstTheFileBeforeAllocating) {
  // Each of these sized a table by the id first: 20,000,000 → 2.5 GB from 96 bytes, 2^31-2 → bad_alloc.
  for (const char* id : {"20000000", "2147483646", "9223372036854775807"}) {
    auto r = parse_hf_tokenizer_json(doc(std::string(R"({"a":)") + id + "}"), "t.json");
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_NE(r.error().find("t.json"), std::string::npos) << r.error();
  }
  auto r = parse_hf_tokenizer_json(doc(R"({"a":-1})"), "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("out of range"), std::string::npos) << r.error();
  r = parse_hf_tokenizer_json(doc(R"({"a":0})", R"(,"added_tokens":[{"id":-5,"content":"x"}])"), "t.json");
  ASSERT_FALSE(r.ok());
  r = parse_hf_tokenizer_json(doc(R"({"a":99999999999999999999})"), "t.json");  // past int64
  ASSERT_FALSE(r.ok());
  // Holes below the file's own size are still fine (filled as unused).
  r = parse_hf_tokenizer_json(doc(R"({"a":0,"b":40})"), "t.json");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->tokens.size(), 41u);
}

TEST(HostileTokenizerJson, PreTokenizerOfTheWrongShapeIsAnErrorNotAnException) {
  for (const char* pre : {R"({"type":"Sequence","pretokenizers":[5]})", R"({"type":"Sequence","pretokenizers":"x"})",
                          R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":7}]})",
                          R"({"type":5})", R"({"type":"ByteLevel","use_regex":"yes"})"}) {
    const std::string text =
        std::string(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":)") + pre + "}";
    Result<VocabSpec> r = make_error("not run");
    ASSERT_NO_THROW(r = parse_hf_tokenizer_json(text, "t.json")) << pre;
    if (!r.ok()) {
      EXPECT_EQ(r.error().find("json.exception"), std::string::npos) << r.error();
    }
  }
}

TEST(HostileTokenizerJson, ManyAddedTokensMatchLeftmostLongest) {
  tok::SpecialTokens sp;
  for (int i = 0; i < 40000; ++i) sp.add("<extra_" + std::to_string(i) + ">", 1000 + i);
  sp.add("<extra_1>", 7);        // a duplicate keeps its first id
  sp.add("<extra_1><b>", 5);     // longer wins where it matches
  EXPECT_EQ(sp.size(), 40001u);
  std::vector<std::string> out;
  sp.split("a<extra_12>b<extra_1><b><extra_1>c<extra_", [&](std::string_view t) { out.emplace_back(t); },
           [&](TokenId id) { out.push_back("#" + std::to_string(id)); });
  EXPECT_EQ(out, (std::vector<std::string>{"a", "#1012", "b", "#5", "#1001", "c<extra_"}));

  // Through a whole tokenizer: the Qwen3 vocabulary with 40,000 more added tokens.
  auto spec = load_hf_tokenizer_json(cj::test::kQwen3Json);
  ASSERT_TRUE(spec.ok()) << spec.error();
  const size_t base = spec->tokens.size();
  for (int i = 0; i < 40000; ++i) {
    spec->tokens.push_back("<extra_" + std::to_string(i) + ">");
    spec->token_types.push_back(3);
  }
  auto t = Tokenizer::from_vocab(*spec);
  ASSERT_TRUE(t.ok()) << t.error();
  auto ids = (*t)->encode("<extra_39999><|im_start|>", true);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(size_t(ids[0]), base + 39999);
  EXPECT_EQ((*t)->token_bytes(ids[1]), "<|im_start|>");
}
