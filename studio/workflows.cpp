#include "studio/workflows.h"

#include <algorithm>

#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapter_numbering.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "memory/context_builder.h"
#include "studio/json_fields.h"
#include "studio/prompts.h"

namespace cj::studio {

size_t byte_offset_of(std::string_view s, int64_t cp) {
  if (cp <= 0) return 0;
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == cp) return i;
      ++n;
    }
  }
  return s.size();
}

namespace {

int64_t cps(std::string_view s) { return int64_t(utf8::count_code_points(s)); }

// The last `max_cp` code points of s.
std::string tail_cp(const std::string& s, int64_t max_cp) {
  int64_t n = cps(s);
  return n <= max_cp ? s : s.substr(byte_offset_of(s, n - max_cp));
}
std::string head_cp(const std::string& s, int64_t max_cp) { return s.substr(0, byte_offset_of(s, max_cp)); }

// The longest tail (fit_tail) or head (fit_head) of text with at most `budget` tokens: a binary search over the
// cut point in code points (token density varies along a text, so a proportional cut is not enough).
std::string fit_part(Generator& e, const std::string& text, int budget, bool tail) {
  if (budget <= 0) return "";
  if (e.count_tokens(text) <= budget) return text;
  int64_t n = cps(text);
  int64_t lo = 0, hi = std::min<int64_t>(n, int64_t(budget) * 8);  // keep lo code points: fits; hi: too many
  auto part = [&](int64_t k) { return tail ? tail_cp(text, k) : head_cp(text, k); };
  if (e.count_tokens(part(hi)) <= budget) return part(hi);
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (e.count_tokens(part(mid)) <= budget) lo = mid;
    else hi = mid;
  }
  return part(lo);
}
std::string fit_tail(Generator& e, const std::string& text, int budget) { return fit_part(e, text, budget, true); }
std::string fit_head(Generator& e, const std::string& text, int budget) { return fit_part(e, text, budget, false); }

// The chapter's heading as the prompt names it: the heading line without indentation (a story's centred title),
// else the book's label (storage::chapter_label).
std::string heading_of(const storage::ChapterInfo& c) {
  std::string_view h = c.heading;
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (h.size() >= 3 && h.compare(0, 3, "\u3000") == 0) h.remove_prefix(3);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (!h.empty()) return std::string(h);
  return storage::chapter_label(c);
}

}  // namespace

nlohmann::json to_json(const WorkflowParams& p) {
  return {{"kind", p.kind},           {"book_id", p.book_id},       {"ordinal", p.ordinal},
          {"cursor", p.cursor},       {"heading", p.heading},       {"title", p.title},
          {"outline", p.outline},
          {"target_chars", p.target_chars}, {"sel_begin", p.sel_begin}, {"sel_end", p.sel_end},
          {"instruction", p.instruction},   {"max_tokens", p.max_tokens}, {"context_tokens", p.context_tokens},
          {"temperature", p.temperature},   {"seed", p.seed},
          {"prompt_style", p.prompt_style}};
}

Result<WorkflowParams> params_from_json(const nlohmann::json& j) {
  WorkflowParams p;
  const std::string what = "workflow parameter";
  CJ_TRY(json_field(j, "kind", &p.kind, what));
  CJ_TRY(json_field(j, "book_id", &p.book_id, what));
  CJ_TRY(json_field(j, "ordinal", &p.ordinal, what));
  CJ_TRY(json_field(j, "cursor", &p.cursor, what));
  CJ_TRY(json_field(j, "heading", &p.heading, what));
  CJ_TRY(json_field(j, "title", &p.title, what));
  CJ_TRY(json_field(j, "outline", &p.outline, what));
  CJ_TRY(json_field(j, "target_chars", &p.target_chars, what));
  CJ_TRY(json_field(j, "sel_begin", &p.sel_begin, what));
  CJ_TRY(json_field(j, "sel_end", &p.sel_end, what));
  CJ_TRY(json_field(j, "instruction", &p.instruction, what));
  CJ_TRY(json_field(j, "max_tokens", &p.max_tokens, what));
  CJ_TRY(json_field(j, "context_tokens", &p.context_tokens, what));
  CJ_TRY(json_field(j, "temperature", &p.temperature, what));
  CJ_TRY(json_field(j, "seed", &p.seed, what));
  CJ_TRY(json_field(j, "prompt_style", &p.prompt_style, what));
  if (p.kind != "continue" && p.kind != "draft" && p.kind != "rewrite" && p.kind != "expand" && p.kind != "condense")
    return make_error("unknown workflow '" + p.kind + "' (continue, draft, rewrite, expand, condense)");
  if (p.book_id <= 0) return make_error("workflow: no book id");
  if (p.ordinal < 0) return make_error("workflow: the chapter ordinal must be 0 or more");
  if (p.kind == "draft" && (p.target_chars < 10 || p.target_chars > 200000))
    return make_error("draft: the target length must be between 10 and 200000 字");
  if (p.max_tokens < 1 || p.max_tokens > 1 << 20) return make_error("max_tokens must be between 1 and 1048576");
  if ((p.kind == "rewrite" || p.kind == "expand" || p.kind == "condense") && p.sel_end <= p.sel_begin)
    return make_error(p.kind + ": the selection is empty");
  if (p.prompt_style != "instruct" && p.prompt_style != "plain")
    return make_error("prompt style must be instruct or plain, got '" + p.prompt_style + "'");
  if (p.prompt_style == "plain" && p.kind != "continue" && p.kind != "draft")
    return make_error(p.kind + " needs instructions: use the instruct prompt style with an instruction-tuned model");
  if (p.temperature < 0 || p.temperature > 5) return make_error("temperature must be between 0 and 5");
  return p;
}

Result<std::string> book_context(storage::Database& db, Generator& engine, int64_t book_id, int64_t ordinal,
                                 int budget_tokens, const std::string& outline, const std::string& current_text) {
  // Token counts come from the model's own tokenizer; for a remote server (whose tokenizer is not here) from the
  // bundled Qwen tokenizer, and the result is then fitted again with the server's over-counting estimate.
  const Tokenizer* tok = engine.own_tokenizer();
  if (!tok) {
    static const Result<std::unique_ptr<Tokenizer>> bundled = []() -> Result<std::unique_ptr<Tokenizer>> {
      auto path = memory::bundled_tokenizer_path();
      if (!path.ok()) return make_error(path.error());
      return load_tokenizer(*path);
    }();
    if (!bundled.ok()) return make_error("book context: " + bundled.error());
    tok = bundled->get();
  }
  memory::ContextRequest rq;
  rq.book_id = book_id;
  rq.chapter = ordinal;
  rq.task = outline.empty() ? memory::prompts::Task::kContinue : memory::prompts::Task::kDraft;
  rq.outline = outline;
  rq.current_text = current_text;
  rq.use_stored_current = false;
  rq.budget = std::max(0, budget_tokens);
  rq.book_only = true;
  auto ctx = memory::build_context(db, *tok, rq);
  if (!ctx.ok()) return make_error(ctx.error());
  std::string text = std::move(ctx->text);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty()) text += "\n";
  if (!engine.own_tokenizer()) text = fit_tail(engine, text, budget_tokens);
  return text;
}

Result<WorkflowResult> run_workflow(storage::Database& db, Generator& engine, const WorkflowParams& p,
                                    const std::string& resume_text, const WorkflowHooks& hooks) {
  storage::Chapters chapters(db);
  auto book = storage::Books(db).get(p.book_id);
  if (!book.ok()) return make_error(book.error());

  auto ch = chapters.get_by_ordinal(p.book_id, p.ordinal);
  if (!ch.ok()) {
    if (p.kind != "draft") return make_error(ch.error());
    storage::NewChapter nc;
    nc.ordinal = p.ordinal;
    if (!p.heading.empty()) {
      nc.heading = nc.title = p.heading;
    } else {
      // The book's own next number and style (第一百二十一回 after 第一百二十回, a 楔子 before them or not).
      auto numbering = storage::ChapterNumbering::load(db, p.book_id);
      if (!numbering.ok()) return make_error(numbering.error());
      nc.heading = numbering->heading_for_new(p.ordinal);
      nc.title = p.title;
      if (!p.title.empty()) nc.heading += " " + p.title;
    }
    auto id = chapters.add(p.book_id, nc, storage::RevisionSource::kWriter, "created for an AI draft");
    if (!id.ok()) return make_error(id.error());
    ch = chapters.get(*id);
    if (!ch.ok()) return make_error(ch.error());
  }
  const storage::Chapter chapter = std::move(ch.value());
  const std::string heading = heading_of(chapter);

  const int n_ctx = engine.n_ctx();
  const bool is_draft = p.kind == "draft";
  const bool plain = p.prompt_style == "plain";
  // Tokens to generate in one request; the rest of the window is prompt.
  int gen_budget = is_draft ? std::min(n_ctx / 2, std::max(64, p.target_chars * 2)) : std::min(p.max_tokens, n_ctx / 2);
  int ctx_budget = p.context_tokens > 0 ? std::min(p.context_tokens, n_ctx / 2) : n_ctx / 4;
  // What is being written picks the entity sheets and passages: the text before the cursor, the selection with
  // what precedes it, or (draft) the outline.
  std::string working;
  if (p.kind == "continue")
    working = chapter.body.substr(0, p.cursor < 0 ? chapter.body.size() : byte_offset_of(chapter.body, p.cursor));
  else if (!is_draft)
    working = chapter.body.substr(0, byte_offset_of(chapter.body, p.sel_end));
  auto context = book_context(db, engine, p.book_id, p.ordinal, ctx_budget, is_draft ? p.outline : "", working);
  if (!context.ok()) return make_error(context.error());

  const std::string& body = chapter.body;
  std::string fixed;   // the prompt without the generated text
  std::string before_sel, selection, after_sel;
  if (p.kind == "continue") {
    size_t cur = p.cursor < 0 ? body.size() : byte_offset_of(body, p.cursor);
    before_sel = body.substr(0, cur);
    after_sel = body.substr(cur);
    int room = std::max(64, n_ctx - gen_budget - engine.count_tokens(*context) - 200);
    std::string after = fit_head(engine, after_sel, room / 4);
    std::string before = fit_tail(engine, before_sel, room - engine.count_tokens(after));
    fixed = plain ? prompts::plain_prompt(*context, heading, "", before)
                  : prompts::continue_prompt(book->title, *context, heading, before, after);
  } else if (is_draft) {
    fixed = plain ? prompts::plain_prompt(*context, heading, p.outline, "")
                  : prompts::draft_prompt(book->title, *context, heading, p.outline, p.target_chars);
  } else {
    size_t b = byte_offset_of(body, p.sel_begin), e = byte_offset_of(body, p.sel_end);
    if (b >= e) return make_error(p.kind + ": the selection is outside the chapter's text");
    before_sel = body.substr(0, b);
    selection = body.substr(b, e - b);
    after_sel = body.substr(e);
    int sel_tokens = engine.count_tokens(selection);
    gen_budget = std::min(n_ctx / 2, std::max(p.max_tokens, p.kind == "expand" ? sel_tokens * 3 : sel_tokens * 2));
    int room = std::max(0, n_ctx - gen_budget - sel_tokens - engine.count_tokens(*context) - 300);
    fixed = prompts::rewrite_prompt(p.kind, book->title, *context, fit_tail(engine, before_sel, room / 2), selection,
                                    fit_head(engine, after_sel, room / 2), p.instruction);
  }

  WorkflowResult r;
  r.chapter_id = chapter.id;
  r.generated = resume_text;
  // 字数 as every surface counts it (text::zishu), over complete code points: a piece may end inside one.
  size_t counted = 0;
  auto count_new = [&] {
    size_t end = r.generated.size();
    while (end > counted && (static_cast<unsigned char>(r.generated[end - 1]) & 0xC0) == 0x80) --end;
    if (end > counted && static_cast<unsigned char>(r.generated[end - 1]) >= 0xC0) {
      const unsigned char lead = static_cast<unsigned char>(r.generated[end - 1]);
      const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
      if (r.generated.size() - (end - 1) >= need) end = r.generated.size();  // complete
      else --end;                                                           // wait for the rest
    } else {
      end = r.generated.size();
    }
    r.chars += static_cast<int64_t>(text::zishu(std::string_view(r.generated).substr(counted, end - counted)));
    counted = end;
  };
  count_new();
  const int64_t target = is_draft ? p.target_chars : 0;
  WorkflowProgress prog;
  prog.chars = r.chars;
  int since_checkpoint = 0;
  bool stopped = false;

  // Draft: rounds until the target length (the model may end early); others: one request.
  for (int round = 0; round < (is_draft ? 64 : 1); ++round) {
    if (is_draft && r.chars >= target) break;
    if (hooks.stop && hooks.stop->load()) {
      stopped = true;
      r.stop_reason = "cancelled";
      break;
    }
    // The text so far goes after the fixed part; keep its tail within the window.
    int fixed_tokens = engine.count_tokens(fixed);
    int room = n_ctx - gen_budget - fixed_tokens - 8;
    if (room < 16) return make_error("the context window (" + std::to_string(n_ctx) + " tokens) is too small for this request");
    std::string so_far = fit_tail(engine, r.generated, room);
    SessionRequest req;
    req.prompt = fixed + so_far;
    req.max_tokens = gen_budget;
    req.temperature = p.temperature;
    req.seed = p.seed + uint64_t(round);
    req.kv_session = hooks.kv_session;
    bool reached = false;
    SessionStats ss;
    auto out = engine.generate(req, [&](std::string_view piece) {
      r.generated.append(piece);
      count_new();
      ++prog.tokens;
      prog.chars = r.chars;
      prog.fraction = is_draft ? std::min(1.0, double(r.chars) / double(target))
                               : std::min(1.0, double(prog.tokens) / double(gen_budget));
      if (hooks.on_text) hooks.on_text(piece, prog);
      if (hooks.on_checkpoint && ++since_checkpoint >= std::max(1, hooks.checkpoint_every)) {
        since_checkpoint = 0;
        hooks.on_checkpoint(r.generated, prog);
      }
      if (is_draft && r.chars >= target) {
        reached = true;
        return false;
      }
      return true;
    }, hooks.stop, &ss);
    if (!out.ok()) return make_error(out.error());
    r.gen_tokens += ss.gen_tokens;
    if (round == 0) {
      r.reused_tokens = ss.reused_tokens;
      r.prompt_tokens = ss.prompt_tokens;
    }
    r.stop_reason = reached ? "target" : ss.stop_reason;
    if (ss.stop_reason == "cancelled" && !reached) {
      stopped = true;
      break;
    }
    if (!is_draft) break;
    if (ss.gen_tokens == 0) break;  // the model can say nothing more
  }
  if (hooks.on_checkpoint) hooks.on_checkpoint(r.generated, prog);
  if (stopped) return r;

  // Save the proposal as a revision that is not current.
  std::string proposal;
  std::string note;
  if (p.kind == "continue") {
    proposal = before_sel + r.generated + after_sel;
    note = "AI continue at " + std::to_string(p.cursor < 0 ? cps(body) : p.cursor);
  } else if (is_draft) {
    proposal = r.generated;
    note = "AI draft from outline, " + std::to_string(r.chars) + " 字";
  } else {
    proposal = before_sel + r.generated + after_sel;
    note = "AI " + p.kind + " of [" + std::to_string(p.sel_begin) + "," + std::to_string(p.sel_end) + ")";
  }
  proposal = utf8::sanitize(proposal);
  auto rev = chapters.add_revision(chapter.id, proposal, storage::RevisionSource::kAi, note);
  if (!rev.ok()) return make_error(rev.error());
  r.revision_id = *rev;
  r.completed = true;
  return r;
}

}  // namespace cj::studio
