#include "studio/settings.h"

#include "studio/json_fields.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "engine/base/file.h"
#include "storage/statement.h"

namespace cj::studio {

nlohmann::json to_json(const Settings& s) {
  return {{"model_path", s.model_path}, {"backend", s.backend},         {"remote_url", s.remote_url},
          {"remote_model", s.remote_model}, {"remote_api_key_env", s.remote_api_key_env},
          {"threads", s.threads},       {"parallel", s.parallel},       {"ctx", s.ctx},                 {"context_budget", s.context_budget},
          {"kv_gpu_mb", s.kv_gpu_mb},   {"kv_host_mb", s.kv_host_mb},   {"kv_type", s.kv_type},
          {"kv_disk_dir", s.kv_disk_dir}, {"kv_disk_mb", s.kv_disk_mb},
          {"temperature", s.temperature}, {"top_k", s.top_k},           {"top_p", s.top_p},
          {"min_p", s.min_p},           {"repeat_penalty", s.repeat_penalty}, {"chat", s.chat},
          {"prompt_style", s.prompt_style}};
}

namespace {
template <typename T>
Status take(const nlohmann::json& j, const char* key, T* out) {
  return json_field(j, key, out, "setting");
}
}  // namespace

Result<Settings> apply_json(const Settings& base, const nlohmann::json& j) {
  if (!j.is_object()) return make_error("settings must be a JSON object");
  const nlohmann::json known = to_json(base);
  for (const auto& [k, v] : j.items())
    if (!known.contains(k)) return make_error("unknown setting '" + k + "'");
  Settings s = base;
  CJ_TRY(take(j, "model_path", &s.model_path));
  CJ_TRY(take(j, "backend", &s.backend));
  CJ_TRY(take(j, "remote_url", &s.remote_url));
  CJ_TRY(take(j, "remote_model", &s.remote_model));
  CJ_TRY(take(j, "remote_api_key_env", &s.remote_api_key_env));
  CJ_TRY(take(j, "threads", &s.threads));
  CJ_TRY(take(j, "parallel", &s.parallel));
  CJ_TRY(take(j, "ctx", &s.ctx));
  CJ_TRY(take(j, "context_budget", &s.context_budget));
  CJ_TRY(take(j, "kv_gpu_mb", &s.kv_gpu_mb));
  CJ_TRY(take(j, "kv_host_mb", &s.kv_host_mb));
  CJ_TRY(take(j, "kv_type", &s.kv_type));
  CJ_TRY(take(j, "kv_disk_dir", &s.kv_disk_dir));
  CJ_TRY(take(j, "kv_disk_mb", &s.kv_disk_mb));
  CJ_TRY(take(j, "temperature", &s.temperature));
  CJ_TRY(take(j, "top_k", &s.top_k));
  CJ_TRY(take(j, "top_p", &s.top_p));
  CJ_TRY(take(j, "min_p", &s.min_p));
  CJ_TRY(take(j, "repeat_penalty", &s.repeat_penalty));
  CJ_TRY(take(j, "chat", &s.chat));
  CJ_TRY(take(j, "prompt_style", &s.prompt_style));
  return s;
}

Status validate(const Settings& s) {
  if (s.backend != "cpu" && s.backend != "cuda" && s.backend != "local" && s.backend != "remote")
    return make_error("setting backend must be local (= cpu), cuda or remote, not '" + s.backend + "'");
  if (s.backend == "remote") {
    if (s.remote_url.rfind("http://", 0) != 0 && s.remote_url.rfind("https://", 0) != 0)
      return make_error("setting remote_url must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)");
    if (s.remote_url.find_first_of(" \t\r\n") != std::string::npos)
      return make_error("setting remote_url must not contain spaces");
    for (char c : s.remote_api_key_env)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
        return make_error("setting remote_api_key_env must be an environment variable name (letters, digits, _), not '" +
                          s.remote_api_key_env + "'");
  } else {
    CJ_TRY(validate(engine_settings(s)));
  }
  if (s.parallel < 0 || s.parallel > 64) return make_error("setting parallel must be 0 (automatic) or between 1 and 64");
  if (s.ctx != 0 && (s.ctx < 64 || s.ctx > (1 << 20)))
    return make_error("setting ctx must be 0 (automatic) or between 64 and 1048576 tokens");
  if (s.context_budget < 0 || (s.context_budget > 0 && s.ctx > 0 && s.context_budget >= s.ctx))
    return make_error("setting context_budget must be 0 (automatic) or less than ctx (" + std::to_string(s.ctx) + ")");
  if (s.kv_gpu_mb < 0 || s.kv_host_mb < 0 || s.kv_disk_mb < 0)
    return make_error("KV budgets (kv_gpu_mb, kv_host_mb, kv_disk_mb) cannot be negative");
  if (s.kv_disk_mb > 0 && s.kv_disk_dir.empty()) return make_error("setting kv_disk_mb needs kv_disk_dir (a folder)");
  KVType kt;
  if (!kv_type_from_name(s.kv_type, &kt)) return make_error("setting kv_type must be f16, f32 or q8_0");
  if (s.temperature < 0 || s.temperature > 5) return make_error("setting temperature must be between 0 and 5");
  if (s.top_k < 0) return make_error("setting top_k cannot be negative (0 = off)");
  if (s.top_p <= 0 || s.top_p > 1) return make_error("setting top_p must be in (0, 1]");
  if (s.min_p < 0 || s.min_p >= 1) return make_error("setting min_p must be in [0, 1)");
  if (s.repeat_penalty <= 0) return make_error("setting repeat_penalty must be positive (1 = off)");
  if (s.prompt_style != "instruct" && s.prompt_style != "plain")
    return make_error("setting prompt_style must be instruct or plain");
  return Status();
}

EngineSettings engine_settings(const Settings& s) {
  EngineSettings e;
  e.backend = s.backend == "cuda" ? "cuda" : "cpu";
  e.model_path = s.model_path;
  e.threads = s.threads;
  e.parallel = s.parallel > 0 ? s.parallel : kAutoParallel;
  e.ctx = s.ctx;
  if (!kv_type_from_name(s.kv_type, &e.kv_type)) e.kv_type = KVType::F16;  // validate() names a bad one
  e.kv_host_mb = s.kv_host_mb;
  e.kv_disk_dir = s.kv_disk_dir;
  e.kv_disk_mb = s.kv_disk_mb;
  e.kv_gpu_mb = s.kv_gpu_mb;
  e.sampling.temperature = s.temperature;
  e.sampling.top_k = s.top_k;
  e.sampling.top_p = s.top_p;
  e.sampling.min_p = s.min_p;
  e.sampling.repeat_penalty = s.repeat_penalty;
  e.chat = s.chat;
  return e;
}

Result<Settings> load_machine_settings(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Settings{};
  auto text = read_file(path);
  if (!text.ok()) return make_error(text.error());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return make_error(path + " is not valid JSON; fix or delete it");
  auto s = apply_json(Settings{}, j);
  if (!s.ok()) return make_error(path + ": " + s.error());
  return s;
}

Status save_machine_settings(const std::string& path, const Settings& s) {
  CJ_TRY(validate(s));
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  return write_file_atomic(path, to_json(s).dump(2) + "\n");
}

namespace {
std::string book_key(int64_t book_id) { return "studio.settings.book." + std::to_string(book_id); }
}  // namespace

Result<nlohmann::json> load_book_overrides(storage::Database& db, int64_t book_id) {
  auto st = db.prepare("SELECT value FROM meta WHERE key = ?1");
  if (!st.ok()) return make_error(st.error());
  st->bind(1, book_key(book_id));
  auto row = st->step();
  if (!row.ok()) return make_error(row.error());
  if (!*row) return nlohmann::json::object();
  auto j = nlohmann::json::parse(st->col_text(0), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("the book's stored settings are damaged; save them again");
  return j;
}

Status save_book_overrides(storage::Database& db, int64_t book_id, const nlohmann::json& overrides) {
  auto s = apply_json(Settings{}, overrides);  // names bad keys/types
  if (!s.ok()) return make_error(s.error());
  auto st = db.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2");
  if (!st.ok()) return make_error(st.error());
  st->bind(1, book_key(book_id)).bind(2, overrides.dump());
  auto r = st->step();
  if (!r.ok()) return make_error(r.error());
  return Status();
}

Result<Settings> effective_settings(const Settings& machine, storage::Database& db, int64_t book_id) {
  auto o = load_book_overrides(db, book_id);
  if (!o.ok()) return make_error(o.error());
  auto s = apply_json(machine, *o);
  if (!s.ok()) return make_error("book " + std::to_string(book_id) + ": " + s.error());
  CJ_TRY(validate(*s));
  return s;
}

RemoteSettings remote_settings(const Settings& s) {
  RemoteSettings r;
  r.url = s.remote_url;
  r.model = s.remote_model;
  if (!s.remote_api_key_env.empty())
    if (const char* key = std::getenv(s.remote_api_key_env.c_str())) r.api_key = key;
  r.ctx = s.ctx > 0 ? s.ctx : 8192;
  r.temperature = s.temperature;
  r.chat = s.prompt_style != "plain";
  return r;
}

Result<std::unique_ptr<Generator>> open_generator(const Settings& s) {
  CJ_TRY(validate(s));
  if (s.backend == "remote") {
    if (!s.remote_api_key_env.empty() && !std::getenv(s.remote_api_key_env.c_str()))
      return make_error("setting remote_api_key_env names " + s.remote_api_key_env + ", which is not set");
    auto g = RemoteGenerator::open(remote_settings(s));
    if (!g.ok()) return make_error(g.error());
    return std::unique_ptr<Generator>(std::move(g.value()));
  }
  auto e = EngineSession::open(engine_settings(s));
  if (!e.ok()) return make_error(e.error());
  return std::unique_ptr<Generator>(std::move(e.value()));
}

}  // namespace cj::studio
