// changjuan-cli continue: continue a chapter at the cursor, run now as a job (Ctrl-C checkpoints it and
// `jobs resume` continues it). The text streams to stdout; the result is a revision that is not current.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "storage/books.h"
#include "storage/database.h"
#include "storage/jobs.h"
#include "studio/cli/studio_cli.h"

namespace cj::cli {
namespace {

int run_continue(const Args& a) {
  studio::WorkflowParams p;
  p.kind = "continue";
  auto cur = a.get_int("cursor", -1);
  if (!cur.ok()) return fail(cur.error());
  p.cursor = *cur;
  return studio_cli::run_workflow_cmd(a, p);
}


Registrar reg_continue({.name = "continue",
                        .summary = "continue a chapter at the cursor with the local model (result: a new revision)",
                        .options = studio_cli::with_engine({{"db", "D", "project database", true},
                                                {"book", "ID", "book id", true},
                                                {"chapter", "N", kChapterRefHelp, true},
                                                {"cursor", "C", "code point offset in the chapter (default: end)"},
                                                {"tokens", "N", "tokens to generate at most (default 256)"},
                                                {"json", "", "print the result as JSON instead of streaming"}}),
                        .run = run_continue});

}  // namespace
}  // namespace cj::cli
