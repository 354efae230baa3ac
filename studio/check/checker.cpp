#include "studio/check/checker.h"

#include <map>
#include <set>

#include "storage/chapters.h"
#include "storage/entities.h"
#include "storage/facts.h"
#include "storage/text_decoder.h"
#include "storage/transaction.h"
#include "studio/check/after_death_check.h"
#include "studio/check/attribute_check.h"
#include "studio/check/name_variant_check.h"
#include "studio/check/timeline_check.h"

namespace cj::check {

namespace {

constexpr const char* kCheckerVersion = "check-v2";

std::string knowledge_digest(const std::vector<storage::Entity>& ents, const std::vector<storage::Fact>& facts) {
  std::string s;
  for (const auto& e : ents) {
    s += std::to_string(e.id) + "\x1f" + e.kind + "\x1f" + e.name;
    for (const auto& a : e.aliases) s += "\x1f" + a;
    s += "\x1e";
  }
  for (const auto& f : facts) {
    s += std::to_string(f.id) + "\x1f" + std::to_string(f.entity_id) + "\x1f" + f.predicate + "\x1f" + f.value +
         "\x1f" + std::to_string(f.object_id.value_or(-1)) + "\x1f" + std::to_string(f.valid_from.value_or(-1)) +
         "\x1f" + std::to_string(f.valid_to.value_or(-1)) + "\x1e";
  }
  return storage::content_hash(s);
}

struct Existing {
  int64_t id;
  std::string status;
  std::string kind;
};

}  // namespace

std::vector<CheckFinding> run_deterministic(const BookKnowledge& k, const std::vector<CheckChapter>& all,
                                            const std::vector<int64_t>& which) {
  NameIndex names(k);
  NameVariantCheck nv(k, names);
  nv.prepare(all);
  AfterDeathCheck ad(k, names);
  AttributeCheck at(k, names);
  TimelineCheck tl(k, names);
  tl.prepare(all);
  std::set<int64_t> want(which.begin(), which.end());
  std::vector<CheckFinding> out;
  for (const auto& ch : all) {
    if (!want.count(ch.ordinal)) continue;
    nv.run(ch, &out);
    ad.run(ch, &out);
    at.run(ch, &out);
    tl.run(ch, &out);
  }
  return out;
}

std::string finding_key(const CheckFinding& f, std::u32string_view body) {
  size_t b = size_t(std::max<int64_t>(0, f.start)), e = size_t(std::min<int64_t>(int64_t(body.size()), f.end));
  if (b > e) b = e;
  auto [sb, se] = sentence_around(body, b, e);
  return storage::content_hash(f.kind + "\x1f" + std::to_string(f.chapter) + "\x1f" +
                               to_utf8(body.substr(sb, se - sb)) + "\x1f" + to_utf8(body.substr(b, e - b)));
}

Result<CheckReport> check_book(storage::Database& db, int64_t book_id, const CheckOptions& opts) {
  auto ents = storage::Entities(db).list(book_id);
  if (!ents.ok()) return Error{ents.error()};
  auto facts = storage::Facts(db).list(book_id);
  if (!facts.ok()) return Error{facts.error()};
  const std::string kdigest = knowledge_digest(*ents, *facts);
  BookKnowledge k = make_knowledge(*ents, *facts);
  NameIndex names(k);

  std::map<int64_t, std::string> titles;
  auto loaded = load_check_chapters(db, book_id, &k.labels, &titles);
  if (!loaded.ok()) return Error{loaded.error()};
  const std::vector<CheckChapter>& all = *loaded;
  TimelineCheck tl(k, names);
  tl.prepare(all);
  NameVariantCheck nv(k, names);
  nv.prepare(all);
  AfterDeathCheck ad(k, names);
  AttributeCheck at(k, names);

  const std::string checker = opts.llm ? "llm:" + opts.llm->name() : std::string("deterministic");
  CheckReport rep;
  if (std::string n = nv.note(); !n.empty()) rep.notes.push_back(n);
  for (const auto& ch : all) {
    if ((opts.first && ch.ordinal < *opts.first) || (opts.last && ch.ordinal > *opts.last)) continue;
    // Name variants are a whole-book result (counts, every occurrence): the digest of those anchored here.
    const std::string hash = storage::content_hash(to_utf8(ch.body) + "\x1f" + kdigest + "\x1f" +
                                                   tl.state_before(ch.ordinal) + "\x1f" + nv.digest(ch.ordinal) + "\x1f" +
                                                   kCheckerVersion);
    if (!opts.force) {
      auto st = db.prepare("SELECT input_hash FROM check_state WHERE book_id=?1 AND chapter=?2 AND checker=?3");
      if (!st.ok()) return Error{st.error()};
      st->bind(1, book_id).bind(2, ch.ordinal).bind(3, checker);
      auto row = st->step();
      if (!row.ok()) return Error{row.error()};
      if (*row && st->col_text(0) == hash) {
        ++rep.chapters_fresh;
        continue;
      }
    }
    std::vector<CheckFinding> found;
    nv.run(ch, &found);
    ad.run(ch, &found);
    at.run(ch, &found);
    tl.run(ch, &found);
    std::set<std::string> kinds_run = {kKindName, kKindAfterDeath, kKindAttribute, kKindTimeline};
    if (opts.llm) {
      LlmCheckInput in;
      in.chapter = &ch;
      in.chapter_title = titles[ch.ordinal];
      in.entity_sheets = entity_sheets_for(k, names, ch);
      for (const auto& [o, t] : titles)
        if (o < ch.ordinal && o >= ch.ordinal - 5) in.summary_before += t + "\n";
      LlmCheckResult r = llm_check(*opts.llm, in);
      rep.llm_dropped_unverified += r.dropped_unverified;
      if (!r.error.empty()) rep.llm_errors.push_back(k.label(ch.ordinal) + "：" + r.error);
      else kinds_run.insert(kKindLlm);
      for (auto& f : r.findings) found.push_back(std::move(f));
    }

    auto tx = storage::Transaction::begin(db);
    if (!tx.ok()) return Error{tx.error()};
    // Existing keyed findings of this chapter.
    std::map<std::string, Existing> existing;
    {
      auto st = db.prepare(
          "SELECT k.finding_key, f.id, f.status, f.kind FROM finding_keys k JOIN findings f ON f.id = k.finding_id "
          "WHERE k.book_id=?1 AND k.chapter=?2");
      if (!st.ok()) return Error{st.error()};
      st->bind(1, book_id).bind(2, ch.ordinal);
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return Error{row.error()};
        if (!*row) break;
        existing[st->col_text(0)] = Existing{st->col_int(1), st->col_text(2), st->col_text(3)};
      }
    }
    std::set<std::string> produced;
    const int64_t now = storage::now_ms();
    for (const auto& f : found) {
      std::string key = finding_key(f, ch.body);
      if (!produced.insert(key).second) continue;
      auto it = existing.find(key);
      if (it != existing.end()) {
        if (it->second.status == "dismissed") {
          ++rep.suppressed;
          continue;
        }
        auto st = db.prepare(
            "UPDATE findings SET span_begin=?2, span_end=?3, message=?4, evidence=?5, updated_at=?6, subject=?7, "
            "status = CASE status WHEN 'fixed' THEN 'open' ELSE status END WHERE id=?1");
        if (!st.ok()) return Error{st.error()};
        st->bind(1, it->second.id).bind(2, f.start).bind(3, f.end).bind(4, f.message).bind(5, f.evidence).bind(6, now).bind(7, f.subject);
        CJ_TRY(st->run());
        ++rep.kept;
        continue;
      }
      auto st = db.prepare(
          "INSERT INTO findings(book_id, chapter, span_begin, span_end, kind, message, evidence, status, created_at, "
          "updated_at, subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?8, ?9)");
      if (!st.ok()) return Error{st.error()};
      st->bind(1, book_id).bind(2, f.chapter).bind(3, f.start).bind(4, f.end).bind(5, f.kind).bind(6, f.message)
          .bind(7, f.evidence).bind(8, now).bind(9, f.subject);
      CJ_TRY(st->run());
      int64_t fid = db.last_insert_id();
      auto kst = db.prepare("INSERT INTO finding_keys(finding_id, book_id, chapter, finding_key) VALUES (?1,?2,?3,?4)");
      if (!kst.ok()) return Error{kst.error()};
      kst->bind(1, fid).bind(2, book_id).bind(3, ch.ordinal).bind(4, key);
      CJ_TRY(kst->run());
      ++rep.added;
    }
    for (const auto& [key, ex] : existing) {
      if (produced.count(key) || ex.status != "open" || !kinds_run.count(ex.kind)) continue;
      auto st = db.prepare("UPDATE findings SET status='fixed', updated_at=?2 WHERE id=?1");
      if (!st.ok()) return Error{st.error()};
      st->bind(1, ex.id).bind(2, now);
      CJ_TRY(st->run());
      ++rep.fixed;
    }
    auto st = db.prepare(
        "INSERT INTO check_state(book_id, chapter, checker, input_hash, checked_at) VALUES (?1,?2,?3,?4,?5) "
        "ON CONFLICT(book_id, chapter, checker) DO UPDATE SET input_hash=excluded.input_hash, "
        "checked_at=excluded.checked_at");
    if (!st.ok()) return Error{st.error()};
    st->bind(1, book_id).bind(2, ch.ordinal).bind(3, checker).bind(4, hash).bind(5, now);
    CJ_TRY(st->run());
    CJ_TRY(tx->commit());
    ++rep.chapters_checked;
  }
  return rep;
}

}  // namespace cj::check
