#include "studio/book_session.h"
#include "studio/revisions.h"
#include "studio/workflows.h"

#include <algorithm>
#include <filesystem>

#include "engine/base/file.h"
#include "engine/base/text.h"
#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/search_index.h"
#include "storage/text_decoder.h"
#include "storage/transaction.h"

namespace cj::studio {
namespace {

std::string_view trim(std::string_view s) {
  auto is_ws = [](std::string_view v, size_t i, size_t* n) {
    if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') return *n = 1, true;
    if (v.substr(i, 3) == "\u3000") return *n = 3, true;
    return false;
  };
  size_t n = 0;
  while (!s.empty() && is_ws(s, 0, &n)) s.remove_prefix(n);
  while (!s.empty()) {
    if (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n') {
      s.remove_suffix(1);
    } else if (s.size() >= 3 && s.substr(s.size() - 3) == "\u3000") {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

// A text file held in memory as chapters; each chapter keeps its heading line exactly as read so that an
// unedited file saves back byte for byte.
class TextFileBook final : public BookSession {
 public:
  struct Part {
    std::string heading;  // the heading line including its newline ("" for the preamble)
    std::string body;     // the text up to the next heading
  };

  TextFileBook(std::string path, std::vector<Part> parts, std::string encoding, bool crlf)
      : path_(std::move(path)), parts_(std::move(parts)), encoding_(std::move(encoding)), crlf_(crlf) {
    std::vector<storage::ChapterInfo> rows;
    for (size_t i = 0; i < parts_.size(); ++i) {
      chapters_.push_back(info(i));
      storage::ChapterInfo r;
      r.ordinal = static_cast<int64_t>(i);
      r.heading = std::string(trim(parts_[i].heading));
      if (auto h = storage::parse_heading(r.heading)) r.title = h->title;
      rows.push_back(std::move(r));
    }
    renumber(rows);
  }

  std::string title() const override { return std::filesystem::path(path_).stem().string(); }
  std::string source() const override { return path_; }
  bool has_revisions() const override { return false; }

  Result<std::string> load_chapter(size_t i) override {
    if (i >= parts_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in " + path_);
    return parts_[i].body;
  }

  Status save_chapter(size_t i, std::string_view text) override {
    if (i >= parts_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in " + path_);
    std::string old = std::move(parts_[i].body);
    // Chapters are held with '\n' line ends, as the editor works; the file keeps its own (CRLF files stay CRLF)
    // and its encoding (a GB18030 file is written back as GB18030).
    std::string body;
    body.reserve(text.size());
    for (char c : text)
      if (c != '\r') body += c;
    if (!body.empty() && body.back() != '\n' && i + 1 < parts_.size()) body += '\n';
    parts_[i].body = std::move(body);
    auto bytes = file_bytes();
    if (!bytes.ok()) {
      parts_[i].body = std::move(old);
      return Error{bytes.error()};
    }
    const std::string& all = *bytes;
    // The file has no revisions: keep the original once, next to it, before the first overwrite.
    const std::string backup = path_ + "~";
    if (!backed_up_ && !std::filesystem::exists(backup)) {
      std::error_code ec;
      std::filesystem::copy_file(path_, backup, ec);
      if (ec) {
        parts_[i].body = std::move(old);
        return make_error("cannot keep a backup " + backup + ": " + ec.message());
      }
    }
    backed_up_ = true;
    if (Status s = write_file_atomic(path_, all); !s.ok()) {
      parts_[i].body = std::move(old);
      return s;
    }
    chapters_[i] = info(i);
    return Status::Ok();
  }

  Result<std::vector<storage::Entity>> entities() override { return no_project(); }
  Result<std::vector<storage::Fact>> facts() override { return no_project(); }
  Result<int64_t> add_entity(const std::string&, const std::string&, const std::vector<std::string>&,
                             const std::string&) override {
    return no_project();
  }
  Status remove_entity(int64_t) override { return no_project(); }
  Result<int64_t> add_fact(storage::Fact) override { return no_project(); }
  Status remove_fact(int64_t) override { return no_project(); }
  Result<std::vector<storage::Finding>> findings() override { return no_project(); }
  Result<std::vector<storage::Job>> jobs() override { return no_project(); }
  Status set_finding_status(int64_t, const std::string&) override { return no_project(); }
  Status set_findings_status(const std::vector<int64_t>&, const std::string&) override { return no_project(); }
  Status rename_chapter(size_t, const std::string&) override { return no_project(); }
  Result<size_t> add_chapter(const std::string&) override { return no_project(); }
  Result<std::vector<RevisionInfo>> revisions(size_t) override { return no_project(); }
  Result<std::string> revision_text(int64_t) override { return no_project(); }
  Status restore_revision(size_t, int64_t) override { return no_project(); }
  Status accept_revision(size_t, int64_t) override { return no_project(); }
  Status move_chapter(size_t, size_t) override { return no_project(); }
  Result<std::string> outline(int64_t) override { return no_project(); }
  Status save_outline(int64_t, const std::string&) override { return no_project(); }

  Result<storage::SearchCount> search_count(std::string_view q) override {
    storage::SearchCount c;
    if (q.empty()) return c;
    for (const auto& p : parts_) {
      int64_t n = 0;
      for (size_t at = p.body.find(q); at != std::string::npos; at = p.body.find(q, at + q.size())) ++n;
      c.hits += n;
      c.chapters += n > 0;
    }
    return c;
  }

  Result<std::vector<SearchHit>> search(std::string_view q, size_t limit) override {
    std::vector<SearchHit> hits;
    if (q.empty()) return hits;
    for (size_t c = 0; c < parts_.size() && hits.size() < limit; ++c) {
      const std::string& body = parts_[c].body;
      for (size_t at = body.find(q); at != std::string::npos && hits.size() < limit; at = body.find(q, at + q.size()))
        hits.push_back({c, at, q.size(), make_snippet(body, at, q.size(), 16)});
    }
    return hits;
  }

  // The whole file as it is to be written: the parts joined, line ends and encoding as read.
  Result<std::string> file_bytes() const {
    std::string all;
    for (const auto& p : parts_) {
      for (const std::string* s : {&p.heading, &p.body}) {
        if (!crlf_) {
          all += *s;
          continue;
        }
        for (char c : *s) {
          if (c == '\n') all += '\r';
          all += c;
        }
      }
    }
    return storage::encode_text(all, encoding_);
  }

 private:
  ChapterInfo info(size_t i) const {
    ChapterInfo ci;
    ci.id = static_cast<int64_t>(i);
    ci.title = parts_[i].heading.empty() ? std::string("（卷首）") : std::string(trim(parts_[i].heading));
    ci.name = ci.title;
    ci.ordinal = static_cast<int64_t>(i);
    ci.zi = text::zishu(parts_[i].body);
    return ci;
  }

  static Error no_project() {
    return make_error(
        "a plain text file has no revisions, characters, facts, findings or jobs; import it into a book "
        "project (changjuan-cli import) and open that with --db");
  }

  std::string path_;
  std::vector<Part> parts_;  // '\n' line ends
  std::string encoding_;     // as storage::decode_text names it: "UTF-8", "UTF-8 (BOM)", "GB18030", …
  bool crlf_ = false;        // the file's lines end in CRLF
  bool backed_up_ = false;
};

// A book in a project file: every save is a new revision (storage::Chapters::save), nothing is overwritten.
class ProjectBook final : public BookSession {
 public:
  ProjectBook(std::unique_ptr<storage::Database> db, storage::Book book, std::vector<storage::ChapterInfo> rows)
      : db_(std::move(db)), book_(std::move(book)), rows_(std::move(rows)) {}

  Status load_infos() {
    chapters_.clear();
    for (const auto& r : rows_) chapters_.push_back(info(r));  // 字数 is stored with the text (storage zi)
    renumber(rows_);
    return Status::Ok();
  }

  std::string title() const override { return book_.title.empty() ? std::string("（无题）") : book_.title; }
  std::string source() const override { return db_->path(); }
  bool has_revisions() const override { return true; }
  int64_t book_id() const override { return book_.id; }

  Result<std::string> load_chapter(size_t i) override {
    if (i >= rows_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in this book");
    storage::Chapters ch(*db_);
    auto c = ch.get(rows_[i].id);
    if (!c.ok()) return Error{c.error()};
    if (auto rev = ch.revision(c->revision_id); rev.ok()) chapters_[i].revision = rev->number;
    return std::move(c->body);
  }

  Status save_chapter(size_t i, std::string_view text) override {
    if (i >= rows_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in this book");
    storage::Chapters ch(*db_);
    auto rev = ch.save(rows_[i].id, std::string(text), storage::RevisionSource::kWriter, "saved in the editor");
    if (!rev.ok()) return Error{rev.error()};
    chapters_[i].zi = text::zishu(text);
    if (auto r = ch.revision(*rev); r.ok()) chapters_[i].revision = r->number;
    return Status::Ok();
  }

  Result<storage::SearchCount> search_count(std::string_view q) override {
    return storage::SearchIndex(*db_).count(book_.id, q);
  }

  Result<std::vector<SearchHit>> search(std::string_view q, size_t limit) override {
    storage::SearchOptions o;
    o.limit = static_cast<int>(std::min<size_t>(limit, 1000));
    auto found = storage::SearchIndex(*db_).search(book_.id, q, o);
    if (!found.ok()) return Error{found.error()};
    // The index ranks chapters; the editor wants a place: the first occurrence of the first term.
    std::string_view first = trim(q);
    for (size_t k = 0; k < first.size(); ++k)
      if (first[k] == ' ' || first[k] == '\t' || first.substr(k, 3) == "\u3000") {
        first = first.substr(0, k);
        break;
      }
    std::vector<SearchHit> hits;
    for (const auto& h : *found) {
      size_t idx = 0;
      while (idx < rows_.size() && rows_[idx].id != h.chapter_id) ++idx;
      if (idx == rows_.size()) continue;
      auto body = load_chapter(idx);
      if (!body.ok()) return Error{body.error()};
      const size_t at = body->find(first);
      const size_t len = at == std::string::npos ? 0 : first.size();
      hits.push_back({idx, at == std::string::npos ? 0 : at, len,
                      at == std::string::npos ? h.snippet : make_snippet(*body, at, len, 16)});
    }
    return hits;
  }

  Result<std::vector<storage::Entity>> entities() override { return storage::Entities(*db_).list(book_.id); }
  Result<std::vector<storage::Fact>> facts() override { return storage::Facts(*db_).list(book_.id); }
  Result<int64_t> add_entity(const std::string& kind, const std::string& name, const std::vector<std::string>& aliases,
                             const std::string& description) override {
    const std::string n(trim(name));
    if (n.empty()) return make_error("a name cannot be empty");
    std::vector<std::string> as;
    for (const auto& a : aliases)
      if (std::string t(trim(a)); !t.empty() && t != n) as.push_back(t);
    return storage::Entities(*db_).add(book_.id, kind, n, as, std::string(trim(description)));
  }
  Status remove_entity(int64_t id) override { return storage::Entities(*db_).remove(id); }
  Result<int64_t> add_fact(storage::Fact f) override {
    f.book_id = book_.id;
    f.origin = "writer";
    return storage::Facts(*db_).add(f);
  }
  Status remove_fact(int64_t id) override { return storage::Facts(*db_).remove(id); }
  Result<std::vector<storage::Finding>> findings() override { return storage::Findings(*db_).list(book_.id); }
  Status rename_chapter(size_t i, const std::string& title) override {
    if (i >= rows_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in this book");
    const std::string t(trim(title));
    if (t.empty()) return make_error("a chapter title cannot be empty");
    storage::Chapters ch(*db_);
    auto cur = ch.get(rows_[i].id);
    if (!cur.ok()) return Error{cur.error()};
    auto rev = ch.save(rows_[i].id, cur->body, storage::RevisionSource::kWriter, "renamed", t);
    if (!rev.ok()) return Error{rev.error()};
    return took_revision(ch, i, *rev);
  }

  Result<size_t> add_chapter(const std::string& title) override {
    const std::string t(trim(title));
    if (!utf8::valid(t)) return make_error("the chapter title is not valid UTF-8");
    storage::Chapters ch(*db_);
    storage::NewChapter nc;
    // The book's next number in its own style (第一百二十一回 after 第一百二十回, also after a 楔子), unless the
    // title is a heading itself.
    if (auto h = storage::parse_heading(t); h && storage::heading_label(t)) {
      // A heading the writer typed goes at the end too, so its number must be the book's next one: a number further
      // on would leave a gap, one the book has would be a second chapter with that number.
      const auto lb = storage::heading_label(t);
      if (lb->number) {
        const auto want = numbering_.number(numbering_.last_ordinal() + 1);
        if (want && *lb->number != *want) {
          if (*lb->number > *want)
            return Error{check_no_gap(numbering_, numbering_.last_ordinal() + 1 + (*lb->number - *want), true).error()};
          return make_error("书里已经有" + lb->label + "，下一章是" + numbering_.next_heading() + "：新章节接在最后一章之后");
        }
      }
      nc.heading = t;
      nc.title = h->title;
    } else {
      nc.heading = numbering_.next_heading();
      nc.title = t;
      if (!t.empty()) nc.heading += " " + t;
    }
    auto id = ch.add(book_.id, nc, storage::RevisionSource::kWriter, "new chapter");
    if (!id.ok()) return Error{id.error()};
    auto c = ch.get(*id);
    if (!c.ok()) return Error{c.error()};
    rows_.push_back(*c);
    chapters_.push_back(info(rows_.back()));
    renumber(rows_);
    return rows_.size() - 1;
  }

  Result<std::vector<RevisionInfo>> revisions(size_t i) override {
    if (i >= rows_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in this book");
    storage::Chapters ch(*db_);
    auto cur = ch.get(rows_[i].id);
    if (!cur.ok()) return Error{cur.error()};
    auto revs = ch.revisions(rows_[i].id);
    if (!revs.ok()) return Error{revs.error()};
    std::vector<RevisionInfo> out;
    for (const auto& r : *revs)
      out.push_back({r.id, r.number, r.source, r.note, r.created_at, r.chars, r.zi, r.id == cur->revision_id});
    return out;
  }

  Result<std::string> revision_text(int64_t id) override {
    auto r = storage::Chapters(*db_).revision(id);
    if (!r.ok()) return Error{r.error()};
    return std::move(r->body);
  }

  Status restore_revision(size_t i, int64_t id) override {
    if (i >= rows_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in this book");
    storage::Chapters ch(*db_);
    auto r = ch.revision(id);
    if (!r.ok()) return Error{r.error()};
    if (r->chapter_id != rows_[i].id) return make_error("that revision belongs to another chapter");
    auto rev = studio::restore_revision(*db_, id);
    if (!rev.ok()) return Error{rev.error()};
    return took_revision(ch, i, *rev);
  }

  Status accept_revision(size_t i, int64_t id) override {
    if (i >= rows_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in this book");
    storage::Chapters ch(*db_);
    auto r = ch.revision(id);
    if (!r.ok()) return Error{r.error()};
    if (r->chapter_id != rows_[i].id) return make_error("that revision belongs to another chapter");
    CJ_TRY(studio::accept_revision(*db_, id));
    took_revision(i, *r);
    return Status::Ok();
  }

  Status move_chapter(size_t from, size_t to) override {
    if (from >= rows_.size() || to >= rows_.size()) return make_error("no such chapter position");
    if (from == to) return Status::Ok();
    storage::Chapters ch(*db_);
    // One transaction: the chapters move (and what storage keys by ordinal), and so do the outlines kept here.
    auto tx = storage::Transaction::begin(*db_);
    if (!tx.ok()) return Error{tx.error()};
    const int64_t a = rows_[from].ordinal, b = rows_[to].ordinal;
    std::vector<std::pair<int64_t, std::string>> moved;  // (new ordinal, outline)
    for (int64_t o = std::min(a, b); o <= std::max(a, b); ++o) {
      auto text = outline(o);
      if (!text.ok()) return Error{text.error()};
      moved.push_back({o == a ? b : (a < b ? o - 1 : o + 1), std::move(*text)});
    }
    CJ_TRY(ch.move(rows_[from].id, b));
    for (const auto& [o, text] : moved) CJ_TRY(save_outline(o, text));
    CJ_TRY(tx->commit());
    auto rows = ch.list(book_.id);
    if (!rows.ok()) return Error{rows.error()};
    rows_ = std::move(*rows);
    return load_infos();
  }

  Result<std::string> outline(int64_t ordinal) override { return load_outline(*db_, book_.id, ordinal); }
  Status save_outline(int64_t ordinal, const std::string& text) override {
    return studio::save_outline(*db_, book_.id, ordinal, text);
  }

  std::string db_path() const override { return db_->path(); }

  Status set_finding_status(int64_t id, const std::string& status) override {
    return storage::Findings(*db_).set_status(id, status);
  }
  Status set_findings_status(const std::vector<int64_t>& ids, const std::string& status) override {
    auto tx = storage::Transaction::begin(*db_);
    if (!tx.ok()) return Error{tx.error()};
    storage::Findings f(*db_);
    for (int64_t id : ids) CJ_TRY(f.set_status(id, status));
    return tx->commit();
  }
  Result<std::vector<storage::Job>> jobs() override {
    auto all = storage::Jobs(*db_).list();
    if (!all.ok()) return all;
    std::vector<storage::Job> mine;
    for (auto& j : *all)
      if (!j.book_id || *j.book_id == book_.id) mine.push_back(std::move(j));
    return mine;
  }

 private:
  // The book's label ("第一回", "楔子", a story's title) with the current title, so that a rename shows; the front
  // matter shows （卷首）.
  static std::string display_title(const storage::ChapterInfo& r) {
    if (r.ordinal == 0 && trim(r.heading).empty() && r.title.empty()) return "（卷首）";
    const std::string label = storage::chapter_label(r);
    const std::string title = collapse_spaces(trim(r.title));
    if (title.empty() || title == label) return label;
    return label + "  " + title;
  }
  // Runs of spaces and full-width spaces (儒林外史's 「說楔子敷陳大義　　　　借名流隱括全文」) as one full-width space.
  static std::string collapse_spaces(std::string_view t) {
    std::string out;
    bool gap = false;
    for (size_t i = 0; i < t.size();) {
      const bool ideo = t.compare(i, 3, "\u3000") == 0;
      if (ideo || t[i] == ' ' || t[i] == '\t') {
        gap = true;
        i += ideo ? 3 : 1;
        continue;
      }
      if (gap && !out.empty()) out += "\u3000";
      gap = false;
      out += t[i++];
    }
    return out;
  }

  // Chapter i's list entry once revision r is its current text (renamed, restored or an AI revision accepted).
  void took_revision(size_t i, const storage::Revision& r) {
    rows_[i].title = r.title;
    chapters_[i].title = display_title(rows_[i]);
    chapters_[i].name = r.title;
    chapters_[i].zi = static_cast<size_t>(r.zi);
    chapters_[i].revision = r.number;
    renumber(rows_);
  }
  Status took_revision(storage::Chapters& ch, size_t i, int64_t revision_id) {
    auto r = ch.revision(revision_id);
    if (!r.ok()) return Error{r.error()};
    took_revision(i, *r);
    return Status::Ok();
  }

  static ChapterInfo info(const storage::ChapterInfo& r) {
    ChapterInfo ci;
    ci.id = r.id;
    ci.ordinal = r.ordinal;
    ci.title = display_title(r);
    ci.label = storage::chapter_label(r);
    ci.name = r.title;
    ci.zi = static_cast<size_t>(r.zi);
    return ci;
  }


  std::unique_ptr<storage::Database> db_;
  storage::Book book_;
  std::vector<storage::ChapterInfo> rows_;
};

}  // namespace


std::string make_snippet(std::string_view text, size_t byte, size_t len, size_t context) {
  size_t a = byte, b = byte + len;
  for (size_t k = 0; k < context && a > 0; ++k) {
    --a;
    while (a > 0 && (static_cast<unsigned char>(text[a]) & 0xC0) == 0x80) --a;
  }
  for (size_t k = 0; k < context && b < text.size(); ++k) {
    ++b;
    while (b < text.size() && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) ++b;
  }
  // Line breaks and runs of spaces (paragraph indents) become one space.
  std::string s;
  bool space = false;
  for (size_t i = a; i < b;) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      ++i;
      continue;
    }
    if (text.substr(i, 3) == "\u3000") {
      space = true;
      i += 3;
      continue;
    }
    if (space && !s.empty()) s += ' ';
    space = false;
    s += c;
    ++i;
  }
  return std::string(trim(s));
}

size_t byte_offset_of_code_point(std::string_view text, int64_t cp) {
  size_t i = 0;
  for (int64_t k = 0; k < cp && i < text.size(); ++k) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

Result<std::unique_ptr<BookSession>> BookSession::open_project(const std::string& db_path, int64_t book_id) {
  if (!std::filesystem::exists(db_path)) return make_error("no book project at " + db_path);
  auto db = storage::Database::open(db_path, {.create = false});
  if (!db.ok()) return Error{db.error()};
  storage::Books books(**db);
  if (book_id == 0) {
    auto all = books.list();
    if (!all.ok()) return Error{all.error()};
    if (all->empty()) return make_error(db_path + " holds no book yet; import one with changjuan-cli import");
    if (all->size() > 1) {
      std::string ids;
      for (const auto& b : *all) ids += " " + std::to_string(b.id) + " (" + b.title + ")";
      return make_error(db_path + " holds several books; choose one with --book:" + ids);
    }
    book_id = all->front().id;
  }
  auto book = books.get(book_id);
  if (!book.ok()) return Error{book.error()};
  auto rows = storage::Chapters(**db).list(book_id);
  if (!rows.ok()) return Error{rows.error()};
  auto pb = std::make_unique<ProjectBook>(std::move(*db), std::move(*book), std::move(*rows));
  if (Status s = pb->load_infos(); !s.ok()) return Error{s.error()};
  return std::unique_ptr<BookSession>(std::move(pb));
}

Result<std::unique_ptr<BookSession>> BookSession::open_text_file(const std::string& path) {
  auto data = read_file(path);
  if (!data.ok()) return Error{data.error()};
  const std::string& raw = *data;
  // UTF-8 as it is; any other encoding the importer reads (GB18030, Big5, UTF-16/32) is decoded and must convert
  // back to the same bytes, since saving a chapter rewrites the whole file.
  std::string text, encoding;
  std::string_view body = raw;
  const bool bom = raw.rfind("\xEF\xBB\xBF", 0) == 0;
  if (bom) body.remove_prefix(3);
  if (utf8::valid(body)) {
    encoding = bom ? "UTF-8 (BOM)" : "UTF-8";
    text.assign(body);
  } else {
    auto d = storage::decode_text(raw, path);
    if (!d.ok()) return Error{d.error()};
    encoding = d->encoding;
    text = std::move(d->text);
  }
  // Line ends: CRLF when most lines end so, counted in the file's own code units ("\r\n" is 4 bytes in UTF-16, 8 in
  // UTF-32: encode_text gives the bytes, after its byte order mark); the text is held with '\n'.
  auto unit_bytes = [&](const char* s) -> std::string {
    if (encoding.rfind("UTF-8", 0) == 0) return s;
    auto b = storage::encode_text(s, encoding);
    auto bom = storage::encode_text("", encoding);
    return b.ok() && bom.ok() ? b->substr(bom->size()) : std::string(s);
  };
  auto occurrences = [&](const std::string& pat) {
    size_t n = 0;
    for (size_t k = raw.find(pat); k != std::string::npos; k = raw.find(pat, k + pat.size())) ++n;
    return n;
  };
  const size_t lf = occurrences(unit_bytes("\n")), crlf = occurrences(unit_bytes("\r\n"));
  const bool crlf_file = lf > 0 && crlf * 2 > lf;
  if (encoding.rfind("UTF-8", 0) == 0) {
    std::string lf_text;
    lf_text.reserve(text.size());
    for (size_t k = 0; k < text.size(); ++k)
      if (!(text[k] == '\r' && k + 1 < text.size() && text[k + 1] == '\n')) lf_text += text[k];
    text = std::move(lf_text);
  }

  // Chapters where the importer would put them (a table of contents stays in the front matter, story titles start
  // stories); each part keeps its heading line as read so that an unedited file saves back byte for byte.
  const storage::SplitBook sb = storage::split_chapters(text);
  std::vector<TextFileBook::Part> parts(1);
  const bool headed = !sb.chapters.empty() && !sb.chapters.front().heading.empty();
  parts[0].body = text.substr(0, headed ? sb.chapters.front().begin : text.size());
  for (size_t c = 0; headed && c < sb.chapters.size(); ++c) {
    const size_t begin = sb.chapters[c].begin;
    const size_t end = c + 1 < sb.chapters.size() ? sb.chapters[c + 1].begin : text.size();
    size_t nl = text.find('\n', begin);
    nl = nl == std::string::npos || nl >= end ? end : nl + 1;
    parts.push_back({text.substr(begin, nl - begin), text.substr(nl, end - nl)});
  }
  // A preamble of only whitespace (or nothing) before the first heading is kept but not listed.
  if (parts.size() > 1 && trim(parts.front().body).empty()) {
    parts[1].heading.insert(0, parts.front().body);
    parts.erase(parts.begin());
  }
  auto book = std::make_unique<TextFileBook>(path, std::move(parts), encoding, crlf_file);
  if (encoding.rfind("UTF-8", 0) != 0) {
    auto back = book->file_bytes();
    if (!back.ok() || *back != raw)
      return make_error(path + " is " + encoding +
                        " text that would not be saved back unchanged, so it cannot be edited in place; import it "
                        "into a book project instead (文件 → 导入小说…, or changjuan-cli import)");
  }
  return std::unique_ptr<BookSession>(std::move(book));
}

}  // namespace cj::studio
