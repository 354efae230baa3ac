// Helpers for the studio tests: a temporary directory, a tiny random-weight qwen3 model with the real Qwen3
// tokenizer (gibberish text, but every code path of the engine session runs), and a project with one book.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/model/model_maker.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "studio/engine_session.h"

namespace cj::studio::testing {

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "cj_studio_XXXXXX").string();
    CJ_ASSERT(mkdtemp(t.data()) != nullptr);
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The model file, made once per process.
inline const std::string& tiny_model() {
  static TempDir dir;
  static std::string path = [] {
    auto vocab = load_tokenizer_file(std::string(CJ_SOURCE_DIR) + "/samples/tokenizer/qwen3/tokenizer.json");
    CJ_ASSERT_MSG(vocab.ok(), "qwen3 tokenizer missing");
    MakeModelSpec s;
    s.arch = Arch::Qwen3;
    s.n_layers = 2;
    s.n_embd = 64;
    s.n_heads = 4;
    s.n_kv_heads = 2;
    s.n_ff = 128;
    s.type = DType::Q8_0;
    s.vocab = &vocab.value();
    std::string p = dir.file("tiny-qwen3.gguf");
    Status st = make_model(s, p);
    CJ_ASSERT_MSG(st.ok(), "make_model failed");
    return p;
  }();
  return path;
}

inline std::unique_ptr<EngineSession> open_engine(int ctx = 2048, int parallel = 1) {
  EngineSettings s;
  s.model_path = tiny_model();
  s.threads = 1;
  s.ctx = ctx;
  s.parallel = parallel;
  auto e = EngineSession::open(s);
  EXPECT_TRUE(e.ok()) << e.error();
  return e.ok() ? std::move(e.value()) : nullptr;
}

inline const char* kChapter1 = "第一回的正文。林黛玉进了荣国府，见过了贾母。\n";
inline const char* kChapter2 = "第二回的正文。宝玉摔玉，众人慌忙去拾。\n这是作者亲手写的一段。\n";

// A project with one book (id returned) and chapters 1 and 2.
inline int64_t make_project(const std::string& db_path) {
  auto db = storage::Database::open(db_path, {.create = true});
  CJ_ASSERT(db.ok());
  storage::Book b;
  b.title = "测试之书";
  auto id = storage::Books(**db).create(b);
  CJ_ASSERT(id.ok());
  storage::Chapters ch(**db);
  CJ_ASSERT(ch.add(*id, {1, "第一回 进府", "进府", kChapter1}).ok());
  CJ_ASSERT(ch.add(*id, {2, "第二回 摔玉", "摔玉", kChapter2}).ok());
  return *id;
}

}  // namespace cj::studio::testing
