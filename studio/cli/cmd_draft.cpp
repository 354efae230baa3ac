// changjuan-cli draft: offline batch drafting. Drafts chapters A..B in turn from an outline file, each with
// everything before it as context (chapters drafted earlier in the batch included), writing each draft as a
// revision that is not current. Each chapter is a job in the project's jobs table: Ctrl-C / SIGTERM stops at the
// next token with the text checkpointed, and running the same command again continues where it stopped
// (finished chapters are skipped, the interrupted one goes on from its text).
// --parallel N drafts N chapters at once, each on its own thread and database connection, all decoded in one batch
// by the local engine (a remote server gets N concurrent requests). A chapter's context then holds the drafts that
// were finished when it started, not those of the chapters drafted alongside it.
//
// Chapters are named in the book's own numbers (storage/chapter_numbering.h): after 第一百二十回, --chapters 121-122
// drafts 第一百二十一回 and 第一百二十二回 even when a 楔子 precedes them; a range that would leave a gap after the last
// chapter (122-123 there) is refused, naming the next one. Outline file: a line "## N" or "## N 标题" starts the
// outline of chapter N, named the same way (the title names a chapter that is created); a file without such lines
// is the outline of every chapter in the range. Without --outline-file each chapter's stored outline is used
// (changjuan-cli outline set, the GUI's 大纲 panel).
// When it is done it prints (stdout) which revisions wait and the command that accepts them.
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "storage/books.h"
#include "storage/chapter_numbering.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/jobs.h"
#include "studio/cli/chapter_options.h"
#include "studio/cli/studio_cli.h"
#include "studio/revisions.h"

namespace cj::cli {
namespace {

struct OutlineEntry {
  std::string title;  // from "## N 标题"; the heading's number follows the book's previous chapter
  std::string text;
};

// "## N [标题]" names chapters as --chapters does (the book's number or label, or #ordinal): keys are ordinals.
Result<std::map<int64_t, OutlineEntry>> parse_outline(const std::string& text, const storage::ChapterNumbering& numbering,
                                                      int64_t first, int64_t last) {
  std::map<int64_t, OutlineEntry> m;
  std::istringstream in(text);
  std::string line;
  int64_t cur = -1;
  std::string loose;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      std::string rest = line.substr(3);
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.pop_back();
      size_t sp = rest.find(' ');
      const std::string ref = rest.substr(0, sp);
      auto o = numbering.resolve_new(ref);
      if (!o.ok()) return make_error("outline: '" + line + "': " + o.error());
      cur = *o;
      std::string title = sp == std::string::npos ? "" : rest.substr(sp + 1);
      while (!title.empty() && title.front() == ' ') title.erase(0, 1);
      m[cur].title = title;
      continue;
    }
    if (cur < 0) loose += line + "\n";
    else m[cur].text += line + "\n";
  }
  if (m.empty()) {
    if (loose.find_first_not_of(" \n\r\t") == std::string::npos) return make_error("the outline file is empty");
    for (int64_t n = first; n <= last; ++n) m[n].text = loose;
  }
  for (int64_t n = first; n <= last; ++n)
    if (!m.count(n) || m[n].text.find_first_not_of(" \n\r\t") == std::string::npos) {
      const auto num = numbering.number(n);
      return make_error("the outline file has no outline for " + numbering.label(n) + " (add a '## " +
                        (num ? std::to_string(*num) : "#" + std::to_string(n)) + "' section)");
    }
  return m;
}

int run_draft(const Args& a) {
  auto book = a.get_int("book", 0);
  auto words = a.get_int("words", 3000);
  auto every = a.get_int("checkpoint-every", 32, 1, 1 << 20);
  auto seed = a.get_int("seed", 0);
  auto parallel = a.get_int("parallel", 1);
  for (const auto* r : {&book, &words, &every, &seed, &parallel})
    if (!r->ok()) return fail(r->error());
  if (*words < 10 || *words > 200000) return fail("--words must be between 10 and 200000 (字: 汉字 + full-width punctuation)");
  if (*parallel < 1 || *parallel > 64) return fail("--parallel must be between 1 and 64");
  auto temp = a.get_double("temp", 0.8);
  if (!temp.ok()) return fail(temp.error());
  if (std::string ps = a.get_or("prompt-style", "instruct"); ps != "instruct" && ps != "plain")
    return fail("--prompt-style must be instruct or plain");

  auto dbr = storage::Database::open(*a.get("db"), {.create = false});
  if (!dbr.ok()) return fail(dbr.error());
  storage::Database& db = **dbr;
  if (auto b = storage::Books(db).get(*book); !b.ok()) return fail(b.error());
  // --chapters in the book's own numbers: 121-122 after 第一百二十回 are the next two chapters, 楔子 or not.
  auto numbering = storage::ChapterNumbering::load(db, *book);
  if (!numbering.ok()) return fail(numbering.error());
  auto range = chapter_range_option(*numbering, a, "chapters", true);
  if (!range.ok()) return fail(range.error());
  const int64_t first = (*range)->first, last = (*range)->second;
  if (last < first) return fail("--chapters " + *a.get("chapters") + ": the range is empty (" + numbering->label(last) +
                                " comes before " + numbering->label(first) + ")");
  if (last - first > 1000) return fail("--chapters: at most 1000 chapters at once");
  if (Status g = studio::check_no_gap(*numbering, first); !g.ok())
    return fail("--chapters " + *a.get("chapters") + ": " + g.error());
  Result<std::map<int64_t, OutlineEntry>> outline = std::map<int64_t, OutlineEntry>{};
  if (auto f = a.get("outline-file")) {
    auto outline_text = read_file(*f);
    if (!outline_text.ok()) return fail(outline_text.error());
    outline = parse_outline(*outline_text, *numbering, first, last);
  } else {
    for (int64_t n = first; n <= last && outline.ok(); ++n) {
      auto t = studio::load_outline(db, *book, n);
      if (!t.ok()) return fail(t.error());
      if (t->find_first_not_of(" \n\r\t") == std::string::npos) {
        const auto num = numbering->number(n);
        outline = make_error(numbering->label(n) + " has no stored outline: give --outline-file, or save one with "
                             "changjuan-cli outline set --db … --book … --chapter " +
                             (num ? std::to_string(*num) : "#" + std::to_string(n)) + " --file F");
      } else {
        (*outline)[n].text = *t;
      }
    }
  }
  if (!outline.ok()) return fail(outline.error());
  storage::Jobs jobs(db);
  // A previous run killed mid-chapter left its job "running" (a live runner's jobs are left to it).
  if (auto n = jobs.requeue_stale(); !n.ok()) return fail(n.error());
  auto all = jobs.list();
  if (!all.ok()) return fail(all.error());

  // One job per chapter: reuse the newest job for the same chapter (done → skip, otherwise continue it).
  struct Item {
    int64_t ordinal;
    int64_t job_id;
    bool done;
    bool elsewhere = false;  // another live process runs it
  };
  std::vector<Item> items;
  for (int64_t n = first; n <= last; ++n) {
    std::optional<storage::Job> found;
    for (const auto& j : *all) {
      if (j.kind != "workflow:draft" || j.book_id != *book) continue;
      auto pj = nlohmann::json::parse(j.params, nullptr, false);
      if (pj.is_object() && pj.value("ordinal", int64_t(-1)) == n) found = j;
    }
    if (found && found->status == "done") {
      items.push_back({n, found->id, true});
      continue;
    }
    if (found) {
      if (found->status == "running") {  // still running in another live process (requeue_stale left it)
        std::fprintf(stderr, "%s: job %lld is running in %s; not drafting it twice\n",
                     numbering->label(n).c_str(), static_cast<long long>(found->id),
                     storage::Jobs::lease_holder(*found, storage::now_ms()).c_str());
        items.push_back({n, found->id, false, true});
        continue;
      }
      if (found->status != "queued") {
        if (auto s = jobs.set_status(found->id, "queued"); !s.ok()) return fail(s.error());
      }
      items.push_back({n, found->id, false});
      continue;
    }
    studio::WorkflowParams p;
    p.kind = "draft";
    p.book_id = *book;
    p.ordinal = n;
    p.title = (*outline)[n].title;
    p.outline = (*outline)[n].text;
    p.target_chars = int(*words);
    p.temperature = float(*temp);
    p.seed = a.has("seed") ? uint64_t(*seed) + uint64_t(n) : studio::fresh_seed();  // kept in the job
    p.prompt_style = a.get_or("prompt-style", "instruct");
    auto id = jobs.create(studio::job_kind(p), studio::to_json(p).dump(), *book);
    if (!id.ok()) return fail(id.error());
    items.push_back({n, *id, false});
  }

  auto t_load = std::chrono::steady_clock::now();
  auto engine = studio_cli::open_generator(a);
  if (!engine.ok()) return fail(engine.error());
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  std::fprintf(stderr, "draft: model %s %s in %.2f s (ctx %d)\n", (*engine)->name().c_str(),
               a.has("remote") ? ("on " + a.get_or("remote", "")).c_str() : "loaded", load_s, (*engine)->n_ctx());
  studio_cli::install_signals();

  // Workers take the chapters in order; each runs its chapter's job to the end on its own connection.
  std::mutex mu;
  size_t next_item = 0;
  std::vector<nlohmann::json> rows(items.size());
  int rc = 0;
  bool stopped = false;
  bool elsewhere = false;  // a chapter was left to the live process running it
  auto worker = [&](storage::Database& wdb) {
    for (;;) {
      size_t k;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (next_item >= items.size() || stopped || rc == 1) return;
        k = next_item++;
      }
      const Item& it = items[k];
      const std::string label = numbering->label(it.ordinal);
      if (it.done) {
        auto j = storage::Jobs(wdb).get(it.job_id);
        std::fprintf(stderr, "%s: already drafted (%s)\n", label.c_str(), j.ok() ? j->message.c_str() : "");
        std::lock_guard<std::mutex> lk(mu);
        rows[k] = {{"chapter", it.ordinal}, {"label", label}, {"job", it.job_id}, {"status", "done"}, {"skipped", true}};
        continue;
      }
      if (it.elsewhere) {
        std::lock_guard<std::mutex> lk(mu);
        rows[k] = {{"chapter", it.ordinal}, {"label", label}, {"job", it.job_id}, {"status", "running elsewhere"}};
        elsewhere = true;
        continue;
      }
      if (studio_cli::g_stop.load() || studio_cli::g_why.load() != 0) {
        std::lock_guard<std::mutex> lk(mu);
        stopped = true;
        return;
      }
      auto t0 = std::chrono::steady_clock::now();
      auto out = studio_cli::run_here(wdb, **engine, it.job_id, label, int(*every), false);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto& r = out.result;
      std::fprintf(stderr, "%s: %s — %s; %d tokens in %.2f s (%.1f tok/s), prompt %d tokens (%d reused)\n",
                   label.c_str(), out.status.c_str(), out.message.c_str(), r.gen_tokens, secs,
                   r.gen_tokens / std::max(secs, 1e-9), r.prompt_tokens, r.reused_tokens);
      std::lock_guard<std::mutex> lk(mu);
      rows[k] = {{"chapter", it.ordinal}, {"label", label}, {"job", it.job_id}, {"status", out.status},
                 {"revision_id", r.revision_id}, {"chars", r.chars}, {"gen_tokens", r.gen_tokens},
                 {"ending", r.ending}, {"seed", r.seed}, {"seconds", secs}, {"message", out.message}};
      if (out.status == "failed") rc = 1;
      else if (out.status != "done") stopped = true;
    }
  };
  const int n_workers = int(std::min<long long>(*parallel, (long long)items.size()));
  if (n_workers <= 1) {
    worker(db);
  } else {
    std::vector<std::unique_ptr<storage::Database>> conns;
    for (int w = 0; w < n_workers; ++w) {
      auto c = storage::Database::open(*a.get("db"), {.create = false});
      if (!c.ok()) return fail(c.error());
      conns.push_back(std::move(c.value()));
    }
    std::vector<std::thread> threads;
    for (int w = 0; w < n_workers; ++w) threads.emplace_back([&, w] { worker(*conns[size_t(w)]); });
    for (auto& t : threads) t.join();
  }
  nlohmann::json report = nlohmann::json::array();
  for (auto& r : rows)
    if (!r.is_null()) report.push_back(r);
  if (rc == 0 && (stopped || report.size() < items.size())) {
    size_t first_left = 0;
    while (first_left < rows.size() && !rows[first_left].is_null() &&
           (rows[first_left].value("status", "") == "done" || rows[first_left].value("status", "") == "running elsewhere"))
      ++first_left;
    std::fprintf(stderr, "draft: interrupted; run the same command again to continue from %s\n",
                 numbering->label(first_left < items.size() ? items[first_left].ordinal : items.back().ordinal).c_str());
    rc = 130;
  }
  if (rc == 0 && elsewhere) rc = 1;
  if (a.has("json")) {
    std::printf("%s\n", report.dump().c_str());
    return rc;
  }
  // What was written and how to take it: the drafts are proposals until accepted.
  std::vector<std::pair<int64_t, int64_t>> waiting;  // (ordinal, revision id)
  for (const auto& it : items) {
    auto j = jobs.get(it.job_id);
    if (!j.ok() || j->status != "done" || !j->result) continue;
    auto res = nlohmann::json::parse(*j->result, nullptr, false);
    const int64_t rev = res.is_object() ? res.value("revision_id", int64_t{0}) : 0;
    if (!rev) continue;
    auto ch = storage::Chapters(db).get_by_ordinal(*book, it.ordinal);
    if (ch.ok() && ch->revision_id == rev) continue;  // already accepted
    waiting.push_back({it.ordinal, rev});
    std::printf("%s：AI 草稿 修订 id %lld，%lld 字，待接受\n", numbering->label(it.ordinal).c_str(),
                static_cast<long long>(rev), static_cast<long long>(res.value("chars", int64_t{0})));
  }
  if (!waiting.empty()) {
    const std::string db_arg = *a.get("db");
    std::printf("\n草稿不会改动正文，接受后才成为章节正文：\n");
    std::printf("  看一章：changjuan-cli revisions show --db %s --id %lld\n", db_arg.c_str(),
                static_cast<long long>(waiting.front().second));
    std::printf("  接受：  ");
    for (size_t i = 0; i < waiting.size(); ++i)
      std::printf("%schangjuan-cli revisions accept --db %s --id %lld", i ? " && " : "", db_arg.c_str(),
                  static_cast<long long>(waiting[i].second));
    std::printf("\n");
  }
  return rc;
}

std::vector<OptSpec> draft_options() {
  std::vector<OptSpec> o = {{"db", "D", "project database", true},
                            {"book", "ID", "book id", true},
                            {"chapters", "A-B",
                             "chapters to draft in the book's own numbers (121-122 after 第一百二十回; 第一百二十一回; #N "
                             "positions), new ones continuing the book's numbering without a gap",
                             true},
                            {"outline-file", "F", "outline: '## N [标题]' sections (N as in --chapters), one per chapter "
                                                  "(default: each chapter's stored outline, changjuan-cli outline set)"},
                            {"words", "N", "target length of each chapter in 字 (汉字 + full-width punctuation; default 3000)"},
                            {"parallel", "N", "draft N chapters at once, decoded in one batch (default 1)"},
                            {"json", "", "print a JSON report of each chapter on stdout"}};
  for (auto& e : studio_cli::engine_options()) o.push_back(e);
  return o;
}

Registrar reg({.name = "draft",
               .summary = "draft chapters from an outline with the local model or a server (interruptible, re-runnable)",
               .options = draft_options(),
               .run = run_draft});

}  // namespace
}  // namespace cj::cli
