// stories260K (a real trained llama2.c model) imported to GGUF: greedy generation from BOS for 256 steps must
// print exactly what llama2.c's run.c prints (expected_greedy_t0_n256.txt).
#include "engine/base/file.h"
#include "engine/generate.h"
#include "engine/model/llama2c.h"
#include "engine_test_util.h"

namespace cj::test {
namespace {

const std::string kDir = CJ_TEST_DATA "/models/stories260K/";

TEST(Llama2c, ConvertsAndReproducesGreedyText) {
  std::string out = temp_path("stories260K.gguf");
  auto info = convert_llama2c(kDir + "stories260K.bin", kDir + "tok512.bin", out);
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_EQ(info->dim, 64);
  EXPECT_EQ(info->n_layers, 5);
  EXPECT_EQ(info->n_kv_heads, 4);
  EXPECT_TRUE(info->shared_classifier);
  auto m = Model::load(out);
  ASSERT_TRUE(m.ok()) << m.error();
  const Tokenizer* tok = (*m)->tokenizer();
  ASSERT_NE(tok, nullptr) << (*m)->tokenizer_error();
  EXPECT_TRUE((*m)->config().tied_output);
  for (int threads : {1, 2}) {
    EngineOptions o;
    o.n_ctx = 512;
    o.n_threads = threads;
    o.kv_type = KVType::F32;
    auto be = open_sequence(**m, o);
    ASSERT_TRUE(be.ok());
    GenerateParams p;
    p.n_predict = 256;
    p.sampling.temperature = 0;
    std::string text;
    // run.c: the prompt is only BOS; the first piece after BOS loses its leading space.
    auto st = generate(**be, *tok, {tok->bos()}, p, [&](std::string_view s) { text += s; });
    ASSERT_TRUE(st.ok()) << st.error();
    auto expected = read_file(kDir + "expected_greedy_t0_n256.txt");
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(text + "\n", *expected) << "threads " << threads;
  }
}

TEST(Llama2c, RejectsBadFiles) {
  std::string bad = temp_path("bad.bin");
  ASSERT_TRUE(write_file_atomic(bad, std::string("\x40\0\0\0", 4)).ok());
  EXPECT_FALSE(convert_llama2c(bad, kDir + "tok512.bin", temp_path("x.gguf")).ok());
  // A truncated checkpoint.
  auto data = read_file(kDir + "stories260K.bin");
  ASSERT_TRUE(data.ok());
  ASSERT_TRUE(write_file_atomic(bad, data->substr(0, data->size() / 2)).ok());
  auto r = convert_llama2c(bad, kDir + "tok512.bin", temp_path("x.gguf"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace cj::test
