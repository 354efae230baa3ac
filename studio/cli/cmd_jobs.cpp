// changjuan-cli jobs list|cancel|resume: the project's jobs. cancel marks a job cancelled (a job running in
// another process stops at its next checkpoint); resume queues a paused/cancelled/failed job again and, with
// --model, runs it now here, continuing from the text it had written.
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "storage/chapter_numbering.h"
#include "storage/database.h"
#include "storage/jobs.h"
#include "studio/job_queue.h"
#include "studio/cli/studio_cli.h"

namespace cj::cli {
namespace {

nlohmann::json job_json(const storage::Job& j) {
  nlohmann::json o = {{"id", j.id},           {"kind", j.kind},         {"status", j.status},
                      {"progress", j.progress}, {"message", j.message}, {"updated_at", j.updated_at}};
  o["book_id"] = j.book_id ? nlohmann::json(*j.book_id) : nlohmann::json(nullptr);
  auto p = nlohmann::json::parse(j.params, nullptr, false);
  if (!p.is_discarded() && p.contains("ordinal")) o["chapter"] = p["ordinal"];
  if (j.checkpoint) {
    auto c = nlohmann::json::parse(*j.checkpoint, nullptr, false);
    if (c.is_object() && c.contains("chars")) o["checkpoint_chars"] = c["chars"];
  }
  if (j.result) {
    auto r = nlohmann::json::parse(*j.result, nullptr, false);
    if (!r.is_discarded()) o["result"] = r;
  }
  return o;
}

int run_list(const Args& a) {
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  auto l = storage::Jobs(**db).list(a.get_or("status", ""));
  if (!l.ok()) return fail(l.error());
  // The chapter a job is about, as its book labels it (第二十二回), next to the ordinal.
  std::map<int64_t, storage::ChapterNumbering> books;
  auto label_of = [&](const storage::Job& j, const nlohmann::json& o) -> std::string {
    if (!j.book_id || !o.contains("chapter") || !o["chapter"].is_number_integer()) return "";
    auto it = books.find(*j.book_id);
    if (it == books.end()) {
      auto n = storage::ChapterNumbering::load(**db, *j.book_id);
      it = books.emplace(*j.book_id, n.ok() ? std::move(*n) : storage::ChapterNumbering()).first;
    }
    return it->second.label(o["chapter"].get<int64_t>());
  };
  if (a.has("json")) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& j : *l) {
      nlohmann::json o = job_json(j);
      if (std::string lb = label_of(j, o); !lb.empty()) o["label"] = lb;
      arr.push_back(std::move(o));
    }
    std::printf("%s\n", arr.dump().c_str());
    return 0;
  }
  if (l->empty()) std::printf("没有任务\n");
  for (const auto& j : *l) {
    const studio::JobFigures f = studio::job_figures(j);
    std::printf("%5lld  %-6s %-8s %-4s %3d%%  %s\n", static_cast<long long>(j.id), studio::job_kind_label(j.kind),
                label_of(j, job_json(j)).c_str(), studio::job_status_label(j.status), int(j.progress * 100),
                studio::job_outcome(j.status, f, j.message).c_str());
  }
  return 0;
}

int run_cancel(const Args& a) {
  auto id = a.get_int("id", 0);
  if (!id.ok()) return fail(id.error());
  auto db = storage::Database::open(*a.get("db"), {.create = false});
  if (!db.ok()) return fail(db.error());
  storage::Jobs jobs(**db);
  auto j = jobs.get(*id);
  if (!j.ok()) return fail(j.error());
  if (j->status == "done" || j->status == "failed" || j->status == "cancelled")
    return fail("job " + std::to_string(*id) + " is already " + j->status);
  if (auto s = jobs.finish(*id, "cancelled", "cancelled by the user; resume to continue from its text"); !s.ok())
    return fail(s.error());
  if (a.has("json")) {
    std::printf("%s\n", job_json(*jobs.get(*id)).dump().c_str());
    return 0;
  }
  const studio::JobFigures f = studio::job_figures(*jobs.get(*id));
  std::printf("已取消任务 #%lld（%s，写到 %lld 字）%s；继续写：changjuan-cli jobs resume --db %s --id %lld --model M\n",
              static_cast<long long>(*id), studio::job_kind_label(j->kind), static_cast<long long>(f.chars),
              j->status == "running" ? "，正在运行它的程序会在下一个检查点停下" : "", a.get("db")->c_str(),
              static_cast<long long>(*id));
  return 0;
}

int run_resume(const Args& a) {
  auto id = a.get_int("id", 0);
  auto every = a.get_int("checkpoint-every", 32, 1, 1 << 20);
  if (!id.ok()) return fail(id.error());
  if (!every.ok()) return fail(every.error());
  auto dbr = storage::Database::open(*a.get("db"), {.create = false});
  if (!dbr.ok()) return fail(dbr.error());
  storage::Jobs jobs(**dbr);
  auto j = jobs.get(*id);
  if (!j.ok()) return fail(j.error());
  if (j->status == "done") return fail("job " + std::to_string(*id) + " is already done");
  if (j->status == "running") {
    // Left running by a killed process: queue it again. Still running elsewhere: that process keeps it.
    if (!storage::Jobs::lease_is_stale(*j, storage::now_ms()))
      return fail("job " + std::to_string(*id) + " is running in " + storage::Jobs::lease_holder(*j, storage::now_ms()) +
                  "; `jobs cancel` stops it there");
    if (auto n = jobs.requeue_stale(); !n.ok()) return fail(n.error());
  } else if (auto s = jobs.set_status(*id, "queued"); !s.ok()) {
    return fail(s.error());
  }
  if (!a.has("model") && !a.has("remote")) {
    if (a.has("json")) std::printf("%s\n", job_json(*jobs.get(*id)).dump().c_str());
    return 0;
  }
  auto engine = studio_cli::open_generator(a);
  if (!engine.ok()) return fail(engine.error());
  studio_cli::install_signals();
  auto out = studio_cli::run_here(**dbr, **engine, *id, "job " + std::to_string(*id), int(*every), false);
  auto after = jobs.get(*id);
  if (a.has("json") && after.ok()) std::printf("%s\n", job_json(*after).dump().c_str());
  else std::fprintf(stderr, "job %lld: %s — %s\n", static_cast<long long>(*id), out.status.c_str(), out.message.c_str());
  if (out.status == "failed") return 1;
  return out.status == "done" ? 0 : 130;
}

Registrar reg_list({.name = "jobs list",
                    .summary = "list the project's jobs (status, progress, message)",
                    .options = {{"db", "D", "project database", true},
                                {"status", "S", "only jobs with this status"},
                                {"json", "", "print JSON"}},
                    .run = run_list});
Registrar reg_cancel({.name = "jobs cancel",
                      .summary = "cancel a queued, paused or running job (its text is kept)",
                      .options = {{"db", "D", "project database", true}, {"id", "N", "job id", true}, {"json", "", "print JSON"}},
                      .run = run_cancel});

std::vector<OptSpec> resume_options() {
  std::vector<OptSpec> o = {{"db", "D", "project database", true}, {"id", "N", "job id", true}, {"json", "", "print JSON"}};
  for (auto e : studio_cli::engine_options()) {
    if (e.name == "model") e.help = "GGUF model: run the job now (otherwise only queue it; or --remote URL)";
    o.push_back(e);
  }
  return o;
}
Registrar reg_resume({.name = "jobs resume",
                      .summary = "queue a stopped job again; with --model run it now, continuing its text",
                      .options = resume_options(),
                      .run = run_resume});

}  // namespace
}  // namespace cj::cli
