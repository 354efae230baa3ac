// changjuan-cli rewrite: rewrite, expand or condense a selection of a chapter with an instruction, run now as a
// job. The text streams to stdout; the result is the chapter with the selection replaced, stored as a revision
// that is not current (the writer's text is untouched).
#include "studio/cli/studio_cli.h"

namespace cj::cli {
namespace {

int run_rewrite(const Args& a) {
  studio::WorkflowParams p;
  p.kind = a.get_or("mode", "rewrite");
  if (p.kind != "rewrite" && p.kind != "expand" && p.kind != "condense")
    return fail("--mode must be rewrite, expand or condense");
  auto from = a.get_int("from", 0), to = a.get_int("to", 0);
  if (!from.ok()) return fail(from.error());
  if (!to.ok()) return fail(to.error());
  p.sel_begin = *from;
  p.sel_end = *to;
  p.instruction = a.get_or("instruction", "");
  return studio_cli::run_workflow_cmd(a, p);
}

Registrar reg_rewrite({.name = "rewrite",
                       .summary = "rewrite/expand/condense a selection of a chapter (result: a new revision)",
                       .options = studio_cli::with_engine({{"db", "D", "project database", true},
                                               {"book", "ID", "book id", true},
                                               {"chapter", "N", kChapterRefHelp, true},
                                               {"from", "A", "selection start (code points)", true},
                                               {"to", "B", "selection end (code points, exclusive)", true},
                                               {"mode", "M", "rewrite (default), expand or condense"},
                                               {"instruction", "T", "what to change (default: the mode's own)"},
                                               {"tokens", "N", "tokens to generate at least (default 256)"},
                                               {"json", "", "print the result as JSON instead of streaming"}}),
                       .run = run_rewrite});

}  // namespace
}  // namespace cj::cli
