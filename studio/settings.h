// Settings: per machine (a JSON file, e.g. ~/.config/changjuan/settings.json) and per book (overrides stored
// in the project's meta table under "studio.settings.book.<id>"). The effective settings are the machine's with
// the book's overrides applied. Every value is validated with a message that names the setting.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
#include "storage/database.h"
#include "studio/engine_session.h"
#include "studio/remote_generator.h"

namespace cj::studio {

struct Settings {
  std::string model_path;
  std::string backend = "cpu";     // local (= cpu) | cuda | remote
  std::string remote_url;          // backend remote: OpenAI-compatible base URL (http://host:port/v1)
  std::string remote_model;        // backend remote: the server's model id ("" = the first it lists)
  std::string remote_api_key_env;  // backend remote: environment variable holding the API key ("" = none)
  int threads = 2;
  int parallel = 0;                // jobs run at once (the assistant's requests and batch drafts), as sequences
                                   // decoded in one batch; 0 = automatic (kAutoParallel); drafts leave one free
  int ctx = 0;                     // KV cache size in tokens; 0 = what the machine holds, up to the model's
                                   // trained length (remote: 0 = 8192, say the server's window)
  int context_budget = 0;          // at most this many tokens of book context per request; 0 = the prompt plan's
                                   // share of the context (studio/prompt_plan.h)
  int64_t kv_gpu_mb = 0;           // KV budgets in MiB (0 = room for the whole context)
  int64_t kv_host_mb = 0;
  std::string kv_disk_dir;         // KV disk tier: a folder for the spill file ("" = none)
  int64_t kv_disk_mb = 0;          // its budget (0 = room for the whole context)
  std::string kv_type = "f16";     // f16 | f32 | q8_0
  float temperature = 0.8f;
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  bool chat = false;
  std::string prompt_style = "instruct";  // instruct | plain
};

nlohmann::json to_json(const Settings& s);
// Applies the keys of j over base. Unknown keys and wrong types are errors naming the key.
Result<Settings> apply_json(const Settings& base, const nlohmann::json& j);
Status validate(const Settings& s);
// The engine configuration these settings describe (studio/engine_config.h): every engine field comes from here.
EngineSettings engine_settings(const Settings& s);
// Jobs at once when the setting is 0: two drafts and the assistant's request. Decoding is memory-bound, so three
// sequences cost little more than one per step; their KV caches share the machine's room (auto_context).
inline constexpr int kAutoParallel = 3;
RemoteSettings remote_settings(const Settings& s);  // backend remote (the API key read from its variable)
// The generator the settings describe: the local engine (model loaded) or the remote server (backend remote).
Result<std::unique_ptr<Generator>> open_generator(const Settings& s);

// Machine settings: a missing file gives the defaults.
Result<Settings> load_machine_settings(const std::string& path);
Status save_machine_settings(const std::string& path, const Settings& s);
// Book overrides (a JSON object; {} when none).
Result<nlohmann::json> load_book_overrides(storage::Database& db, int64_t book_id);
Status save_book_overrides(storage::Database& db, int64_t book_id, const nlohmann::json& overrides);
// Machine settings + the book's overrides, validated.
Result<Settings> effective_settings(const Settings& machine, storage::Database& db, int64_t book_id);

}  // namespace cj::studio
