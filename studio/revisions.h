// What a writer does with a chapter's history and its outline, shared by the GUI (studio::BookSession) and the
// CLI (changjuan-cli revisions …, outline …): accept an AI proposal, restore an old text, list the revisions with
// the one waiting to be accepted, and the per-chapter outline kept in the project's meta table.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "storage/chapters.h"
#include "storage/database.h"

namespace cj::studio {

// Makes revision `revision_id` its chapter's current text (the writer accepted an AI proposal); the text it
// replaces stays in the history.
Status accept_revision(storage::Database& db, int64_t revision_id);
// Makes an old revision's text current again as a new "restore" revision (nothing is lost); returns its id.
Result<int64_t> restore_revision(storage::Database& db, int64_t revision_id);

struct RevisionRow {
  storage::Revision rev;          // body not loaded
  bool current = false;
  bool waiting = false;           // an AI revision newer than the current text: a proposal not yet accepted
  std::optional<uint64_t> seed;   // the sampling seed of an AI revision
};
// The revisions of a chapter, oldest first.
Result<std::vector<RevisionRow>> list_revisions(storage::Database& db, int64_t chapter_id);

// The outline (beats) of chapter `ordinal` of a book as the writer left it ("" when none), and saving it.
Result<std::string> load_outline(storage::Database& db, int64_t book_id, int64_t ordinal);
Status save_outline(storage::Database& db, int64_t book_id, int64_t ordinal, const std::string& text);

}  // namespace cj::studio
