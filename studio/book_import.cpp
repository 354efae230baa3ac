#include "studio/book_import.h"

#include <cstdio>
#include <filesystem>

#include "engine/base/text.h"
#include "engine/tokenizer/tokenizer_load.h"
#include "memory/bundled_tokenizer.h"
#include "memory/extractive_summarizer.h"
#include "memory/summary_tree.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"

namespace cj::studio {

Result<ImportSummary> import_novel(const std::string& db_path, const std::string& file,
                                   const storage::ImportOptions& opts, bool build_summaries) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(db_path, ec);
  auto db = storage::Database::open(db_path, {.create = true});
  if (!db.ok()) return make_error(db.error());
  auto r = storage::import_file(**db, file, opts);
  if (!r.ok()) {
    // A project this import created is removed again when nothing could be imported into it.
    if (!existed) {
      db.value().reset();
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(db_path + suffix, ec);
    }
    return make_error(r.error());
  }
  ImportSummary s;
  s.result = *r;
  s.db_path = db_path;
  storage::Chapters chapters(**db);
  auto list = chapters.list(r->book_id);
  if (!list.ok()) return make_error(list.error());
  for (const auto& c : *list) {
    auto body = chapters.get(c.id);
    if (!body.ok()) return make_error(body.error());
    const int64_t zi = int64_t(text::zishu(body->body));
    s.zi += zi;
    if (c.ordinal == 0) continue;
    if (s.first_label.empty()) s.first_label = storage::chapter_label(c);
    s.last_label = storage::chapter_label(c);
    if (zi > s.longest_zi) s.longest_zi = zi, s.longest_label = storage::chapter_label(c);
  }
  if (build_summaries) {
    // The extractive tree needs no model; token counts come from the bundled Qwen tokenizer.
    auto path = memory::bundled_tokenizer_path();
    auto tok = path.ok() ? load_tokenizer(*path) : Result<std::unique_ptr<Tokenizer>>(make_error(path.error()));
    if (!tok.ok()) {
      s.summary_note = tok.error();
    } else {
      memory::ExtractiveSummarizer ex;
      memory::SummaryTree tree(**db, tok->get(), {});
      auto b = tree.build(r->book_id, ex);
      if (b.ok()) s.summaries_built = true;
      else s.summary_note = b.error();
    }
  }
  return s;
}

Result<int64_t> create_project(const std::string& db_path, const std::string& title) {
  std::string t = title;
  while (!t.empty() && (t.back() == ' ' || t.back() == '\n')) t.pop_back();
  if (t.empty()) return make_error("a book needs a title");
  std::error_code ec;
  if (std::filesystem::exists(db_path, ec)) return make_error(db_path + " already exists; open it, or choose another name");
  auto db = storage::Database::open(db_path, {.create = true});
  if (!db.ok()) return make_error(db.error());
  storage::Book b;
  b.title = t;
  auto id = storage::Books(**db).create(b);
  if (!id.ok()) return make_error(id.error());
  storage::NewChapter c;
  c.ordinal = 1;
  c.heading = "第一章";
  auto ch = storage::Chapters(**db).add(*id, c, storage::RevisionSource::kWriter, "new book");
  if (!ch.ok()) return make_error(ch.error());
  return *id;
}

namespace {
std::string wan(int64_t zi) {
  char b[48];
  if (zi >= 10000) std::snprintf(b, sizeof b, "%.1f 万字", double(zi) / 10000.0);
  else std::snprintf(b, sizeof b, "%lld 字", static_cast<long long>(zi));
  return b;
}
}  // namespace

std::string describe(const ImportSummary& s) {
  const auto& r = s.result;
  const int64_t n = r.chapters - (r.front_matter ? 1 : 0);
  std::string out = "已导入《" + r.title + "》：" + std::to_string(n) + " 章";
  if (!s.first_label.empty()) out += "（" + s.first_label + (n > 1 ? " 至 " + s.last_label : "") + "）";
  out += "；文件编码 " + r.encoding + "。\n";
  if (r.front_matter) out += "第一个章节标题之前的文字（书名、目录、序）单独放在“卷首”。\n";
  if (r.toc_lines > 0) out += "开头的目录（" + std::to_string(r.toc_lines) + " 行）留在卷首，没有当成章节。\n";
  if (r.stories && r.sections > 0)
    out += "全书是 " + std::to_string(n) + " 篇故事；故事里的 " + std::to_string(r.sections) + " 个小标题留作各篇的小节。\n";
  if (r.reflowed > 0)
    out += "原文每 " + std::to_string(r.wrap_width) + " 列硬换行：段落里的 " + std::to_string(r.reflowed) +
           " 处换行已去掉。\n";
  if (r.replaced_book_id) out += "同一文本以前导入过，旧的那本已替换。\n";
  return out + describe_more(s);
}

std::string describe_more(const ImportSummary& s) {
  std::string out = "全书 " + wan(s.zi);
  if (!s.longest_label.empty()) out += "，最长的一章是" + s.longest_label + "，" + wan(s.longest_zi);
  out += "。\n";
  if (s.summaries_built) out += "已生成全书与各章的摘要（抽取式，不用模型），写作时作为上下文。\n";
  else if (!s.summary_note.empty()) out += "摘要尚未生成：" + s.summary_note + "\n";
  return out;
}

}  // namespace cj::studio
