// Settings: machine file + per-book overrides, validation messages that name the setting.
#include <fstream>

#include "studio/settings.h"
#include "tests/studio/studio_test_util.h"

namespace cj::studio {
namespace {

using testing::TempDir;

TEST(Settings, MachineFileAndBookOverrides) {
  TempDir dir;
  auto none = load_machine_settings(dir.file("missing.json"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->ctx, 4096);
  Settings m;
  m.model_path = testing::tiny_model();
  m.threads = 3;
  ASSERT_TRUE(save_machine_settings(dir.file("cfg/settings.json"), m).ok());
  auto back = load_machine_settings(dir.file("cfg/settings.json"));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->threads, 3);
  EXPECT_EQ(back->model_path, m.model_path);

  std::string path = dir.file("p.cjdb");
  int64_t book = testing::make_project(path);
  auto db = storage::Database::open(path);
  EXPECT_EQ(load_book_overrides(**db, book)->size(), 0u);
  ASSERT_TRUE(save_book_overrides(**db, book, {{"temperature", 0.3}, {"ctx", 2048}}).ok());
  auto eff = effective_settings(*back, **db, book);
  ASSERT_TRUE(eff.ok()) << eff.error();
  EXPECT_FLOAT_EQ(eff->temperature, 0.3f);
  EXPECT_EQ(eff->ctx, 2048);
  EXPECT_EQ(eff->threads, 3);  // from the machine
  // Bad overrides are refused with the key's name; a bad stored combination fails validation.
  auto bad = save_book_overrides(**db, book, {{"tempreature", 0.3}});
  EXPECT_NE(bad.error().find("unknown setting 'tempreature'"), std::string::npos);
  auto bad_type = save_book_overrides(**db, book, {{"ctx", "big"}});
  EXPECT_NE(bad_type.error().find("ctx must be a whole number"), std::string::npos);
  ASSERT_TRUE(save_book_overrides(**db, book, {{"context_budget", 5000}}).ok());
  auto eff2 = effective_settings(*back, **db, book);
  ASSERT_FALSE(eff2.ok());
  EXPECT_NE(eff2.error().find("context_budget"), std::string::npos);
  std::ofstream(dir.file("broken.json")) << "{not json";
  EXPECT_NE(load_machine_settings(dir.file("broken.json")).error().find("not valid JSON"), std::string::npos);
}

TEST(Settings, ValidationNamesTheSetting) {
  Settings s;
  s.model_path = testing::tiny_model();
  EXPECT_TRUE(validate(s).ok());
  auto msg = [&](auto f) {
    Settings t = s;
    f(t);
    return validate(t).error();
  };
  EXPECT_NE(msg([](Settings& t) { t.backend = "tpu"; }).find("backend"), std::string::npos);
  EXPECT_NE(msg([](Settings& t) { t.backend = "remote"; }).find("remote_url"), std::string::npos);
  EXPECT_NE(msg([](Settings& t) { t.top_p = 0; }).find("top"), std::string::npos);
  EXPECT_NE(msg([](Settings& t) { t.kv_type = "q4"; }).find("kv_type"), std::string::npos);
  EXPECT_NE(msg([](Settings& t) { t.model_path = "/no/such.gguf"; }).find("does not exist"), std::string::npos);
  EXPECT_NE(msg([](Settings& t) { t.kv_host_mb = -1; }).find("KV budgets"), std::string::npos);
  Settings r = s;
  r.backend = "remote";
  r.remote_url = "http://127.0.0.1:8000/v1";
  r.model_path = "";
  EXPECT_TRUE(validate(r).ok());
  r.remote_api_key_env = "MY KEY";
  EXPECT_NE(validate(r).error().find("remote_api_key_env"), std::string::npos);
  r.remote_api_key_env = "CJ_TEST_KEY";
  r.remote_model = "qwen3-235b";
  EXPECT_TRUE(validate(r).ok());
  setenv("CJ_TEST_KEY", "sk-test", 1);
  RemoteSettings rs = remote_settings(r);
  EXPECT_EQ(rs.api_key, "sk-test");
  EXPECT_EQ(rs.model, "qwen3-235b");
  EXPECT_TRUE(validate(rs).ok());
  Settings l = s;
  l.backend = "local";
  EXPECT_TRUE(validate(l).ok()) << validate(l).error();
  // open_generator: a named remote model opens without asking the server; an unnamed one needs its list.
  auto g = open_generator(r);
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ((*g)->name(), "qwen3-235b");
  EXPECT_EQ((*g)->n_ctx(), r.ctx);
  r.remote_model = "";
  r.remote_url = "http://127.0.0.1:1/v1";
  g = open_generator(r);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().find("listing the server's models failed"), std::string::npos) << g.error();
  r.remote_api_key_env = "CJ_SURELY_UNSET_VAR";
  EXPECT_NE(open_generator(r).error().find("CJ_SURELY_UNSET_VAR"), std::string::npos);
  auto j = apply_json(s, {{"backend", "remote"}, {"remote_url", "http://h:1/v1"}, {"remote_model", 3}});
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.error().find("remote_model"), std::string::npos);
}

}  // namespace
}  // namespace cj::studio
