#include "studio/workflows.h"

#include <algorithm>
#include <cctype>

#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapter_numbering.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "memory/context_builder.h"
#include "engine/base/text.h"
#include "studio/prompt_plan.h"
#include "studio/sentence_end.h"
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

// The bundled Qwen tokenizer: measures the book context for a server, whose tokenizer is not here.
Result<const Tokenizer*> bundled_tokenizer() {
  static const Result<std::unique_ptr<Tokenizer>> bundled = []() -> Result<std::unique_ptr<Tokenizer>> {
    auto path = memory::bundled_tokenizer_path();
    if (!path.ok()) return make_error(path.error());
    return load_tokenizer(*path);
  }();
  if (!bundled.ok()) return make_error("book context: " + bundled.error());
  return bundled->get();
}

}  // namespace

nlohmann::json to_json(const WorkflowParams& p) {
  return {{"kind", p.kind},           {"book_id", p.book_id},       {"ordinal", p.ordinal},
          {"cursor", p.cursor},       {"heading", p.heading},       {"title", p.title},
          {"outline", p.outline},
          {"target_chars", p.target_chars}, {"sel_begin", p.sel_begin}, {"sel_end", p.sel_end},
          {"instruction", p.instruction},   {"max_tokens", p.max_tokens}, {"context_tokens", p.context_tokens},
          {"temperature", p.temperature},   {"seed", p.seed ? nlohmann::json(*p.seed) : nlohmann::json(nullptr)},
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
  if (auto it = j.find("seed"); it != j.end() && !it->is_null()) {
    uint64_t seed = 0;
    CJ_TRY(json_field(j, "seed", &seed, what));
    p.seed = seed;
  }
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

int64_t count_zi(std::string_view text) { return int64_t(text::zishu(text)); }

std::string draft_heading(storage::Database& db, const WorkflowParams& p) {
  if (!p.heading.empty()) return p.heading;
  // The book's own next number and style (第一百二十一回 after 第一百二十回, a 楔子 before them or not).
  auto numbering = storage::ChapterNumbering::load(db, p.book_id);
  std::string h = numbering.ok() ? numbering->heading_for_new(p.ordinal) : storage::heading_for(p.ordinal, "");
  if (!p.title.empty()) h += " " + p.title;
  return h;
}

Status check_no_gap(const storage::ChapterNumbering& numbering, int64_t first, bool chinese) {
  const int64_t next = numbering.last_ordinal() + 1;
  if (first <= next) return Status();
  const auto num = numbering.number(next);
  const std::string next_ref = num ? std::to_string(*num) : "#" + std::to_string(next);
  if (chinese)
    return make_error((numbering.empty() ? std::string("书里还没有章节") : "书稿最后一章是" + numbering.label(next - 1)) +
                      "，下一章是" + numbering.label(next) + "：新章节接在最后一章之后，不能空号");
  return make_error((numbering.empty() ? std::string("the book has no chapters yet")
                                       : "the book ends at " + numbering.label(next - 1)) +
                    "; the next chapter is " + numbering.label(next) + " (" + next_ref +
                    "): new chapters follow the last one without a gap");
}

std::optional<uint64_t> seed_of_note(const std::string& note) {
  static const std::string key = " · seed ";
  const size_t at = note.rfind(key);
  if (at == std::string::npos) return std::nullopt;
  uint64_t v = 0;
  size_t i = at + key.size();
  if (i >= note.size() || note[i] < '0' || note[i] > '9') return std::nullopt;
  for (; i < note.size() && note[i] >= '0' && note[i] <= '9'; ++i) v = v * 10 + uint64_t(note[i] - '0');
  return v;
}

Result<PromptTarget> prompt_target(Generator& engine) {
  PromptTarget t;
  t.n_ctx = engine.n_ctx();
  t.model = engine.name();
  t.tokenizer = engine.own_tokenizer();
  if (!t.tokenizer) {  // a server: the bundled tokenizer builds, the server's estimate fits
    auto b = bundled_tokenizer();
    if (!b.ok()) return make_error(b.error());
    t.tokenizer = *b;
    t.count = [&engine](const std::string& s) { return engine.count_tokens(s); };
  }
  return t;
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
    nc.heading = draft_heading(db, p);
    nc.title = p.heading.empty() ? p.title : p.heading;
    auto id = chapters.add(p.book_id, nc, storage::RevisionSource::kWriter, "created for an AI draft");
    if (!id.ok()) return make_error(id.error());
    ch = chapters.get(*id);
    if (!ch.ok()) return make_error(ch.error());
  }
  const storage::Chapter chapter = std::move(ch.value());

  // The prompt: the same plan the context panel shows (studio/prompt_plan.h).
  auto target = prompt_target(engine);
  if (!target.ok()) return make_error(target.error());
  auto planned = compose_prompt(db, book->title, chapter, p, *target);
  if (!planned.ok()) return make_error(planned.error());
  const PromptPlan& plan = *planned;
  const auto count = [&engine](const std::string& s) { return engine.count_tokens(s); };

  const bool is_draft = p.kind == "draft";
  const int n_ctx = engine.n_ctx();
  WorkflowResult r;
  r.chapter_id = chapter.id;
  r.generated = resume_text;
  // 字数 as every surface counts it (text::zishu), counted as pieces come, over complete code points and words only
  // (a piece may end inside either); the whole text is counted again at the end.
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
    // A western word may go on in the next piece: count up to the last character that is not a letter or digit.
    while (end > counted && std::isalnum(static_cast<unsigned char>(r.generated[end - 1]))) --end;
    r.chars += count_zi(std::string_view(r.generated).substr(counted, end - counted));
    counted = end;
  };
  count_new();
  r.seed = p.seed ? *p.seed : fresh_seed();
  // Drafts end at a sentence end outside quotes: the first one at or after the target, else (10 % over) the last
  // one before; the 字 are counted as the writer's 字数 is.
  const int64_t target_zi = is_draft ? p.target_chars : 0;
  const int64_t limit_zi = target_zi + std::max<int64_t>(1, target_zi / 10);
  SentenceEnds ends;
  ends.append(resume_text);
  bool reached = is_draft && r.chars >= target_zi && ends.at_end();
  bool over = is_draft && r.chars >= limit_zi;
  WorkflowProgress prog;
  prog.chars = r.chars;
  int since_checkpoint = 0;
  bool stopped = false;

  // Draft: rounds until the target (the model may end early); others: one request.
  for (int round = 0; round < (is_draft ? 64 : 1) && !reached && !over; ++round) {
    if (hooks.stop && hooks.stop->load()) {
      stopped = true;
      r.stop_reason = "cancelled";
      break;
    }
    // The text so far (a draft's earlier rounds, a resumed job's checkpoint) follows the plan's prompt.
    const int room = n_ctx - plan.gen_reserve - int(plan.prompt_tokens) - 16;
    if (room < 0) return make_error("the context window (" + std::to_string(n_ctx) + " tokens) is too small for this request");
    SessionRequest req;
    req.prompt = plan.prompt + fit_tail(count, r.generated, room);
    req.max_tokens = plan.gen_reserve;
    req.temperature = p.temperature;
    req.seed = r.seed + uint64_t(round);
    req.kv_session = hooks.kv_session;
    SessionStats ss;
    auto out = engine.generate(req, [&](std::string_view piece) {
      r.generated.append(piece);
      ends.append(piece);
      count_new();
      ++prog.tokens;
      prog.chars = r.chars;
      prog.fraction = is_draft ? std::min(1.0, double(r.chars) / double(target_zi))
                               : std::min(1.0, double(prog.tokens) / double(plan.gen_reserve));
      if (hooks.on_text) hooks.on_text(piece, prog);
      if (hooks.on_checkpoint && ++since_checkpoint >= std::max(1, hooks.checkpoint_every)) {
        since_checkpoint = 0;
        hooks.on_checkpoint(r.generated, prog);
      }
      if (is_draft && r.chars >= target_zi && ends.at_end()) return reached = true, false;
      if (is_draft && r.chars >= limit_zi) return over = true, false;
      return true;
    }, hooks.stop, &ss);
    if (!out.ok()) return make_error(out.error());
    r.gen_tokens += ss.gen_tokens;
    if (round == 0) {
      r.reused_tokens = ss.reused_tokens;
      r.prompt_tokens = ss.prompt_tokens;
    }
    r.stop_reason = reached || over ? "target" : ss.stop_reason;
    if (ss.stop_reason == "cancelled" && !reached && !over) {
      stopped = true;
      break;
    }
    if (!is_draft) break;
    if (ss.gen_tokens == 0) break;  // the model can say nothing more
  }
  if (!stopped) {
    // Where the text may end, best first: a sentence end outside quotes; the end of a paragraph that ends a
    // sentence (its quotes left open: a weak model's quotes may never close); a sentence end inside a quote (at
    // least not mid-word). A draft that did not stop at the first kind (it ran 10 % over, or the model stopped
    // by itself) and a text stopped by its length limit are cut back to the best one that keeps at least half
    // the text; a model that writes no sentence end at all keeps its text.
    auto trimmed = [&](size_t n) {
      while (n > 0 && (r.generated[n - 1] == '\n' || r.generated[n - 1] == ' ')) --n;
      return n;
    };
    const size_t len = trimmed(r.generated.size());
    const bool ended_well = len > 0 && ends.best_end() == len;
    const bool cut = is_draft ? !ended_well : r.stop_reason == "length" && !ended_well;
    const int64_t half = is_draft ? target_zi : r.chars;
    auto keeps_half = [&](size_t e) {
      return e > 0 && e < r.generated.size() && count_zi(std::string_view(r.generated).substr(0, e)) * 2 >= half;
    };
    const bool too_long = is_draft && r.chars > limit_zi;
    if (cut || too_long) {
      // The last end of each kind, best kind first, that keeps the draft within 10 % over its target.
      auto last_fitting = [&](const std::vector<size_t>& v) -> size_t {
        for (auto it = v.rbegin(); it != v.rend(); ++it)
          if (!is_draft || count_zi(std::string_view(r.generated).substr(0, *it)) <= limit_zi) return *it;
        return 0;
      };
      for (const auto* v : {&ends.best_ends(), &ends.paragraph_ends(), &ends.any_ends()})
        if (const size_t e = last_fitting(*v); keeps_half(e)) {
          r.generated.resize(e);
          r.chars = count_zi(r.generated);
          prog.chars = r.chars;
          break;
        }
    }
    while (is_draft && !r.generated.empty() && (r.generated.back() == '\n' || r.generated.back() == ' '))
      r.generated.pop_back();
    r.chars = count_zi(r.generated);  // the whole text at once (a word split over pieces counts once)
    prog.chars = r.chars;
    SentenceEnds e;
    e.append(r.generated);
    const size_t n = trimmed(r.generated.size());
    r.ending = n == 0                   ? "open"
               : e.best_end() == n      ? "sentence"
               : e.paragraph_end() == n ? "paragraph"
               : e.any_end() == n       ? "in_quote"
                                        : "open";
  }
  if (hooks.on_checkpoint) hooks.on_checkpoint(r.generated, prog);
  if (stopped) return r;

  // Save the proposal as a revision that is not current.
  std::string proposal;
  std::string note;
  const std::string seed_note = " · seed " + std::to_string(r.seed);
  if (p.kind == "continue") {
    proposal = plan.before + r.generated + plan.after;
    note = "AI continue at " + std::to_string(p.cursor < 0 ? int64_t(utf8::count_code_points(chapter.body)) : p.cursor);
  } else if (is_draft) {
    proposal = r.generated;
    note = "AI draft from outline, " + std::to_string(r.chars) + " 字";
  } else {
    proposal = plan.before + r.generated + plan.after;
    note = "AI " + p.kind + " of [" + std::to_string(p.sel_begin) + "," + std::to_string(p.sel_end) + ")";
  }
  proposal = utf8::sanitize(proposal);
  auto rev = chapters.add_revision(chapter.id, proposal, storage::RevisionSource::kAi, note + seed_note);
  if (!rev.ok()) return make_error(rev.error());
  r.revision_id = *rev;
  r.completed = true;
  return r;
}

}  // namespace cj::studio
