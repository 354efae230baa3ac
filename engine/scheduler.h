// Continuous batching over an Engine: requests join and leave the running batch between steps. Each step is one
// Engine::eval: a decode token of every running sequence, then prefill chunks of the sequences still reading their
// prompts, up to a token budget (so a long prefill does not stall the others). A sequence whose prompt's next block
// another sequence is computing waits for it and then attaches the block from the prefix cache, so N requests that
// share a book context hold its KV once. When the KV pool is full, the most recently admitted sequence is
// preempted: its blocks go back to the pool (full ones stay in the prefix cache, possibly spilled to disk) and it is
// recomputed later from its prompt and the tokens it generated; the others never see an error. Each request can be
// cancelled (its flag, or RequestStream::cancel) and ends within one step. A finished request's sequence stays
// (idle, with its KV) until its slot is needed, so a follow-up request that continues the text reuses all of it.
//
// The scheduler owns its thread and is the only user of the engine while it runs. Text comes back through a
// RequestStream that the submitting thread reads (so a slow reader never stalls the batch). A request with
// max_unread sits out the steps while its reader is behind; a reader that is already waiting for its piece (woken
// but not yet run: a busy machine runs it late) can be waited for, up to reader_wait_ms (off by default), so that its
// sequence decodes in the next step instead of skipping it.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/generate.h"

namespace cj {

struct GenRequest {
  std::vector<TokenId> prompt;     // BOS / chat wrapping already applied
  GenerateParams params;
  int n = 1;                       // choices: n sequences sampled from the same prompt (seed + i)
  const std::atomic<bool>* cancel = nullptr;  // may be set from any thread; must outlive the request
  // KV session files (a job's resume point): load_session is read into the new sequence before its prompt when
  // the file exists (a refused file is noted, not an error); save_session receives the prompt's KV (all but its
  // last token) once that is prefilled, when that is at least one block.
  std::string load_session, save_session;
  uint64_t tokenizer_hash = 0;     // for the session files
  // Flow control: a choice with this many pieces not yet read by RequestStream::next sits out the decode steps
  // (the others go on), so a reader that stops on a piece finds at most one more token generated. 0: unbounded.
  int max_unread = 0;
};

struct ChoiceResult {
  GenerateStats stats;
  int reused_tokens = 0;           // prompt tokens found in the KV cache (own or prefix cache)
  int session_loaded_tokens = 0;
  bool session_saved = false;
  std::string session_note;
  int preempted = 0;               // times this sequence was preempted and recomputed
  // The scheduler's step count when the request was first admitted, and the step that gave its first token: the
  // difference is its time to first token in steps, whatever its reader's thread was doing meanwhile.
  int64_t admitted_step = -1, first_token_step = -1;
};

// What a request streams back. Thread-safe.
// What the scheduler waits on while a reader takes its piece (shared with the streams, which may outlive it).
struct ReaderWake {
  std::mutex mu;
  std::condition_variable cv;
};

class RequestStream {
 public:
  struct Piece {
    int choice = 0;
    std::string text;
  };
  // Waits up to `timeout` for text; returns false when nothing came (check done()).
  bool next(Piece* out, std::chrono::milliseconds timeout);
  // True once every choice has ended and all text has been read by next().
  bool done() const;
  // Blocks until every choice ended (text not read is kept).
  void wait() const;
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }
  // After the end: the error that ended the request ("" when none), and each choice's result.
  std::string error() const;
  std::vector<ChoiceResult> results() const;

 private:
  friend class Scheduler;
  void push(int choice, std::string_view text);
  int unread(int choice) const;
  bool reader_waiting() const;  // the reader is inside next() (waiting, or woken and about to take a piece)
  void end_choice(int choice, ChoiceResult r, const std::string& error);
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Piece> pieces_;
  std::vector<int> unread_;  // per choice: pieces in pieces_
  std::vector<ChoiceResult> results_;
  std::shared_ptr<ReaderWake> wake_;
  int in_next_ = 0;  // readers inside next()
  int open_ = 0;
  std::string error_;
  std::atomic<bool> cancelled_{false};
};

struct SchedulerOptions {
  int step_tokens = 0;  // tokens per step (0: the engine's n_batch)
  // Longest wait before a step for readers that are inside RequestStream::next but have not taken their last piece
  // (0: never wait; a late reader's sequence then sits the step out). Off by default: on the loaded 2-core VM, 8
  // serve clients with a 20 ms wait skipped no decode slots (4-5 % before) but their aggregate rate came out lower
  // than without it (docs/engine.md); CJ_READER_WAIT_MS sets it for serve and the studio's engine session.
  int reader_wait_ms = 0;
};

struct SchedulerStats {
  int running = 0, waiting = 0;
  int64_t steps = 0, tokens = 0, generated = 0, preemptions = 0, requests = 0;
  int64_t decode_rows = 0;  // decode tokens in all steps (generated / steps: the mean batch of decodes)
  int64_t sat_out = 0;      // decode slots skipped because the request's reader had not taken its last piece
  double eval_ms = 0;       // time in Engine::eval; the rest of the scheduler thread's time is its own overhead
  double busy_ms = 0;       // time from a step's composition to its results handed out (eval_ms included)
  double reader_wait_ms = 0;  // time waiting before steps for readers about to take their pieces
  // Steps of decode tokens only (no prompt chunk): their count, rows and time, to compare with `bench --sequences`.
  int64_t decode_steps = 0, decode_step_rows = 0;
  double decode_step_ms = 0;
};

class Scheduler {
 public:
  // The engine (its max_sequences bounds the running batch) and the tokenizer must outlive the scheduler.
  Scheduler(Engine& engine, const Tokenizer& tok, const SchedulerOptions& o = {});
  ~Scheduler();  // cancels what runs and waits for the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request; it joins the batch at the next step with a free sequence. Never blocks on generation.
  std::shared_ptr<RequestStream> submit(GenRequest r);
  SchedulerStats stats() const;
  Engine& engine() { return engine_; }

 private:
  struct Job;
  void run();
  void step(std::vector<std::unique_ptr<Job>>& active);
  void wait_for_readers(const std::vector<std::unique_ptr<Job>>& active);

  Engine& engine_;
  const Tokenizer& tok_;
  SchedulerOptions o_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> waiting_;  // guarded by mu_
  std::shared_ptr<ReaderWake> wake_ = std::make_shared<ReaderWake>();
  std::atomic<bool> quit_{false};
  SchedulerStats stats_;                      // guarded by mu_
  // Scratch of the scheduler's thread.
  std::vector<float> logits_;          // [max_sequences, n_vocab] one step's logits, rows adjacent
  std::vector<SeqTokens> entries_;
  std::vector<Job*> who_;
  std::vector<uint64_t> claimed_;      // prefix blocks being computed this step
  bool hold_ = false;                  // after a preemption: admit nobody until a running request leaves
  // Sequences of finished requests, kept with their KV: a new request takes the one sharing the longest prefix
  // with its prompt (the partial last block included, which the prefix cache does not hold). Dropped first when
  // the pool is full or a sequence is needed.
  std::vector<std::unique_ptr<Sequence>> idle_;
  std::thread thread_;
};

}  // namespace cj
