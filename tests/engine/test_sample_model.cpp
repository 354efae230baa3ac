// The committed sample model (samples/model/changjuan-sample-qwen3.gguf, trained by samples/model/train.py) as
// a second real-weights check beside stories260K: the engine's logits must match PyTorch's on the same F16
// weights (samples/model/reference_logits.bin, written by the training script), the embedded Qwen tokenizer
// must be the real one, and greedy generation from a chapter opening must write Chinese.
#include <cstdio>
#include <fstream>

#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "engine/generate.h"
#include "engine_test_util.h"

namespace cj::test {
namespace {

const std::string kModel = std::string(CJ_SOURCE_DIR) + "/samples/model/changjuan-sample-qwen3.gguf";
const std::string kRef = std::string(CJ_SOURCE_DIR) + "/samples/model/reference_logits.bin";

struct Reference {
  std::vector<TokenId> tokens;
  std::vector<int32_t> positions;
  int n_vocab = 0;
  std::vector<float> logits;  // [positions.size(), n_vocab]
};

Reference read_reference() {
  Reference r;
  std::ifstream f(kRef, std::ios::binary);
  int32_t hdr[3] = {};
  f.read(reinterpret_cast<char*>(hdr), sizeof hdr);
  if (!f || hdr[0] <= 0 || hdr[0] > 4096 || hdr[1] <= 0 || hdr[2] <= 0 || hdr[2] > hdr[0]) return r;
  r.tokens.resize(size_t(hdr[0]));
  r.positions.resize(size_t(hdr[2]));
  r.n_vocab = hdr[1];
  r.logits.resize(size_t(hdr[2]) * size_t(hdr[1]));
  f.read(reinterpret_cast<char*>(r.tokens.data()), std::streamsize(r.tokens.size() * 4));
  f.read(reinterpret_cast<char*>(r.positions.data()), std::streamsize(r.positions.size() * 4));
  f.read(reinterpret_cast<char*>(r.logits.data()), std::streamsize(r.logits.size() * 4));
  if (!f) r.logits.clear();
  return r;
}

TEST(SampleModel, LogitsMatchPyTorch) {
  auto m = Model::load(kModel);
  ASSERT_TRUE(m.ok()) << m.error();
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.arch, Arch::Qwen3);
  Reference ref = read_reference();
  ASSERT_FALSE(ref.logits.empty()) << "cannot read " << kRef;
  ASSERT_EQ(ref.n_vocab, c.n_vocab);

  EngineOptions o;
  o.n_ctx = 256;
  o.kv_type = KVType::F32;
  auto all = engine_logits(**m, ref.tokens, o);
  double worst = 0;
  for (size_t i = 0; i < ref.positions.size(); ++i) {
    const float* got = all.data() + size_t(ref.positions[i]) * c.n_vocab;
    const float* want = ref.logits.data() + i * size_t(c.n_vocab);
    double err = rel_err(got, want, c.n_vocab);
    worst = std::max(worst, err);
    // The same arg-max as PyTorch: the greedy text is the same.
    EXPECT_EQ(std::max_element(got, got + c.n_vocab) - got, std::max_element(want, want + c.n_vocab) - want)
        << "position " << ref.positions[i];
  }
  std::printf("sample model vs PyTorch: max relative error %.3g over %zu positions\n", worst, ref.positions.size());
  EXPECT_LE(worst, 1e-3);
}

TEST(SampleModel, EmbedsTheQwenTokenizer) {
  auto m = Model::load(kModel);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_NE((*m)->tokenizer(), nullptr) << (*m)->tokenizer_error();
  const Tokenizer& tok = *(*m)->tokenizer();
  // Ids of the real Qwen2/Qwen3 vocabulary (checked against the reference tokenizer in tests/tokenizer).
  EXPECT_EQ(tok.encode("<|im_start|>user<|im_end|>", true), (std::vector<TokenId>{151644, 872, 151645}));
  std::string text = "却说黛玉自那日弃舟登岸时，便有荣国府打发了轿子并拉行李的车辆久候了。";
  EXPECT_EQ(tok.decode(tok.encode(text, false)), text);
}

TEST(SampleModel, GreedyContinuationIsChinese) {
  auto m = Model::load(kModel);
  ASSERT_TRUE(m.ok()) << m.error();
  const Tokenizer& tok = *(*m)->tokenizer();
  EngineOptions o;
  o.n_ctx = 512;
  auto be = open_sequence(**m, o);
  ASSERT_TRUE(be.ok()) << be.error();
  GenerateParams p;
  p.n_predict = 64;
  p.sampling.temperature = 0;
  std::string out;
  auto st = generate(**be, tok, tokenize_prompt(tok, "第三回　托内兄如海荐西宾　接外孙贾母惜孤女\n却说", false), p,
                     [&](std::string_view s) { out += s; });
  ASSERT_TRUE(st.ok()) << st.error();
  std::printf("greedy: %s\n", out.c_str());
  auto counts = text::count_chars(out);
  EXPECT_GE(counts.hanzi, 20u) << out;
  EXPECT_GE(counts.zishu() * 10, utf8::count_code_points(out) * 8) << "mostly Chinese: " << out;
}

}  // namespace
}  // namespace cj::test
