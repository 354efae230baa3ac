// Consistency-check benchmarks: the deterministic checks over a 120-chapter book (三国演义 with the injected
// set of tests/check/injector.h), in memory and end to end through a project file (check_book: load, check,
// store findings and per-chapter hashes). Target: under 30 s for 120 chapters on 2 cores without a model.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>

#include "storage/database.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "storage/importer.h"
#include "studio/check/checker.h"
#include "tests/check/injector.h"

namespace {

void BM_CheckDeterministic120(benchmark::State& state) {
  auto b = cj::check::testing::make_injected_book();
  std::vector<int64_t> all;
  for (const auto& c : b.modified) all.push_back(c.ordinal);
  size_t n = 0;
  for (auto _ : state) {
    auto f = cj::check::run_deterministic(b.knowledge, b.modified, all);
    n = f.size();
    benchmark::DoNotOptimize(f);
  }
  state.counters["chapters"] = double(all.size());
  state.counters["findings"] = double(n);
}
BENCHMARK(BM_CheckDeterministic120)->Unit(benchmark::kMillisecond)->Iterations(3);

// Full run through a project file: 三国演义 imported, the injector's entities and facts stored, every chapter
// checked (force) and the findings reconciled with the table.
void BM_CheckBook120(benchmark::State& state) {
  namespace fs = std::filesystem;
  const std::string path = (fs::temp_directory_path() / "cj_bench_check.db").string();
  fs::remove(path);
  fs::remove(path + "-wal");
  fs::remove(path + "-shm");
  auto db = cj::storage::Database::open(path);
  if (!db.ok()) return state.SkipWithError(db.error().c_str());
  auto imp = cj::storage::import_file(**db, std::string(CJ_TEST_DATA) + "/novels/三国演义.txt");
  if (!imp.ok()) return state.SkipWithError(imp.error().c_str());
  auto k = cj::check::testing::sanguo_knowledge();
  cj::storage::Entities ents(**db);
  std::map<int64_t, int64_t> ids;
  for (const auto& e : k.entities) {
    std::vector<std::string> al;
    for (size_t i = 1; i < e.names.size(); ++i) al.push_back(cj::check::to_utf8(e.names[i]));
    auto id = ents.add(imp->book_id, e.kind, cj::check::to_utf8(e.name), al);
    if (!id.ok()) return state.SkipWithError(id.error().c_str());
    ids[e.id] = *id;
  }
  for (auto f : k.facts) {
    f.book_id = imp->book_id;
    f.entity_id = ids[f.entity_id];
    if (f.object_id) f.object_id = ids[*f.object_id];
    if (auto r = cj::storage::Facts(**db).add(f); !r.ok()) return state.SkipWithError(r.error().c_str());
  }
  int checked = 0;
  for (auto _ : state) {
    auto rep = cj::check::check_book(**db, imp->book_id, {.force = true});
    if (!rep.ok()) return state.SkipWithError(rep.error().c_str());
    checked = rep->chapters_checked;
  }
  state.counters["chapters"] = double(checked);
  db.value().reset();
  fs::remove(path);
}
BENCHMARK(BM_CheckBook120)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
