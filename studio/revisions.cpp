#include "studio/revisions.h"

#include "engine/base/utf8.h"
#include "studio/workflows.h"

namespace cj::studio {

Status accept_revision(storage::Database& db, int64_t revision_id) {
  storage::Chapters ch(db);
  auto r = ch.revision(revision_id);
  if (!r.ok()) return Error{r.error()};
  return ch.set_current(r->chapter_id, revision_id);
}

Result<int64_t> restore_revision(storage::Database& db, int64_t revision_id) {
  storage::Chapters ch(db);
  auto r = ch.revision(revision_id);
  if (!r.ok()) return Error{r.error()};
  return ch.save(r->chapter_id, r->body, storage::RevisionSource::kRestore,
                 "restored revision " + std::to_string(r->number), r->title);
}

Result<std::vector<RevisionRow>> list_revisions(storage::Database& db, int64_t chapter_id) {
  storage::Chapters ch(db);
  auto cur = ch.get(chapter_id);
  if (!cur.ok()) return Error{cur.error()};
  auto revs = ch.revisions(chapter_id);
  if (!revs.ok()) return Error{revs.error()};
  std::vector<RevisionRow> out;
  bool after_current = false;
  for (auto& r : *revs) {
    RevisionRow row;
    row.current = r.id == cur->revision_id;
    row.waiting = after_current && r.source == "ai";
    if (row.current) after_current = true;
    if (r.source == "ai") row.seed = seed_of_note(r.note);
    row.rev = std::move(r);
    out.push_back(std::move(row));
  }
  return out;
}

namespace {
std::string outline_key(int64_t book_id, int64_t ordinal) {
  return "studio.outline.book." + std::to_string(book_id) + ".chapter." + std::to_string(ordinal);
}
}  // namespace

Result<std::string> load_outline(storage::Database& db, int64_t book_id, int64_t ordinal) {
  auto st = db.prepare("SELECT value FROM meta WHERE key = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, outline_key(book_id, ordinal));
  auto row = st->step();
  if (!row.ok()) return Error{row.error()};
  if (!*row) return std::string();
  return st->col_text(0);
}

Status save_outline(storage::Database& db, int64_t book_id, int64_t ordinal, const std::string& text) {
  if (!utf8::valid(text)) return make_error("the outline is not valid UTF-8");
  auto st = db.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, outline_key(book_id, ordinal)).bind(2, text);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  return Status::Ok();
}

}  // namespace cj::studio
