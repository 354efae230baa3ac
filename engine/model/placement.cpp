#include "engine/model/placement.h"

#include "engine/format/gguf.h"
#include "engine/model/model.h"

namespace cj {

const char* const kDefaultPlacement = "*_exps.*=host,*=device";

const char* placement_name(Placement p) { return p == Placement::Host ? "host" : "device"; }

bool glob_match(const std::string& pattern, const std::string& name) {
  // Iterative matcher with one backtrack point (the last '*'): linear in practice, never exponential.
  size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<std::vector<PlacementRule>> parse_placement(const std::string& spec) {
  std::vector<PlacementRule> rules;
  size_t i = 0;
  while (i <= spec.size()) {
    size_t j = spec.find(',', i);
    if (j == std::string::npos) j = spec.size();
    const std::string entry = spec.substr(i, j - i);
    i = j + 1;
    if (entry.empty()) {
      if (j == spec.size()) break;
      return make_error("placement: empty entry in '" + spec + "'");
    }
    const size_t eq = entry.rfind('=');
    if (eq == std::string::npos || eq == 0)
      return make_error("placement: '" + entry + "' is not PATTERN=device or PATTERN=host");
    PlacementRule r;
    r.pattern = entry.substr(0, eq);
    const std::string where = entry.substr(eq + 1);
    if (where == "device") r.where = Placement::Device;
    else if (where == "host") r.where = Placement::Host;
    else return make_error("placement: '" + where + "' in '" + entry + "' must be device or host");
    rules.push_back(std::move(r));
  }
  return rules;
}

Placement resolve_placement(const std::vector<PlacementRule>& rules, const std::string& name) {
  for (const PlacementRule& r : rules)
    if (glob_match(r.pattern, name)) return r.where;
  return Placement::Device;
}

PlacementBytes placement_bytes(const Model& m, const std::vector<PlacementRule>& rules) {
  PlacementBytes b;
  for (const gguf::TensorInfo& t : m.file().tensors()) {
    (resolve_placement(rules, t.name) == Placement::Host ? b.host : b.device) += t.bytes;
  }
  return b;
}

}  // namespace cj
