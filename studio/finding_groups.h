// Consistency findings as a writer reads them: grouped by kind (名字写法, 死后出场, …) and, within a kind, by
// subject (the entity or the variant as written: storage::Finding::subject), with counts — one line per name
// instead of one per sentence, so that a book with hundreds of findings stays readable. Used by the GUI's 一致性
// panel and changjuan-cli check.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "storage/findings.h"

namespace cj::studio {

// The writer's word for a finding kind (studio/check/check_types.h); an unknown kind as it is.
std::string finding_kind_label(const std::string& kind);
// The writer's word for a finding status (open, accepted, dismissed, fixed).
const char* finding_status_label(const std::string& status);

struct SubjectGroup {
  std::string subject;          // "" for findings about nothing in particular
  std::vector<size_t> items;    // indexes into the list given, in chapter and span order
  size_t open = 0;              // of them, still open
};
struct KindGroup {
  std::string kind;
  std::vector<SubjectGroup> subjects;  // most findings first, then by subject
  size_t count = 0, open = 0;
};
// Groups findings (e.g. Findings::list) by kind — the checks' order: name variants, after death, attributes,
// timeline, model, then others — and subject. With open_only, closed findings (dismissed, fixed, accepted) are
// left out.
std::vector<KindGroup> group_findings(const std::vector<storage::Finding>& findings, bool open_only);

}  // namespace cj::studio
