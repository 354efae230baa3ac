// One loaded model on the local engine, shared by the workflows, the job queue, the assistant and the server: the
// model is mapped once, one Engine (one KV pool for every sequence) runs a Scheduler, and every generate() call,
// from any thread, is a request in its batch: concurrent callers are decoded together (engine/scheduler.h) instead
// of waiting for each other. A request whose prompt shares a prefix with a finished request's sequence, or whole
// 256-token blocks with anything in the prefix cache, only prefills the rest.
// Generation streams whole UTF-8 pieces (on the caller's thread) and stops within one token when the caller's stop
// flag is set. The local implementation of Generator (studio/generator.h). Thread-safe.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/scheduler.h"
#include "engine/base/result.h"
#include "engine/generate.h"
#include "engine/model/model.h"
#include "studio/generator.h"

namespace cj::studio {

struct EngineSettings {
  std::string model_path;
  int threads = 1;
  int ctx = 4096;              // tokens the KV cache holds
  KVType kv_type = KVType::F16;
  SamplerParams sampling;      // defaults for requests that do not set their own
  bool chat = false;           // wrap prompts as a ChatML user turn (instruction-tuned models)
  int parallel = 1;            // requests decoded together (sequences of the engine)
  std::string backend = "cpu"; // cpu | cuda (engine/engine.h)
};

// Checks the settings before anything is loaded; the message names the setting.
Status validate(const EngineSettings& s);

class EngineSession : public Generator {
 public:
  static Result<std::unique_ptr<EngineSession>> open(const EngineSettings& s);

  // Generates a continuation of req.prompt. on_text gets each piece; returning false ends this request (the
  // caller's flag is left unset). `stop` (may be null) is polled before every token and may be set from any
  // thread: generation then ends within one token with stop_reason "cancelled". Returns the generated text.
  Result<std::string> generate(const SessionRequest& req, const std::function<bool(std::string_view)>& on_text,
                               std::atomic<bool>* stop, SessionStats* stats = nullptr) override;
  // n choices of one prompt in one batch (seeds seed .. seed + n - 1); on_text gets (choice, piece).
  Result<std::vector<std::string>> generate_choices(const SessionRequest& req, int n,
                                                   const std::function<bool(int, std::string_view)>& on_text,
                                                   std::atomic<bool>* stop, std::vector<SessionStats>* stats) override;
  int max_parallel() const override { return settings_.parallel; }

  // Prompt tokens (with BOS / chat wrapping as generate() would use them).
  std::vector<TokenId> tokenize(const std::string& prompt, int chat = -1) const;
  std::vector<TokenId> tokenize(const SessionRequest& req) const;  // messages in ChatML, or the prompt
  // Whether the vocabulary has ChatML tokens (<|im_start|>), i.e. instructions can be wrapped as a user turn.
  bool has_chat_tokens() const override;
  int count_tokens(const std::string& text) const override;  // plain text, no BOS
  const Tokenizer& tokenizer() const { return *tok_; }
  const Tokenizer* own_tokenizer() const override { return tok_; }
  const Model& model() const { return *model_; }
  const EngineSettings& settings() const { return settings_; }
  int n_ctx() const override { return settings_.ctx; }
  std::string name() const override;  // file name of the model

  // Safe to read from any thread while a generation runs (the UI's engine panel): tokens now in the KV cache,
  // and the prompt / reused-prefix tokens of the latest request.
  int kv_tokens() const { return kv_tokens_.load(std::memory_order_relaxed); }
  int last_prompt_tokens() const { return last_prompt_.load(std::memory_order_relaxed); }
  int last_reused_tokens() const { return last_reused_.load(std::memory_order_relaxed); }
  const char* backend_name() const { return engine_->backend().name(); }
  SchedulerStats scheduler_stats() const { return sched_->stats(); }

 private:
  EngineSession() = default;
  EngineSettings settings_;
  std::unique_ptr<Model> model_;
  const Tokenizer* tok_ = nullptr;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Scheduler> sched_;  // declared after engine_: stops before the engine goes
  uint64_t tokenizer_hash_ = 0;
  std::atomic<int> kv_tokens_{0}, last_prompt_{0}, last_reused_{0};
};

}  // namespace cj::studio
