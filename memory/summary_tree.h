// The summary tree of a book: scenes (groups of paragraphs, level 0) → chapter (1) → arc (2, a run of
// `arc_size` consecutive chapters) → book synopsis (3), stored as storage::SummaryNode rows, one tree per method.
// Level 3 holds one synopsis per arc: the synopsis as of the end of arc k covers chapters 1..(last of arc k), so
// a context for chapter N can use the one of the last arc finished before N and never tell the model what
// happens later (the last one is the whole book). Per arc rather than per chapter keeps it cheap and keeps the
// context's prefix (and so the engine's KV prefix cache) unchanged from one chapter to the next within an arc.
//
// Staleness by source hash: a scene's hash covers its text, a chapter's its body, an arc's the hashes of its
// chapters, the book's the hashes of its arcs (each also covers the length target). Editing chapter 5 therefore
// changes the hashes of its scenes, chapter 5, the arc holding it and the synopses of that arc and every later
// one, and nothing else; build()
// re-summarizes exactly the nodes whose stored hash differs (or that are missing) and removes nodes that no
// longer belong to the tree (a deleted chapter, a scene that disappeared). Because every finished node is
// committed at once, an interrupted build resumes where it stopped.
//
// What each level summarizes: scenes and chapters their own text; an arc the summaries of its chapters joined;
// the synopsis as of arc k the summaries of arcs 1..k joined.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/tokenizer/tokenizer.h"
#include "memory/summarizer.h"
#include "storage/database.h"

namespace cj::memory {

struct TreeOptions {
  bool scenes = true;           // build level 0 (scene) nodes
  size_t scene_zi = 1500;       // a scene: consecutive paragraphs up to about this many 字
  size_t scene_target_zi = 80;
  size_t chapter_target_zi = 300;
  size_t arc_size = 10;         // chapters per arc (fixed-size groups in reading order)
  size_t arc_target_zi = 600;
  size_t book_target_zi = 1200;
  int threads = 2;              // chapters summarized in parallel (only if the summarizer is thread-safe)
};

struct PlannedNode {
  int level = 1;
  int64_t first_chapter = 0;
  int64_t last_chapter = 0;
  int64_t part = 0;
  std::string source_hash;  // what the node's hash must be
  bool stale = true;        // missing, or stored with another hash
};

struct BuildProgress {
  size_t done = 0;    // nodes summarized so far in this build
  size_t total = 0;   // nodes to summarize in this build
  std::string what;   // "第3章", "卷 1–10", "全书"
};

struct BuildStats {
  size_t built = 0;    // nodes (re)summarized
  size_t kept = 0;     // nodes already up to date
  size_t removed = 0;  // nodes that no longer belong to the tree
  bool cancelled = false;
};

// Paragraph groups of a chapter body: [begin, end) byte ranges, each ending at a line end.
std::vector<std::pair<size_t, size_t>> split_scenes(std::string_view body, size_t scene_zi);

class SummaryTree {
 public:
  // tok (may be null) counts each node's tokens.
  SummaryTree(storage::Database& db, const Tokenizer* tok, TreeOptions o = {}) : db_(db), tok_(tok), o_(o) {}

  // Every node the tree of `method` should have now, with its expected hash and whether it is stale.
  Result<std::vector<PlannedNode>> plan(int64_t book_id, const std::string& method);
  // The stale nodes only.
  Result<std::vector<PlannedNode>> stale(int64_t book_id, const std::string& method);
  // Brings the tree up to date: summarizes the stale nodes (children before parents). progress returning false
  // cancels after the nodes finished so far (they are saved).
  Result<BuildStats> build(int64_t book_id, Summarizer& s,
                           const std::function<bool(const BuildProgress&)>& progress = {});

  const TreeOptions& options() const { return o_; }

 private:
  storage::Database& db_;
  const Tokenizer* tok_;
  TreeOptions o_;
};

// The character names and aliases of a book (entities of kind "character"), for the extractive ranker.
Result<std::vector<std::string>> character_names(storage::Database& db, int64_t book_id);

}  // namespace cj::memory
