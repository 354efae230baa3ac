// changjuan-cli draft: offline batch drafting. Drafts chapters A..B in turn from an outline file, each with
// everything before it as context (chapters drafted earlier in the batch included), writing each draft as a
// revision that is not current. Each chapter is a job in the project's jobs table: Ctrl-C / SIGTERM stops at the
// next token with the text checkpointed, and running the same command again continues where it stopped
// (finished chapters are skipped, the interrupted one goes on from its text).
//
// Outline file: a line "## N" or "## N 标题" starts the outline of chapter N (the title names a chapter that
// is created); a file without such lines is the outline of every chapter in the range.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/jobs.h"
#include "studio/cli/studio_cli.h"

namespace cj::cli {
namespace {

struct OutlineEntry {
  std::string title;  // from "## N 标题"; the heading's number follows the book's previous chapter
  std::string text;
};

Result<std::map<int64_t, OutlineEntry>> parse_outline(const std::string& text, int64_t first, int64_t last) {
  std::map<int64_t, OutlineEntry> m;
  std::istringstream in(text);
  std::string line;
  int64_t cur = -1;
  std::string loose;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      std::string rest = line.substr(3);
      size_t sp = rest.find(' ');
      std::string num = rest.substr(0, sp);
      try {
        size_t used = 0;
        cur = std::stoll(num, &used);
        if (used != num.size()) throw std::invalid_argument("x");
      } catch (...) {
        return make_error("outline: '" + line + "' should be '## N' or '## N 标题' (N = chapter number)");
      }
      std::string title = sp == std::string::npos ? "" : rest.substr(sp + 1);
      while (!title.empty() && (title.back() == ' ' || title.back() == '\r')) title.pop_back();
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
    if (!m.count(n) || m[n].text.find_first_not_of(" \n\r\t") == std::string::npos)
      return make_error("the outline file has no outline for chapter " + std::to_string(n) + " (add a '## " +
                        std::to_string(n) + "' section)");
  return m;
}

int run_draft(const Args& a) {
  std::string range = *a.get("chapters");
  int64_t first = 0, last = 0;
  try {
    size_t dash = range.find('-');
    first = std::stoll(range.substr(0, dash));
    last = dash == std::string::npos ? first : std::stoll(range.substr(dash + 1));
  } catch (...) {
    return fail("--chapters expects N or A-B, got '" + range + "'");
  }
  if (first < 1 || last < first || last - first > 1000) return fail("--chapters: bad range '" + range + "'");
  auto book = a.get_int("book", 0);
  auto words = a.get_int("words", 3000);
  auto every = a.get_int("checkpoint-every", 32, 1, 1 << 20);
  auto seed = a.get_int("seed", 0);
  for (const auto* r : {&book, &words, &every, &seed})
    if (!r->ok()) return fail(r->error());
  if (*words < 10 || *words > 200000) return fail("--words must be between 10 and 200000");
  auto outline_text = read_file(*a.get("outline-file"));
  if (!outline_text.ok()) return fail(outline_text.error());
  auto outline = parse_outline(*outline_text, first, last);
  if (!outline.ok()) return fail(outline.error());
  auto temp = a.get_double("temp", 0.8);
  if (!temp.ok()) return fail(temp.error());
  if (std::string ps = a.get_or("prompt-style", "instruct"); ps != "instruct" && ps != "plain")
    return fail("--prompt-style must be instruct or plain");

  auto dbr = storage::Database::open(*a.get("db"), {.create = false});
  if (!dbr.ok()) return fail(dbr.error());
  storage::Database& db = **dbr;
  if (auto b = storage::Books(db).get(*book); !b.ok()) return fail(b.error());
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
        std::fprintf(stderr, "chapter %lld: job %lld is running in %s; not drafting it twice\n",
                     static_cast<long long>(n), static_cast<long long>(found->id),
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
    p.seed = uint64_t(*seed) + uint64_t(n);
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

  nlohmann::json report = nlohmann::json::array();
  int rc = 0;
  for (const auto& it : items) {
    if (it.done) {
      auto j = jobs.get(it.job_id);
      std::fprintf(stderr, "chapter %lld: already drafted (%s)\n", static_cast<long long>(it.ordinal),
                   j.ok() ? j->message.c_str() : "");
      report.push_back({{"chapter", it.ordinal}, {"job", it.job_id}, {"status", "done"}, {"skipped", true}});
      continue;
    }
    if (it.elsewhere) {
      report.push_back({{"chapter", it.ordinal}, {"job", it.job_id}, {"status", "running elsewhere"}});
      rc = 1;
      continue;
    }
    if (studio_cli::g_stop.load() || studio_cli::g_why.load() != 0) {
      std::fprintf(stderr, "draft: interrupted; run the same command again to continue from chapter %lld\n",
                   static_cast<long long>(it.ordinal));
      rc = 130;
      break;
    }
    auto t0 = std::chrono::steady_clock::now();
    auto out = studio_cli::run_here(db, **engine, it.job_id, "chapter " + std::to_string(it.ordinal), int(*every), false);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& r = out.result;
    std::fprintf(stderr, "chapter %lld: %s — %s; %d tokens in %.2f s (%.1f tok/s), prompt %d tokens (%d reused)\n",
                 static_cast<long long>(it.ordinal), out.status.c_str(), out.message.c_str(), r.gen_tokens, secs,
                 r.gen_tokens / std::max(secs, 1e-9), r.prompt_tokens, r.reused_tokens);
    report.push_back({{"chapter", it.ordinal}, {"job", it.job_id}, {"status", out.status},
                      {"revision_id", r.revision_id}, {"chars", r.chars}, {"gen_tokens", r.gen_tokens},
                      {"seconds", secs}, {"message", out.message}});
    if (out.status == "failed") {
      rc = 1;
      break;
    }
    if (out.status != "done") {
      std::fprintf(stderr, "draft: interrupted; run the same command again to continue from chapter %lld\n",
                   static_cast<long long>(it.ordinal));
      rc = 130;
      break;
    }
  }
  if (a.has("json")) std::printf("%s\n", report.dump().c_str());
  return rc;
}

std::vector<OptSpec> draft_options() {
  std::vector<OptSpec> o = {{"db", "D", "project database", true},
                            {"book", "ID", "book id", true},
                            {"chapters", "A-B", "chapter ordinals to draft (e.g. 12-15)", true},
                            {"outline-file", "F", "outline: '## N [标题]' sections, one per chapter", true},
                            {"words", "N", "target length of each chapter in 字 (default 3000)"},
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
