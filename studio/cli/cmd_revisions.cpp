// changjuan-cli revisions list|show|diff|accept|restore: a chapter's history from the command line, so that a
// batch `draft` (or `continue`, `rewrite`) can be read, compared, accepted or undone without the GUI — the same
// actions as the GUI's 修订 and 接受 (studio/revisions.h).
#include <cstdio>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/text.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "studio/cli/command.h"
#include "studio/revisions.h"
#include "studio/text_diff.h"

namespace cj::cli {
namespace {

const char* source_label(const std::string& s) {
  if (s == "import") return "导入";
  if (s == "writer") return "作者";
  if (s == "ai") return "AI";
  if (s == "restore") return "恢复";
  return s.c_str();
}

std::string when(int64_t ms) {
  const std::time_t t = std::time_t(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M", &tm);
  return b;
}

std::string chapter_name(const storage::ChapterInfo& c) {
  const std::string label = storage::chapter_label(c);
  return c.title.empty() || label == c.title ? label : label + " " + c.title;
}

nlohmann::json row_json(const studio::RevisionRow& r) {
  nlohmann::json j = {{"id", r.rev.id},           {"number", r.rev.number},   {"source", r.rev.source},
                      {"note", r.rev.note},       {"created_at", r.rev.created_at}, {"chars", r.rev.chars},
                      {"title", r.rev.title},     {"current", r.current},     {"waiting", r.waiting}};
  j["seed"] = r.seed ? nlohmann::json(*r.seed) : nlohmann::json(nullptr);
  return j;
}

Result<std::unique_ptr<storage::Database>> open_db(const Args& a, bool write) {
  return storage::Database::open(*a.get("db"), {.create = false, .read_only = !write});
}

// The revision --id R with its chapter.
struct Target {
  storage::Revision rev;
  storage::Chapter chapter;
};
Result<Target> target(storage::Database& db, const Args& a) {
  auto id = a.get_int("id", 0);
  if (!id.ok()) return Error{id.error()};
  storage::Chapters ch(db);
  auto r = ch.revision(*id);
  if (!r.ok()) return Error{r.error()};
  auto c = ch.get(r->chapter_id);
  if (!c.ok()) return Error{c.error()};
  return Target{std::move(*r), std::move(*c)};
}

int run_list(const Args& a) {
  auto book = a.get_int("book", 0);
  auto ordinal = a.get_int("chapter", 0);
  if (!book.ok()) return fail(book.error());
  if (!ordinal.ok()) return fail(ordinal.error());
  auto db = open_db(a, false);
  if (!db.ok()) return fail(db.error());
  if (auto b = storage::Books(**db).get(*book); !b.ok()) return fail(b.error());
  auto c = storage::Chapters(**db).get_by_ordinal(*book, *ordinal);
  if (!c.ok()) return fail(c.error());
  auto rows = studio::list_revisions(**db, c->id);
  if (!rows.ok()) return fail(rows.error());
  if (a.has("json")) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : *rows) arr.push_back(row_json(r));
    std::printf("%s\n", nlohmann::json({{"chapter", *ordinal}, {"chapter_id", c->id}, {"revisions", arr}}).dump().c_str());
    return 0;
  }
  std::printf("%s — %zu 个修订\n", chapter_name(*c).c_str(), rows->size());
  int64_t waiting = 0;
  for (const auto& r : *rows) {
    std::string tags;
    if (r.current) tags += "  【当前正文】";
    if (r.waiting) tags += "  【待接受】", waiting = r.rev.id;
    if (r.seed) tags += "  seed " + std::to_string(*r.seed);
    std::printf("  #%-3lld id %-6lld %-4s %s  %7lld 字%s\n", static_cast<long long>(r.rev.number),
                static_cast<long long>(r.rev.id), source_label(r.rev.source), when(r.rev.created_at).c_str(),
                static_cast<long long>(r.rev.chars), tags.c_str());
    if (!r.rev.note.empty()) std::printf("        %s\n", r.rev.note.c_str());
  }
  if (waiting)
    std::printf("\n接受待定的 AI 修订：changjuan-cli revisions accept --db %s --id %lld\n", a.get("db")->c_str(),
                static_cast<long long>(waiting));
  return 0;
}

int run_show(const Args& a) {
  auto db = open_db(a, false);
  if (!db.ok()) return fail(db.error());
  auto t = target(**db, a);
  if (!t.ok()) return fail(t.error());
  if (a.has("json")) {
    studio::RevisionRow row{t->rev, t->rev.id == t->chapter.revision_id, false, std::nullopt};
    nlohmann::json j = row_json(row);
    j["body"] = t->rev.body;
    j["chapter"] = t->chapter.ordinal;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  // The text alone on stdout (to pipe or redirect); what it is on stderr.
  std::fprintf(stderr, "%s 修订 #%lld（id %lld，%s，%s，%lld 字）%s\n", chapter_name(t->chapter).c_str(),
               static_cast<long long>(t->rev.number), static_cast<long long>(t->rev.id), source_label(t->rev.source),
               when(t->rev.created_at).c_str(), static_cast<long long>(t->rev.chars),
               t->rev.id == t->chapter.revision_id ? "，当前正文" : "");
  std::fwrite(t->rev.body.data(), 1, t->rev.body.size(), stdout);
  if (!t->rev.body.empty() && t->rev.body.back() != '\n') std::fputc('\n', stdout);
  return 0;
}

int run_diff(const Args& a) {
  auto db = open_db(a, false);
  if (!db.ok()) return fail(db.error());
  auto t = target(**db, a);
  if (!t.ok()) return fail(t.error());
  // Against the chapter's current text (default) or another revision: old → this one.
  std::string old_text = t->chapter.body, old_name = "当前正文";
  if (auto against = a.get("against"); against && *against != "current") {
    long long other = 0;
    try {
      other = std::stoll(*against);
    } catch (...) {
      return fail("--against must be 'current' or a revision id");
    }
    auto r = storage::Chapters(**db).revision(other);
    if (!r.ok()) return fail(r.error());
    if (r->chapter_id != t->rev.chapter_id) return fail("revision " + *against + " belongs to another chapter");
    old_text = r->body;
    old_name = "修订 #" + std::to_string(r->number);
  }
  const auto paras = studio::diff_text(old_text, t->rev.body);
  if (a.has("json")) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& p : paras) {
      static const char* kinds[] = {"same", "removed", "added", "changed"};
      nlohmann::json pieces = nlohmann::json::array();
      for (const auto& x : p.pieces) {
        static const char* pk[] = {"same", "removed", "added"};
        pieces.push_back({{"kind", pk[x.kind]}, {"text", x.text}});
      }
      arr.push_back({{"kind", kinds[p.kind]}, {"pieces", pieces}});
    }
    std::printf("%s\n", nlohmann::json({{"id", t->rev.id}, {"paragraphs", arr}}).dump().c_str());
    return 0;
  }
  std::printf("%s：%s → 修订 #%lld（id %lld）\n", chapter_name(t->chapter).c_str(), old_name.c_str(),
              static_cast<long long>(t->rev.number), static_cast<long long>(t->rev.id));
  int same_run = 0, changes = 0;
  auto flush_same = [&] {
    if (same_run) std::printf("  …… %d 段未改 ……\n", same_run);
    same_run = 0;
  };
  for (const auto& p : paras) {
    if (p.kind == studio::DiffPara::kSame) {
      ++same_run;
      continue;
    }
    flush_same();
    ++changes;
    if (p.kind == studio::DiffPara::kRemoved || p.kind == studio::DiffPara::kAdded) {
      const char* mark = p.kind == studio::DiffPara::kRemoved ? "-" : "+";
      for (const auto& x : p.pieces) std::printf("%s %s\n", mark, x.text.c_str());
      continue;
    }
    std::string line = "~ ";  // changed: [-removed-]{+added+} inline
    for (const auto& x : p.pieces) {
      if (x.kind == studio::DiffPiece::kRemoved) line += "[-" + x.text + "-]";
      else if (x.kind == studio::DiffPiece::kAdded) line += "{+" + x.text + "+}";
      else line += x.text;
    }
    std::printf("%s\n", line.c_str());
  }
  flush_same();
  if (changes == 0) std::printf("（两者相同）\n");
  return 0;
}

int run_accept(const Args& a) {
  auto db = open_db(a, true);
  if (!db.ok()) return fail(db.error());
  auto t = target(**db, a);
  if (!t.ok()) return fail(t.error());
  if (t->rev.id == t->chapter.revision_id) return fail("revision " + std::to_string(t->rev.id) + " is already the current text");
  if (t->rev.source != "ai")
    return fail("revision " + std::to_string(t->rev.id) + " is not an AI proposal; to go back to an older text use "
                "changjuan-cli revisions restore (it keeps the text you have now)");
  const int64_t before = t->chapter.revision_id;
  if (Status s = studio::accept_revision(**db, t->rev.id); !s.ok()) return fail(s.error());
  if (a.has("json")) {
    std::printf("%s\n", nlohmann::json({{"accepted", t->rev.id}, {"chapter", t->chapter.ordinal}, {"previous", before}})
                            .dump().c_str());
    return 0;
  }
  std::printf("已接受修订 #%lld（id %lld），它现在是 %s 的正文（%lld 字）；原来的正文仍在修订历史中（id %lld，可用 "
              "revisions restore 恢复）\n",
              static_cast<long long>(t->rev.number), static_cast<long long>(t->rev.id), chapter_name(t->chapter).c_str(),
              static_cast<long long>(t->rev.chars), static_cast<long long>(before));
  return 0;
}

int run_restore(const Args& a) {
  auto db = open_db(a, true);
  if (!db.ok()) return fail(db.error());
  auto t = target(**db, a);
  if (!t.ok()) return fail(t.error());
  if (t->rev.id == t->chapter.revision_id) return fail("revision " + std::to_string(t->rev.id) + " is already the current text");
  auto id = studio::restore_revision(**db, t->rev.id);
  if (!id.ok()) return fail(id.error());
  if (a.has("json")) {
    std::printf("%s\n", nlohmann::json({{"restored", t->rev.id}, {"revision_id", *id}, {"chapter", t->chapter.ordinal}})
                            .dump().c_str());
    return 0;
  }
  std::printf("已把修订 #%lld（id %lld）的文字恢复为 %s 的正文，存为新修订 id %lld；此前的正文仍在历史中\n",
              static_cast<long long>(t->rev.number), static_cast<long long>(t->rev.id), chapter_name(t->chapter).c_str(),
              static_cast<long long>(*id));
  return 0;
}

const OptSpec kDb{"db", "D", "project database", true};
const OptSpec kId{"id", "R", "revision id (revisions list shows them)", true};
const OptSpec kJson{"json", "", "print JSON"};

Registrar reg_list({.name = "revisions list",
                    .summary = "a chapter's revisions: source, time, 字, which is current, which AI proposal waits",
                    .options = {kDb, {"book", "ID", "book id", true}, {"chapter", "N", "chapter ordinal", true}, kJson},
                    .run = run_list});
Registrar reg_show({.name = "revisions show",
                    .summary = "print a revision's text (what it is goes to stderr)",
                    .options = {kDb, kId, kJson},
                    .run = run_show});
Registrar reg_diff({.name = "revisions diff",
                    .summary = "compare a revision with the current text (or --against another revision)",
                    .options = {kDb, kId, {"against", "R|current", "the older side (default: the current text)"}, kJson},
                    .run = run_diff});
Registrar reg_accept({.name = "revisions accept",
                      .summary = "make an AI proposal the chapter's text (the old text stays in the history)",
                      .options = {kDb, kId, kJson},
                      .run = run_accept});
Registrar reg_restore({.name = "revisions restore",
                       .summary = "make an old revision's text current again, as a new revision",
                       .options = {kDb, kId, kJson},
                       .run = run_restore});

}  // namespace
}  // namespace cj::cli
