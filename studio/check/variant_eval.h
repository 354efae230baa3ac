// Evaluation of the name-variant check and of character discovery on ANY book and ANY list of names
// (changjuan-cli eval variants / eval discovery, docs/consistency.md):
//   - the book is imported like any other (any supported encoding, chapters by their headings) into memory;
//   - the names are given, or the top N characters that discovery proposes;
//   - for each name the script picks variants from the check's own sound and shape data — half 同音 (the same
//     toneless pinyin), half 形近 (the most similar glyphs) — with a character the book itself uses often (a
//     real, plausible confusion), a variant string the book does not contain, and writes each over randomly
//     chosen occurrences of the name (same length, so offsets stay);
//   - the check runs with the names as the known entities; a variant counts as found when a finding names it
//     as its subject with the injected places among its occurrences. Precision counts every name-variant
//     finding of the modified book; the unmodified book gives the background rate per 100,000 字.
#pragma once
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "studio/check/check_types.h"
#include "studio/check/entity_discovery.h"
#include "studio/check/name_variant_check.h"

namespace cj::check {

struct EvalBook {
  std::string title;
  std::vector<CheckChapter> chapters;
  std::map<int64_t, std::string> labels;  // ordinal -> the book's own chapter label
  int64_t han_chars = 0;                  // 字: Han characters of all chapter bodies
};

// Imports the file into an in-memory project (storage::import_bytes: any supported encoding).
Result<EvalBook> load_eval_book(const std::string& path);

// The knowledge of a list of names: one character entity per name.
BookKnowledge knowledge_of_names(const std::vector<std::string>& names, const std::map<int64_t, std::string>& labels);

// The top `n` characters discovery proposes (roles left out), by count.
std::vector<std::string> top_characters(const EvalBook& book, size_t n);

struct InjectedVariant {
  std::string name;        // the known name
  std::string variant;     // as injected
  std::string rule;        // "同音" or "形近" (what the script chose it as)
  std::vector<VariantOccurrence> places;  // where it was written
  bool found = false;
};

struct VariantEvalOptions {
  size_t per_name = 4;           // variants per name: half 同音, half 形近
  size_t occurrences = 1;        // places each variant is written at
  uint32_t seed = 1;
  int64_t min_char_count = 20;   // a replacement character the book uses at least this often
};

struct VariantEvalResult {
  std::vector<InjectedVariant> injected;
  std::vector<CheckFinding> findings;        // name-variant findings on the modified book
  std::vector<CheckFinding> false_findings;  // those that are no injected variant
  size_t found = 0;
  double recall = 0, precision = 0;
  std::vector<std::string> skipped;          // names for which no variant of a rule could be chosen (why)
};

// Injects variants of `names` into a copy of the book and checks it.
VariantEvalResult eval_variants(const EvalBook& book, const std::vector<std::string>& names,
                                const VariantEvalOptions& opts);

// The name-variant findings on the unmodified book with `names` known.
std::vector<CheckFinding> background_findings(const EvalBook& book, const std::vector<std::string>& names);

}  // namespace cj::check
