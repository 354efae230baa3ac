// Planted-fact evaluation of retrieval into the context (changjuan-cli eval retrieval): does the passage that
// holds a fact from an early chapter reach the context of a late chapter whose outline needs it?
//
// On any imported book, with nothing chosen by hand:
//   1. Owners: the most frequent characters that character discovery (studio/check/entity_discovery.h) proposes;
//      the top `entities` of them are accepted as entities, as a writer would after `entities discover`.
//   2. Objects: the most frequent words that follow "一" + a measure word (一口宝刀, 一封书信; the measure words
//      are general Chinese, simplified and traditional) and that also occur as nouns (after 的, 这/那 + measure
//      word); names, numbers and words of one character are left out.
//   3. Facts: for each of `facts` facts an owner X (cycling through the `owners` most frequent), its own object Y
//      with its most frequent measure word C, and a name Z of two Han characters of the book that never occur
//      together in it. A sentence in one of several shapes ("原来X身边藏着一CY，唤作“Z”…") is inserted after a
//      random sentence of a random chapter between `from` and `to`; the templates follow the book's script
//      (ICU Hans-Hant when the book is traditional) and its quotation marks (“” or 「」).
//   4. The extractive summary tree is built, then for each fact the context for drafting chapter `ask` is built
//      at `budget` tokens with the real context builder and an outline that names X and Y but not Z
//      ("X提起那CY，冲入敌阵。"); the fact counts as recalled when Z is in the context.
// Chapters are numbered as the book reads: chapter k is the k-th chapter that has text (front matter and empty
// chapters — e.g. a table of contents imported as chapters — are skipped). `ask` may be one past the last
// chapter (a new chapter). The same book, options and seed give the same facts and the same figures.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/tokenizer/tokenizer.h"
#include "memory/context_builder.h"
#include "storage/database.h"

namespace cj::eval {

struct PlantedFactsOptions {
  int facts = 20;
  int64_t from = 5, to = 40;  // chapters (book numbering) the facts are planted in
  int64_t ask = 60;           // the chapter whose context is built (draft task)
  int64_t budget = 32768;     // tokens of the context
  uint64_t seed = 1;
  int entities = 20;          // top discovered characters accepted as entities
  int owners = 10;            // distinct owners the facts cycle through
  int threads = 2;
  std::string method = "extractive";
};

struct PlantedFact {
  std::string owner, object, measure, name;  // X, Y, C (measure word), Z
  int64_t chapter = 0;                       // book numbering
  int64_t ordinal = 0;
  std::string sentence;                      // as planted
  std::string outline;                       // the outline the context was built for
  bool recalled = false;                     // Z is in the context
  int rank = 0;                              // rank of the passage holding Z in retrieval for the outline
                                             // (1 = best; 0 = not among the best 1000)
  std::vector<std::string> sections;         // kinds of the sections that hold Z
  std::vector<memory::BudgetShare> shares;   // the context's budget plan
  int64_t tokens = 0;                        // the context's tokens
  size_t passages = 0;                       // passages in the context
};

struct PlantedFactsReport {
  std::string title;
  int64_t chapters = 0;        // chapters with text
  int64_t ask_ordinal = 0;
  bool traditional = false;
  std::vector<std::string> owners;   // the owners used, most frequent first
  std::vector<std::string> objects;  // the objects used
  std::vector<PlantedFact> facts;
  int recalled = 0;
};

// Plants the facts into the book `book_id` of `db` (the book is changed: use a scratch copy), builds the tree and
// the contexts. progress (optional) receives one line per stage.
Result<PlantedFactsReport> run_planted_facts(storage::Database& db, int64_t book_id, const Tokenizer& tok,
                                             const PlantedFactsOptions& o,
                                             const std::function<void(const std::string&)>& progress = {});

}  // namespace cj::eval
