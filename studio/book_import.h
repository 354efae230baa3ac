// Importing a novel as a writer does it — in the GUI's 导入小说 and `changjuan-cli import`: the text file into a
// project (created when missing), then a summary to show: the title, the encoding found, how many chapters, the
// book's own first and last chapter labels, 字数, and whether text before the first heading was kept as 卷首.
// The extractive summary tree is built right after (no model, seconds), so that the assistant's context has the
// book's synopsis and chapter summaries from the first 续写.
#pragma once
#include <cstdint>
#include <string>

#include "engine/base/result.h"
#include "storage/importer.h"

namespace cj::studio {

struct ImportSummary {
  storage::ImportResult result;
  std::string db_path;
  int64_t zi = 0;                  // 字数 of the whole book (cj::text::zishu)
  std::string first_label, last_label;  // the first and last chapter as the book names them (卷首 excluded)
  int64_t longest_zi = 0;
  std::string longest_label;
  bool summaries_built = false;    // the extractive summary tree was built
  std::string summary_note;        // why it was not (it is not needed to write; the context is then thinner)
};

// Imports `file` into the project at db_path (created if it does not exist) and summarizes the result.
// build_summaries: build the extractive summary tree right away.
Result<ImportSummary> import_novel(const std::string& db_path, const std::string& file,
                                   const storage::ImportOptions& opts = {}, bool build_summaries = true);

// The summary in the writer's words, a few lines (Chinese).
std::string describe(const ImportSummary& s);
// The part of describe() about the text as a whole: 字数, the longest chapter, summaries.
std::string describe_more(const ImportSummary& s);

// A new project for a book written from scratch: the file (it must not exist yet), the book with its title and
// one empty first chapter (第一章). Returns the book id.
Result<int64_t> create_project(const std::string& db_path, const std::string& title);

}  // namespace cj::studio
