#include "studio/prompt_plan.h"

#include "storage/chapter_numbering.h"
#include "studio/context_words.h"

#include <algorithm>
#include <cstdio>

#include "engine/base/utf8.h"
#include "memory/context_builder.h"
#include "memory/prompts.h"
#include "storage/books.h"
#include "storage/chapter_numbering.h"
#include "storage/chapter_splitter.h"
#include "studio/context_words.h"
#include "studio/prompts.h"

namespace cj::studio {
namespace {

using CountFn = std::function<int(const std::string&)>;

int64_t cps(std::string_view s) { return int64_t(utf8::count_code_points(s)); }
std::string tail_cp(const std::string& s, int64_t max_cp) {
  const int64_t n = cps(s);
  return n <= max_cp ? s : s.substr(byte_offset_of(s, n - max_cp));
}
std::string head_cp(const std::string& s, int64_t max_cp) { return s.substr(0, byte_offset_of(s, max_cp)); }

// Binary search over the cut point in code points (token density varies along a text).
std::string fit_part(const CountFn& count, const std::string& text, int budget, bool tail) {
  if (budget <= 0 || text.empty()) return "";
  if (count(text) <= budget) return text;
  const int64_t n = cps(text);
  int64_t lo = 0, hi = std::min<int64_t>(n, int64_t(budget) * 8);  // lo code points fit; hi: too many
  auto part = [&](int64_t k) { return tail ? tail_cp(text, k) : head_cp(text, k); };
  if (count(part(hi)) <= budget) return part(hi);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (count(part(mid)) <= budget) lo = mid;
    else hi = mid;
  }
  return part(lo);
}

const char* book_heading(const std::string& kind) {
  namespace mp = memory::prompts;
  if (kind == "synopsis") return mp::kSynopsisHeading;
  if (kind == "arc_summaries") return mp::kArcsHeading;
  if (kind == "chapter_summaries") return mp::kChaptersHeading;
  if (kind == "entity_sheets") return mp::kEntitiesHeading;
  if (kind == "passages") return mp::kPassagesHeading;
  if (kind == "verbatim") return mp::kVerbatimHeading;
  return nullptr;
}

// The builder's text cut into its sections at their headings (each section is heading + body + blank line, in
// the manifest's order). When a heading cannot be found where it should be, the text stays one section.
std::vector<PromptSection> split_book_context(const memory::Context& c, const storage::ChapterNumbering& numbering,
                                             int64_t ordinal) {
  std::vector<size_t> starts;
  size_t from = 0;
  bool ok = !c.sections.empty();
  for (const auto& s : c.sections) {
    const char* h = book_heading(s.kind);
    const size_t at = h ? c.text.find(h, from) : std::string::npos;
    if (at == std::string::npos || (starts.empty() && at != 0)) {
      ok = false;
      break;
    }
    starts.push_back(at);
    from = at + std::char_traits<char>::length(h);
  }
  std::vector<PromptSection> out;
  if (!ok) {
    PromptSection one;
    one.kind = "book_context";
    one.text = c.text;
    one.reason = "书稿上下文";
    for (const auto& s : c.sections) one.chapters.insert(one.chapters.end(), s.chapters.begin(), s.chapters.end());
    out.push_back(std::move(one));
    return out;
  }
  for (size_t i = 0; i < c.sections.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : c.text.size();
    PromptSection s;
    s.kind = c.sections[i].kind;
    s.text = c.text.substr(starts[i], end - starts[i]);
    s.chapters = c.sections[i].chapters;
    s.reason = section_reason(c.sections[i], c, numbering, ordinal);  // in the writer's words
    out.push_back(std::move(s));
  }
  return out;
}

std::string pct(int64_t part, int64_t whole) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", whole > 0 ? 100.0 * double(part) / double(whole) : 0.0);
  return b;
}
std::string num(int64_t n) {  // 32,768
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace

std::string fit_tail(const CountFn& count, const std::string& text, int budget) { return fit_part(count, text, budget, true); }
std::string fit_head(const CountFn& count, const std::string& text, int budget) { return fit_part(count, text, budget, false); }

// The chapter's heading as the prompt names it: the heading line without indentation (a story's centred title),
// else its title, else the book's label (storage::chapter_label).
std::string prompt_heading(const storage::ChapterInfo& c) {
  std::string_view h = c.heading;
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (h.size() >= 3 && h.compare(0, 3, "\u3000") == 0) h.remove_prefix(3);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (!h.empty()) return std::string(h);
  return c.title.empty() ? storage::chapter_label(c) : c.title;
}

Result<PromptPlan> compose_prompt(storage::Database& db, const std::string& book_title, const storage::Chapter& chapter,
                                  const WorkflowParams& p, const PromptTarget& target) {
  if (!target.tokenizer) return make_error("prompt plan: no tokenizer to measure the book context with");
  if (target.n_ctx < 64) return make_error("prompt plan: the context window is " + std::to_string(target.n_ctx) + " tokens");
  const Tokenizer& tok = *target.tokenizer;
  const CountFn count = target.count ? target.count : CountFn([&tok](const std::string& s) {
    return int(tok.encode(s, false).size());
  });
  const bool plain = p.prompt_style == "plain";
  const bool is_continue = p.kind == "continue", is_draft = p.kind == "draft";
  const bool is_rewrite = !is_continue && !is_draft;
  const int n = target.n_ctx;

  PromptPlan plan;
  plan.n_ctx = n;
  plan.chapter_id = chapter.id;
  plan.heading = prompt_heading(chapter);
  const std::string& body = chapter.body;
  if (is_continue) {
    const size_t cur = p.cursor < 0 ? body.size() : byte_offset_of(body, p.cursor);
    plan.before = body.substr(0, cur);
    plan.after = body.substr(cur);
  } else if (is_rewrite) {
    const size_t b = byte_offset_of(body, p.sel_begin), e = byte_offset_of(body, p.sel_end);
    if (b >= e) return make_error(p.kind + ": the selection is outside the chapter's text");
    plan.before = body.substr(0, b);
    plan.selection = body.substr(b, e - b);
    plan.after = body.substr(e);
  }

  // The generation reserve: what one request may write.
  const int sel_tokens = is_rewrite ? count(plan.selection) : 0;
  if (is_continue) plan.gen_reserve = std::min(p.max_tokens, n / 2);
  else if (is_draft) plan.gen_reserve = std::min(n / 2, std::max(128, p.target_chars * 3 / 2));
  else plan.gen_reserve = std::min(n / 2, std::max(p.max_tokens, p.kind == "expand" ? sel_tokens * 3 : sel_tokens * 2));

  // The fixed text around the book context and the writer's text.
  const bool with_after = is_continue && !plan.after.empty();
  std::string head, task_part, line_part;  // role (instruct) · … · task · heading line
  std::string outline_part;
  if (!plain) head = prompts::role(book_title);
  if (is_continue) {
    if (!plain) task_part = prompts::continue_task();
    line_part = plain ? prompts::plain_line(plan.heading) : prompts::chapter_line(plan.heading);
  } else if (is_draft) {
    outline_part = plain ? prompts::plain_line(p.outline) : prompts::outline_block(p.outline);
    if (!plain) task_part = prompts::draft_task(p.target_chars);
    line_part = plain ? prompts::plain_line(plan.heading) : prompts::chapter_line(plan.heading);
  } else {
    task_part = prompts::rewrite_task(p.kind, p.instruction);
    line_part = prompts::rewrite_result_label(p.kind);
  }
  std::string labels;  // the labels of the parts that carry the writer's text (measured with the fixed text)
  if (with_after) labels += prompts::after_cursor("x");
  if (is_rewrite) {
    labels += prompts::selection_block("");
    if (!plan.before.empty()) labels += prompts::before_selection("x");
    if (!plan.after.empty()) labels += prompts::after_selection("x");
  }
  const int margin = 16;  // the chat template's wrapping and the joints between parts
  plan.fixed_tokens = count(head + std::string(plain ? "" : prompts::kBookContextLabel) + outline_part + task_part +
                            line_part + labels);
  const int available = n - plan.gen_reserve - margin - plan.fixed_tokens;
  if (available < 32)
    return make_error("the context window (" + std::to_string(n) + " tokens) is too small for this request (" +
                      std::to_string(plan.gen_reserve) + " to generate, " + std::to_string(plan.fixed_tokens) +
                      " of instructions and outline); raise the context size");

  // The shares: 45 % for the writer's text, the rest for the book (at most the settings' cap).
  plan.text_budget = available * 45 / 100;
  int before_budget = 0, after_budget = 0;
  if (is_continue) {
    after_budget = with_after ? available * 10 / 100 : 0;
    before_budget = plan.text_budget - after_budget;
  } else if (is_rewrite) {
    if (sel_tokens > available - 16)
      return make_error(p.kind + ": the selection (" + std::to_string(sel_tokens) + " tokens) does not fit the context "
                        "window with room to write; select less or raise the context size");
    plan.text_budget = std::max(plan.text_budget, sel_tokens);
    const int around = plan.text_budget - sel_tokens;
    before_budget = around * 2 / 3;
    after_budget = around - before_budget;
  }
  plan.book_budget = available - plan.text_budget;
  if (p.context_tokens > 0) plan.book_budget = std::min(plan.book_budget, p.context_tokens);

  // The writer's text within its share.
  std::string before_t, after_t;
  if (is_continue) {
    after_t = fit_head(count, plan.after, after_budget);
    before_t = fit_tail(count, plan.before, before_budget + (after_budget - (after_t.empty() ? 0 : count(after_t))));
  } else if (is_rewrite) {
    before_t = fit_tail(count, plan.before, before_budget);
    after_t = fit_head(count, plan.after, after_budget);
  }

  // The book context within its share (memory's builder, book sections only). The outline and the text being
  // written choose the entity sheets and the passages.
  std::vector<PromptSection> book;
  if (plan.book_budget >= 64) {
    memory::ContextRequest rq;
    rq.book_id = p.book_id;
    rq.chapter = p.ordinal;
    rq.task = is_draft ? memory::prompts::Task::kDraft : memory::prompts::Task::kContinue;
    rq.outline = is_draft ? p.outline : "";
    rq.current_text = is_continue ? plan.before : is_rewrite ? plan.before + plan.selection : "";
    rq.use_stored_current = false;
    rq.book_only = true;
    int64_t budget = plan.book_budget;
    for (int attempt = 0; attempt < 4; ++attempt) {
      rq.budget = budget;
      auto c = memory::build_context(db, tok, rq);
      if (!c.ok()) return make_error(c.error());
      const int64_t used = target.count ? count(c->text) : c->tokens;
      if (used <= plan.book_budget || c->text.empty()) {
        auto numbering = storage::ChapterNumbering::load(db, p.book_id);
        if (!numbering.ok()) return make_error(numbering.error());
        book = split_book_context(*c, *numbering, p.ordinal);
        for (const auto& st : c->degradations) plan.degradations.push_back(step_words(st, *c, *numbering));
        break;
      }
      // A server's count is an over-estimate of the tokenizer's: shrink the builder's budget and build again.
      budget = std::max<int64_t>(32, budget * plan.book_budget / used - 16);
      if (attempt == 3) {
        PromptSection one;
        one.kind = "book_context";
        one.text = fit_tail(count, c->text, plan.book_budget);
        one.reason = "书稿上下文（按服务器的令牌估算截短）";
        book.push_back(std::move(one));
      }
    }
  }

  // Put it together, in order.
  auto add = [&](const std::string& kind, std::string text, std::string reason) {
    if (text.empty()) return;
    PromptSection s;
    s.kind = kind;
    s.text = std::move(text);
    s.reason = std::move(reason);
    plan.sections.push_back(std::move(s));
  };
  std::string role_part = head;
  if (!book.empty() && !plain) role_part += prompts::kBookContextLabel;
  add("instructions", role_part, "写作要求");
  for (auto& s : book) plan.sections.push_back(std::move(s));
  if (is_continue) {
    add("after_cursor", prompts::after_cursor(after_t),
        "光标之后的原文" + std::string(after_t.size() < plan.after.size() ? "（只留开头）" : ""));
    add("task", task_part, "任务");
    add("current_text", line_part + before_t,
        "本章到光标处的正文" + std::string(before_t.size() < plan.before.size() ? "（放不下，只留结尾）" : ""));
  } else if (is_draft) {
    add("outline", outline_part, "本章大纲");
    add("task", task_part, "任务");
    add("current_text", line_part, "本章标题；已写的文字接在后面");
  } else {
    add("before_selection", prompts::before_selection(before_t), "选段之前的正文");
    add("after_selection", prompts::after_selection(after_t), "选段之后的正文");
    add("selection", prompts::selection_block(plan.selection), "选段");
    add("task", task_part, "任务");
    add("current_text", line_part, "结果接在后面");
  }
  int64_t book_tokens = 0;
  for (auto& s : plan.sections) {
    s.tokens = count(s.text);
    plan.prompt += s.text;
    if (book_heading(s.kind) || s.kind == "book_context") book_tokens += s.tokens;
  }
  plan.book_tokens = book_tokens;
  plan.prompt_tokens = count(plan.prompt);

  // The manifest: the window's shares.
  auto& m = plan.manifest;
  m.push_back("上下文窗口 " + num(n) + " 令牌" + (target.model.empty() ? "" : "（" + target.model + "）"));
  m.push_back("生成预留 " + num(plan.gen_reserve) + " 令牌（" + pct(plan.gen_reserve, n) + "）：每次请求最多写这么多");
  m.push_back("指令、标题与任务 " + num(plan.fixed_tokens) + " 令牌（" + pct(plan.fixed_tokens, n) + "）");
  std::string bl = "书稿上下文份额 " + num(plan.book_budget) + " 令牌（" + pct(plan.book_budget, n) + "，其余部分的 55%";
  if (p.context_tokens > 0 && p.context_tokens < available - plan.text_budget)
    bl += "，按设置限为 " + num(p.context_tokens);
  bl += "），用了 " + num(book_tokens);
  if (plan.book_budget < 64) bl += "：窗口太小，不放书稿上下文";
  m.push_back(bl);
  std::string tl = "正文份额 " + num(plan.text_budget) + " 令牌（" + pct(plan.text_budget, n) + "，其余部分的 45%";
  if (is_continue)
    tl += "：光标前 " + num(before_budget) + "，光标后 " + num(after_budget);
  else if (is_rewrite)
    tl += "：选段 " + num(sel_tokens) + "，前后文 " + num(plan.text_budget - sel_tokens);
  else
    tl += "：已写的文字";
  tl += "）";
  if (!is_draft) tl += "，用了 " + num(count(before_t) + count(after_t) + (is_rewrite ? sel_tokens : 0));
  m.push_back(tl);
  m.push_back("提示合计 " + num(plan.prompt_tokens) + " 令牌（窗口的 " + pct(plan.prompt_tokens, n) + "）");
  return plan;
}

Result<PromptPlan> compose_prompt(storage::Database& db, const WorkflowParams& p, const PromptTarget& target) {
  auto book = storage::Books(db).get(p.book_id);
  if (!book.ok()) return make_error(book.error());
  storage::Chapters chapters(db);
  auto ch = chapters.get_by_ordinal(p.book_id, p.ordinal);
  if (ch.ok()) return compose_prompt(db, book->title, *ch, p, target);
  if (p.kind != "draft") return make_error(ch.error());
  storage::Chapter planned;  // the chapter a draft will create (run_workflow names it the same way)
  planned.ordinal = p.ordinal;
  planned.heading = draft_heading(db, p);
  return compose_prompt(db, book->title, planned, p, target);
}

}  // namespace cj::studio
