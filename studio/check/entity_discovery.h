// Character discovery for an imported book: proposes names from the text for the writer to accept as entities
// or merge into aliases (changjuan-cli entities discover/accept/merge).
//
// Candidates come from three shapes: (1) the 2–3 characters before a speech marker (X道：, X笑道, X说道, X问道,
// X曰：…); (2) 姓+名: a common Chinese surname (single or compound, listed in entity_discovery.cpp) followed by one or two Han
// characters; (3) a character followed by an honorific (X夫人, X姑娘, X将军, X丞相…). A candidate is proposed when
// it occurs at least min_count times and stands before a speech or action verb often enough; a prefix that is
// almost always part of a longer candidate (林黛 of 林黛玉) is dropped, and a short candidate that ends a longer
// one (黛玉 of 林黛玉) is proposed as its alias. ICU segmentation rejects common words: a 2-character candidate
// that ICU's dictionary knows as one word (e.g. 黄金) needs speech evidence to be kept.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
#include "storage/database.h"
#include "studio/check/check_types.h"

namespace cj::check {

struct DiscoveredName {
  std::string name;
  std::string kind = "character";
  int64_t count = 0;          // occurrences in the book (as a whole string)
  int64_t speech_count = 0;   // occurrences right before a speech/action verb
  int64_t first_chapter = 0;  // ordinal of the first occurrence
  int64_t first_offset = 0;   // code points into that chapter's body
  std::string alias_of;       // a longer proposed (or known) name this one is probably an alias of
  std::string source;         // "speech", "surname", "honorific"
  bool role = false;          // a role or title (知府, 太公, 妇人), not a name
  std::vector<std::string> examples;  // two sentences where it stands, speaking if it does (evidence for the writer)
};

struct DiscoveryOptions {
  int64_t min_count = 5;
  size_t limit = 200;
};

// Known names/aliases (k) are not proposed again (but are used for alias suggestions).
std::vector<DiscoveredName> discover_names(const std::vector<CheckChapter>& chapters, const BookKnowledge& k,
                                           const DiscoveryOptions& opts = {});

// The evidence of a proposal for the writer, naming the first chapter by its label (k.label):
// "宝玉  3846 次  首见第一回  例：…" and the same as JSON (entities discover --json, eval discovery --json).
std::string discovered_line(const DiscoveredName& d, const BookKnowledge& k);
nlohmann::json discovered_json(const DiscoveredName& d, const BookKnowledge& k);

// Discovery over a stored book: its chapters (the front matter included, for names only it has), the entities it
// already knows left out, chapter labels filled in *k (for discovered_line). Roles and titles (知府, 夫人) only when
// `roles`. The CLI's `entities discover` and the GUI's 人物 → 从书中找人物 both call this.
Result<std::vector<DiscoveredName>> discover_in_book(storage::Database& db, int64_t book, const DiscoveryOptions& opts,
                                                     bool roles, BookKnowledge* k);

// One of the common Chinese surnames (single or compound) used for 姓+名 shapes.
bool is_common_surname(std::u32string_view s);

}  // namespace cj::check
