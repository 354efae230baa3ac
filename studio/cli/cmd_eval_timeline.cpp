// changjuan-cli eval timeline: the timeline check's evaluation on any book file (studio/check/timeline_eval.h):
// recall on injected backward dates, findings per 100 chapters of the unmodified book.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "storage/chapter_splitter.h"
#include "storage/chapters.h"
#include "storage/text_decoder.h"
#include "studio/check/timeline_eval.h"
#include "studio/cli/command.h"

namespace cj::cli {
namespace {

int run_eval_timeline(const Args& a) {
  const std::string path = *a.get("file");
  auto inject = a.get_int("inject", 30);
  if (!inject.ok()) return fail(inject.error());
  auto seed = a.get_int("seed", 1);
  if (!seed.ok()) return fail(seed.error());
  auto gap = a.get_int("max-gap", 5);
  if (!gap.ok()) return fail(gap.error());
  if (*inject < 0 || *inject > 100000) return fail("--inject wants a count from 0 to 100000");
  if (*gap < 1 || *gap > 1000) return fail("--max-gap wants years from 1 to 1000");
  auto bytes = read_file(path);
  if (!bytes.ok()) return fail(bytes.error());
  auto text = storage::decode_text(*bytes, path);
  if (!text.ok()) return fail(text.error());
  auto split = storage::split_chapters(text->text);

  check::BookKnowledge k;
  std::vector<check::CheckChapter> chapters;
  if (split.front_matter) {
    chapters.push_back({0, check::to_u32(*split.front_matter)});
    k.labels[0] = "卷首";
  }
  int64_t ord = 0;
  for (const auto& c : split.chapters) {
    storage::ChapterInfo info;
    info.ordinal = ++ord;
    info.heading = c.heading;
    info.title = c.title;
    k.labels[ord] = storage::chapter_label(info);
    chapters.push_back({ord, check::to_u32(c.body)});
  }
  check::TimelineEvalOptions opts;
  opts.injections = int(*inject);
  opts.seed = uint32_t(*seed);
  opts.max_gap_years = int(*gap);
  auto r = check::eval_timeline(chapters, k, opts);

  if (a.has("json")) {
    nlohmann::json j;
    j["file"] = path;
    j["encoding"] = text->encoding;
    j["chapters"] = r.chapters;
    j["dated_chapters"] = r.dated_chapters;
    j["year_markers"] = r.year_markers;
    j["injected"] = r.injections.size();
    j["found"] = r.found;
    j["recall"] = r.recall();
    j["original_findings"] = r.original_findings.size();
    j["findings_per_100_chapters"] = r.findings_per_100();
    j["injections"] = nlohmann::json::array();
    for (const auto& i : r.injections)
      j["injections"].push_back({{"chapter", k.label(i.chapter)}, {"ordinal", i.chapter}, {"start", i.start},
                                 {"end", i.end}, {"sentence", i.sentence}, {"after", i.clock}, {"found", i.found}});
    j["findings"] = nlohmann::json::array();
    for (const auto& f : r.original_findings)
      j["findings"].push_back({{"chapter", k.label(f.chapter)}, {"ordinal", f.chapter}, {"start", f.start},
                               {"end", f.end}, {"message", f.message}, {"evidence", f.evidence}});
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s (%s): %d chapters with text, %d with their own dated markers (%d year markers)\n", path.c_str(),
              text->encoding.c_str(), r.chapters, r.dated_chapters, r.year_markers);
  if (r.injections.empty())
    std::printf("injections: none (the book states no year that an earlier one could contradict)\n");
  else
    std::printf("injections: %d of %zu found, recall %.3f\n", r.found, r.injections.size(), r.recall());
  std::printf("unmodified book: %zu timeline findings, %.2f per 100 chapters\n", r.original_findings.size(),
              r.findings_per_100());
  if (a.has("list")) {
    for (const auto& i : r.injections)
      std::printf("  %s %s：%s（前文 %s）\n", i.found ? "found " : "MISSED", k.label(i.chapter).c_str(),
                  i.sentence.c_str(), i.clock.c_str());
    for (const auto& f : r.original_findings)
      std::printf("  finding %s：%s\n      %s\n", k.label(f.chapter).c_str(), f.message.c_str(), f.evidence.c_str());
  }
  return 0;
}

Registrar reg({.name = "eval timeline",
               .summary = "evaluate the timeline check on a book file: injected backward dates, false positives",
               .options = {{"file", "BOOK.txt", "the book (UTF-8 or GB18030 text with chapter headings)", true},
                           {"inject", "N", "backward dates to inject, one per chapter (default 30)"},
                           {"seed", "N", "random seed of the injections (default 1)"},
                           {"max-gap", "YEARS", "an injection is 1..YEARS earlier than the story (default 5)"},
                           {"list", "", "also list each injection and each finding on the unmodified book"},
                           {"json", "", "print the figures, injections and findings as JSON"}},
               .run = run_eval_timeline});

}  // namespace
}  // namespace cj::cli
