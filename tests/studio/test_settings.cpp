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
  EXPECT_EQ(none->ctx, 0);  // automatic: what the machine holds, up to the model's trained length
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
  ASSERT_TRUE(save_book_overrides(**db, book, {{"context_budget", 5000}, {"ctx", 4096}}).ok());
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
  EXPECT_NE(msg([](Settings& t) { t.parallel = -1; }).find("parallel"), std::string::npos);
  EXPECT_EQ(engine_settings(s).parallel, kAutoParallel);  // 0: automatic
  Settings two = s;
  two.parallel = 2;
  EXPECT_EQ(engine_settings(*apply_json(Settings{}, to_json(two))).parallel, 2);
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
  EXPECT_EQ((*g)->n_ctx(), 8192);  // ctx 0 for a server: 8192 unless the writer says its window
  r.ctx = 32768;
  g = open_generator(r);
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ((*g)->n_ctx(), 32768);
  r.ctx = 0;
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

// settings.json → EngineSettings → the engine: every KV field arrives (kv_host_mb was parsed and dropped).
TEST(EngineConfig, SettingsReachTheKvPool) {
  TempDir dir;
  Settings s;
  s.model_path = std::string(CJ_SOURCE_DIR) + "/samples/model/changjuan-sample-qwen3.gguf";  // head size 32: q8_0
  auto j = apply_json(s, {{"ctx", 1024}, {"kv_type", "q8_0"}, {"kv_host_mb", 1}, {"kv_disk_dir", dir.file("")},
                          {"kv_disk_mb", 8}, {"threads", 1}});
  ASSERT_TRUE(j.ok()) << j.error();
  ASSERT_TRUE(validate(*j).ok()) << validate(*j).error();
  EngineSettings e = engine_settings(*j);
  EXPECT_EQ(e.ctx, 1024);
  EXPECT_EQ(e.kv_type, KVType::Q8_0);
  EXPECT_EQ(e.kv_host_mb, 1);
  EXPECT_EQ(e.kv_disk_dir, dir.file(""));
  EXPECT_EQ(e.kv_disk_mb, 8);
  EngineOptions bo = engine_options(e, 1024);
  EXPECT_EQ(bo.n_ctx, 1024);
  EXPECT_EQ(bo.kv_type, KVType::Q8_0);
  EXPECT_EQ(bo.kv_host_bytes, size_t(1) << 20);
  EXPECT_EQ(bo.kv_disk_bytes, size_t(8) << 20);
  EXPECT_EQ(bo.kv_disk.rfind(dir.file(""), 0), 0u) << bo.kv_disk;
  auto es = EngineSession::open(e);
  ASSERT_TRUE(es.ok()) << es.error();
  EXPECT_EQ((*es)->n_ctx(), 1024);
  // The pool the engine made has the host budget and a disk tier.
  auto st = (*es)->kv_stats();
  EXPECT_EQ(st.host_budget, size_t(1) << 20);
  EXPECT_EQ(st.disk_budget, size_t(8) << 20);
  EXPECT_FALSE(validate(*apply_json(s, {{"kv_type", "q4"}})).ok());
  EXPECT_NE(validate(*apply_json(s, {{"kv_disk_mb", 8}})).error().find("kv_disk_dir"), std::string::npos);
}

// Automatic context: the trained length when the machine holds it, less when RAM or the budgets are short.
TEST(EngineConfig, AutomaticContextFitsTheMachine) {
  ModelInfo m;
  m.n_layers = 28;
  m.n_kv_heads = 4;
  m.head_dim = m.head_dim_v = 128;
  m.n_ctx_train = 40960;
  m.file_bytes = int64_t(5) << 30;
  m.has_tokenizer = true;
  EXPECT_EQ(m.kv_bytes_per_token(KVType::F16), size_t(28 * 4 * 128 * 2 * 2));  // 57,344 B
  MachineInfo big{int64_t(64) << 30, int64_t(60) << 30, 16, false};
  EngineSettings s;
  EXPECT_EQ(auto_context(m, s, big), 40960);  // 2.2 GiB of KV fits: the trained length
  MachineInfo small{int64_t(8) << 30, int64_t(6) << 30, 4, false};
  // 6 GiB free − 5 GiB model = 1 GiB, three quarters for the KV: 768 MiB / 56 KiB = 14,043 → 13,824 (whole blocks)
  EXPECT_EQ(auto_context(m, s, small), 13824);
  s.kv_type = KVType::Q8_0;  // about half the bytes: more tokens
  EXPECT_GT(auto_context(m, s, small), 25000);
  s.kv_type = KVType::F16;
  s.kv_host_mb = 256;  // the writer's budget rules
  EXPECT_EQ(auto_context(m, s, big), 4608);
  s.kv_host_mb = 0;
  // Three sequences (jobs at once) share the room: each may hold the whole context, so a third each.
  s.parallel = 3;
  EXPECT_EQ(auto_context(m, s, small), 13824 / 3 / 256 * 256);
  EXPECT_EQ(auto_context(m, s, big), 40960);  // 6.6 GiB for three still fits
  s.ctx = 4096;
  EXPECT_EQ(validate_for_machine(s, m, big).kv_bytes, int64_t(3) * 4096 * 57344);  // what the engine's pool takes
  s.ctx = 0;
  s.parallel = 1;
  m.n_ctx_train = 0;  // the file does not say: 4096
  EXPECT_EQ(auto_context(m, s, big), 4096);
  m.n_ctx_train = 40960;

  // Checks against the machine, in the writer's words.
  s.ctx = 32768;
  MachineCheck c = validate_for_machine(s, m, big);
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.ctx, 32768);
  EXPECT_EQ(c.kv_bytes, int64_t(32768) * 57344);
  s.kv_host_mb = 100;  // 100 MiB cannot hold 1.75 GiB and there is no disk tier
  c = validate_for_machine(s, m, big);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.errors[0].find("磁盘分层"), std::string::npos) << c.errors[0];
  s.kv_host_mb = 0;
  s.ctx = 65536;  // beyond the trained length: a warning
  c = validate_for_machine(s, m, big);
  EXPECT_TRUE(c.ok());
  ASSERT_FALSE(c.warnings.empty());
  EXPECT_NE(c.warnings[0].find("训练"), std::string::npos);
  m.file_bytes = int64_t(70) << 30;  // a model larger than the machine's RAM
  c = validate_for_machine(s, m, big);
  EXPECT_FALSE(c.ok());
  // Backend cuda: refused where no CUDA backend can run; the device tier comes before the host tier.
  m.file_bytes = int64_t(1) << 30;
  s.backend = "cuda";
  s.kv_gpu_mb = 1024;  // 1 GiB of the 3.5 GiB KV cache on the GPU
  MachineInfo gpu = big;
  gpu.cuda_backend = false;
  c = validate_for_machine(s, m, gpu);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.errors[0].find("GPU"), std::string::npos) << c.errors[0];
  gpu.cuda_backend = true;
  c = validate_for_machine(s, m, gpu);
  EXPECT_TRUE(c.ok()) << (c.errors.empty() ? "" : c.errors[0]);
  EXPECT_EQ(c.kv_device_bytes, int64_t(1) << 30);
  EXPECT_EQ(c.kv_host_bytes, c.kv_bytes - c.kv_device_bytes);
  s.kv_gpu_mb = 0;  // the whole context on the GPU
  c = validate_for_machine(s, m, gpu);
  EXPECT_EQ(c.kv_device_bytes, c.kv_bytes);
  EXPECT_EQ(c.kv_host_bytes, 0);
  s.backend = "cpu";

  s.threads = 64;
  c = validate_for_machine(s, m, small);
  bool threads_warned = false;
  for (const auto& w : c.warnings) threads_warned = threads_warned || w.find("线程") != std::string::npos;
  EXPECT_TRUE(threads_warned);
}

TEST(EngineConfig, InspectsTheSampleModel) {
  auto m = inspect_model(std::string(CJ_SOURCE_DIR) + "/samples/model/changjuan-sample-qwen3.gguf");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->arch, "qwen3");
  EXPECT_EQ(m->n_ctx_train, 2048);
  EXPECT_EQ(m->n_layers, 6);
  EXPECT_EQ(m->quant, "f16");
  EXPECT_TRUE(m->has_tokenizer);
  EXPECT_GT(m->file_bytes, 20'000'000);
  EXPECT_NEAR(double(m->params), 10.09e6, 0.05e6);
  EXPECT_FALSE(inspect_model("/no/such.gguf").ok());
}

}  // namespace
}  // namespace cj::studio
