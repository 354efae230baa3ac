#include "storage/chapters.h"

#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "storage/chapter_splitter.h"
#include "storage/transaction.h"

namespace cj::storage {

const char* to_string(RevisionSource s) {
  switch (s) {
    case RevisionSource::kImport: return "import";
    case RevisionSource::kWriter: return "writer";
    case RevisionSource::kAi: return "ai";
    case RevisionSource::kRestore: return "restore";
  }
  return "writer";
}

namespace {
constexpr const char* kInfoCols = "id, book_id, ordinal, heading, title, chars, coalesce(revision_id, 0), updated_at, zi";

ChapterInfo info_row(const Statement& s) {
  return {s.col_int(0), s.col_int(1), s.col_int(2), s.col_text(3), s.col_text(4), s.col_int(5), s.col_int(6), s.col_int(7), s.col_int(8)};
}

bool is_space_at(std::string_view s, size_t i, size_t* len) {
  if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') return *len = 1, true;
  if (s.compare(i, 3, "\xE3\x80\x80") == 0) return *len = 3, true;  // U+3000
  return false;
}

std::string trim_spaces(std::string_view s) {
  size_t b = 0, e = s.size(), n = 0;
  while (b < e && is_space_at(s, b, &n)) b += n;
  for (bool again = true; again && e > b;) {
    again = false;
    if (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n') --e, again = true;
    else if (e - b >= 3 && s.compare(e - 3, 3, "\xE3\x80\x80") == 0) e -= 3, again = true;
  }
  return std::string(s.substr(b, e - b));
}

std::string no_chapter(int64_t id) { return "no chapter with id " + std::to_string(id); }
}  // namespace

Result<int64_t> Chapters::insert_revision(int64_t chapter_id, const std::string& title, const std::string& body,
                                          RevisionSource source, const std::string& note) {
  auto st = db_.prepare(
      "INSERT INTO chapter_revisions(chapter_id, number, title, body, source, note, created_at, zi)"
      " VALUES (?1, (SELECT coalesce(max(number), 0) + 1 FROM chapter_revisions WHERE chapter_id = ?1),"
      " ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, chapter_id).bind(2, title).bind(3, body).bind(4, to_string(source)).bind(5, note).bind(6, now_ms());
  st->bind(7, static_cast<int64_t>(text::zishu(body)));
  CJ_TRY(st->run());
  return db_.last_insert_id();
}

Result<int64_t> Chapters::add(int64_t book_id, const NewChapter& c, RevisionSource source, const std::string& note) {
  if (!utf8::valid(c.body) || !utf8::valid(c.title) || !utf8::valid(c.heading))
    return make_error("cannot add chapter: its text is not valid UTF-8");
  CJ_TRY(db_.sync_search_lexicon());
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot add chapter: " + tx.error());
  auto st = db_.prepare(
      "INSERT INTO chapters(book_id, ordinal, heading, title, body, chars, updated_at, zi) VALUES (?1,"
      " CASE WHEN ?2 >= 0 THEN ?2 ELSE (SELECT coalesce(max(ordinal), 0) + 1 FROM chapters WHERE book_id = ?1) END,"
      " ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, c.ordinal).bind(3, c.heading).bind(4, c.title).bind(5, c.body);
  st->bind(6, static_cast<int64_t>(utf8::count_code_points(c.body))).bind(7, now_ms());
  st->bind(8, static_cast<int64_t>(text::zishu(c.body)));
  if (auto s = st->run(); !s.ok()) {
    return make_error("cannot add chapter «" + c.title + "» to book " + std::to_string(book_id) + ": " + s.error());
  }
  const int64_t id = db_.last_insert_id();
  auto rev = insert_revision(id, c.title, c.body, source, note);
  if (!rev.ok()) return make_error("cannot add chapter: " + rev.error());
  auto up = db_.prepare("UPDATE chapters SET revision_id = ?2 WHERE id = ?1");
  if (!up.ok()) return Error{up.error()};
  CJ_TRY(up->bind(1, id).bind(2, *rev).run());
  if (auto s = tx->commit(); !s.ok()) return make_error("cannot add chapter: " + s.error());
  return id;
}

std::string chapter_label(const ChapterInfo& c) {
  if (c.heading.empty()) {
    if (c.ordinal == 0) return "卷首";
    const std::string t = trim_spaces(c.title);
    return t.empty() ? "第" + std::to_string(c.ordinal) + "章" : t;
  }
  // 第二十二回 / 楔子 at the start of the heading, whatever title follows (or was renamed since).
  if (auto h = heading_label(c.heading)) return h->label;
  // A heading without a number: a story's title (狂人日记), a Markdown heading.
  std::string_view h = c.heading;
  size_t hashes = 0;
  while (hashes < h.size() && h[hashes] == '#') ++hashes;
  if (hashes >= 1 && hashes <= 6 && hashes < h.size() && h[hashes] == ' ') h.remove_prefix(hashes + 1);
  std::string label = trim_spaces(h);
  if (label.empty()) return c.ordinal == 0 ? "卷首" : "第" + std::to_string(c.ordinal) + "章";
  return label;
}

Result<std::vector<ChapterInfo>> Chapters::list(int64_t book_id) {
  auto st = db_.prepare(std::string("SELECT ") + kInfoCols + " FROM chapters WHERE book_id = ?1 ORDER BY ordinal");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id);
  std::vector<ChapterInfo> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    out.push_back(info_row(*st));
  }
  return out;
}

Result<int64_t> Chapters::count(int64_t book_id) {
  auto st = db_.prepare("SELECT count(*) FROM chapters WHERE book_id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  return st->col_int(0);
}

Result<Chapter> Chapters::get(int64_t chapter_id) {
  auto st = db_.prepare(std::string("SELECT ") + kInfoCols + ", body FROM chapters WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, chapter_id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error(no_chapter(chapter_id));
  Chapter c;
  static_cast<ChapterInfo&>(c) = info_row(*st);
  c.body = st->col_text(9);
  return c;
}

Result<Chapter> Chapters::get_by_ordinal(int64_t book_id, int64_t ordinal) {
  auto st = db_.prepare("SELECT id FROM chapters WHERE book_id = ?1 AND ordinal = ?2");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, book_id).bind(2, ordinal);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("book " + std::to_string(book_id) + " has no chapter " + std::to_string(ordinal));
  return get(st->col_int(0));
}

Result<int64_t> Chapters::save(int64_t chapter_id, const std::string& body, RevisionSource source,
                               const std::string& note, std::optional<std::string> title) {
  if (!utf8::valid(body)) return make_error("cannot save chapter: the text is not valid UTF-8");
  CJ_TRY(db_.sync_search_lexicon());
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot save chapter: " + tx.error());
  auto cur = get(chapter_id);
  if (!cur.ok()) return Error{cur.error()};
  const std::string new_title = title ? *title : cur->title;
  if (cur->body == body && new_title == cur->title) return cur->revision_id;
  auto rev = insert_revision(chapter_id, new_title, body, source, note);
  if (!rev.ok()) return make_error("cannot save chapter: " + rev.error());
  auto st = db_.prepare(
      "UPDATE chapters SET body = ?2, title = ?3, chars = ?4, revision_id = ?5, updated_at = ?6, zi = ?7 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, chapter_id).bind(2, body).bind(3, new_title).bind(4, static_cast<int64_t>(utf8::count_code_points(body)));
  st->bind(5, *rev).bind(6, now_ms()).bind(7, static_cast<int64_t>(text::zishu(body)));
  if (auto s = st->run(); !s.ok()) return make_error("cannot save chapter: " + s.error());
  if (auto s = tx->commit(); !s.ok()) return make_error("cannot save chapter: " + s.error());
  return *rev;
}

Result<int64_t> Chapters::add_revision(int64_t chapter_id, const std::string& body, RevisionSource source,
                                       const std::string& note) {
  if (!utf8::valid(body)) return make_error("cannot store revision: the text is not valid UTF-8");
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot store revision: " + tx.error());
  auto cur = get(chapter_id);
  if (!cur.ok()) return Error{cur.error()};
  auto rev = insert_revision(chapter_id, cur->title, body, source, note);
  if (!rev.ok()) return make_error("cannot store revision: " + rev.error());
  if (auto s = tx->commit(); !s.ok()) return make_error("cannot store revision: " + s.error());
  return rev;
}

Status Chapters::set_current(int64_t chapter_id, int64_t revision_id) {
  CJ_TRY(db_.sync_search_lexicon());
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot restore revision: " + tx.error());
  auto rev = revision(revision_id);
  if (!rev.ok()) return Error{rev.error()};
  if (rev->chapter_id != chapter_id)
    return make_error("revision " + std::to_string(revision_id) + " belongs to another chapter");
  auto st = db_.prepare(
      "UPDATE chapters SET body = ?2, title = ?3, chars = ?4, revision_id = ?5, updated_at = ?6, zi = ?7 WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, chapter_id).bind(2, rev->body).bind(3, rev->title).bind(4, rev->chars).bind(5, revision_id).bind(6, now_ms());
  st->bind(7, rev->zi);
  if (auto s = st->run(); !s.ok()) return make_error("cannot restore revision: " + s.error());
  return tx->commit();
}

Result<std::vector<Revision>> Chapters::revisions(int64_t chapter_id) {
  auto st = db_.prepare(
      "SELECT id, chapter_id, number, title, source, note, created_at, length(body), zi FROM chapter_revisions"
      " WHERE chapter_id = ?1 ORDER BY number");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, chapter_id);
  std::vector<Revision> out;
  while (true) {
    auto r = st->step();
    if (!r.ok()) return Error{r.error()};
    if (!*r) break;
    Revision v;
    v.id = st->col_int(0);
    v.chapter_id = st->col_int(1);
    v.number = st->col_int(2);
    v.title = st->col_text(3);
    v.source = st->col_text(4);
    v.note = st->col_text(5);
    v.created_at = st->col_int(6);
    v.chars = st->col_int(7);  // SQLite length() of TEXT counts characters
    v.zi = st->col_int(8);
    out.push_back(std::move(v));
  }
  return out;
}

Result<Revision> Chapters::revision(int64_t revision_id) {
  auto st = db_.prepare(
      "SELECT id, chapter_id, number, title, source, note, created_at, body FROM chapter_revisions WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  st->bind(1, revision_id);
  auto r = st->step();
  if (!r.ok()) return Error{r.error()};
  if (!*r) return make_error("no revision with id " + std::to_string(revision_id));
  Revision v;
  v.id = st->col_int(0);
  v.chapter_id = st->col_int(1);
  v.number = st->col_int(2);
  v.title = st->col_text(3);
  v.source = st->col_text(4);
  v.note = st->col_text(5);
  v.created_at = st->col_int(6);
  v.body = st->col_text(7);
  v.chars = static_cast<int64_t>(utf8::count_code_points(v.body));
  v.zi = static_cast<int64_t>(text::zishu(v.body));
  return v;
}

Status Chapters::move(int64_t chapter_id, int64_t to) {
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot move chapter: " + tx.error());
  auto cur = get(chapter_id);
  if (!cur.ok()) return Error{cur.error()};
  const int64_t from = cur->ordinal;
  if (from < 1) return make_error("the front matter (ordinal 0) cannot be moved");
  if (to < 1) return make_error("a chapter cannot move before the front matter (ordinal " + std::to_string(to) + ")");
  auto have = db_.prepare("SELECT count(*) FROM chapters WHERE book_id = ?1 AND ordinal = ?2");
  if (!have.ok()) return Error{have.error()};
  have->bind(1, cur->book_id).bind(2, to);
  if (auto r = have->step(); !r.ok() || !*r || have->col_int(0) == 0)
    return make_error("book " + std::to_string(cur->book_id) + " has no chapter at ordinal " + std::to_string(to));
  if (from == to) return tx->commit();
  // new ordinal of o: the moved chapter goes to `to`, the ones between shift towards `from`.
  const std::string map =
      "CASE WHEN {c} = ?2 THEN ?3 WHEN ?2 < ?3 AND {c} > ?2 AND {c} <= ?3 THEN {c} - 1"
      " WHEN ?2 > ?3 AND {c} >= ?3 AND {c} < ?2 THEN {c} + 1 ELSE {c} END";
  auto mapped = [&](const std::string& col) {
    std::string m = map;
    for (size_t at; (at = m.find("{c}")) != std::string::npos;) m.replace(at, 3, col);
    return m;
  };
  // Two steps through negative ordinals keep UNIQUE(book_id, ordinal) satisfied at every row.
  const std::string lo = std::to_string(std::min(from, to)), hi = std::to_string(std::max(from, to));
  for (const std::string& sql :
       {"UPDATE chapters SET ordinal = -(" + mapped("ordinal") + ") WHERE book_id = ?1 AND ordinal BETWEEN " + lo +
            " AND " + hi,
        std::string("UPDATE chapters SET ordinal = -ordinal WHERE book_id = ?1 AND ordinal < 0"),
        "UPDATE findings SET chapter = " + mapped("chapter") + " WHERE book_id = ?1",
        "UPDATE finding_keys SET chapter = " + mapped("chapter") + " WHERE book_id = ?1",
        "UPDATE check_state SET chapter = -(" + mapped("chapter") + ") WHERE book_id = ?1 AND chapter BETWEEN " + lo +
            " AND " + hi,
        std::string("UPDATE check_state SET chapter = -chapter WHERE book_id = ?1 AND chapter < 0"),
        // Facts: both ends follow their chapters (an open end stays open); a range whose ends cross becomes the
        // range between them. The chapter it was stated in follows too.
        "UPDATE facts SET valid_from = CASE WHEN valid_from IS NULL THEN NULL WHEN valid_to IS NULL THEN " +
            mapped("valid_from") + " ELSE min(" + mapped("valid_from") + ", " + mapped("valid_to") +
            ") END, valid_to = CASE WHEN valid_to IS NULL THEN NULL WHEN valid_from IS NULL THEN " +
            mapped("valid_to") + " ELSE max(" + mapped("valid_from") + ", " + mapped("valid_to") +
            ") END, source_chapter = " + mapped("source_chapter") + " WHERE book_id = ?1",
        // Scene and chapter summaries describe one chapter's text and move with it (no re-summarizing); arc and
        // book summaries span ranges and turn stale by their source hashes.
        "UPDATE summary_nodes SET first_chapter = -(" + mapped("first_chapter") + "), last_chapter = -(" +
            mapped("first_chapter") + ") WHERE book_id = ?1 AND level <= 1 AND first_chapter BETWEEN " + lo + " AND " +
            hi,
        std::string("UPDATE summary_nodes SET first_chapter = -first_chapter, last_chapter = -last_chapter"
                    " WHERE book_id = ?1 AND first_chapter < 0")}) {
    auto st = db_.prepare(sql);
    if (!st.ok()) return Error{st.error()};
    st->bind(1, cur->book_id);
    if (sql.find("?2") != std::string::npos) st->bind(2, from).bind(3, to);
    if (auto s = st->run(); !s.ok()) return make_error("cannot move chapter: " + s.error());
  }
  return tx->commit();
}

Status Chapters::remove(int64_t chapter_id) {
  CJ_TRY(db_.sync_search_lexicon());
  auto tx = Transaction::begin(db_);
  if (!tx.ok()) return make_error("cannot delete chapter: " + tx.error());
  auto st = db_.prepare("DELETE FROM chapters WHERE id = ?1");
  if (!st.ok()) return Error{st.error()};
  if (auto s = st->bind(1, chapter_id).run(); !s.ok()) return make_error("cannot delete chapter: " + s.error());
  if (db_.changes() == 0) return make_error(no_chapter(chapter_id));
  return tx->commit();
}

}  // namespace cj::storage
