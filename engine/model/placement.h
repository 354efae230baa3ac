// Where each weight tensor lives when a backend has an accelerator: a per-tensor placement rule in the engine
// configuration (EngineOptions::placement), read by every backend. For mixture-of-experts models on a GPU with
// less memory than the model, the rule keeps attention, the router and the shared experts on the device and the
// routed experts (the bulk of the bytes, a few rows of which each token reads) in host RAM, computed by the CPU.
//
// Syntax: comma-separated `PATTERN=WHERE` entries, the first whose PATTERN matches a tensor's GGUF name wins;
// WHERE is `device` or `host`; PATTERN is a glob (`*` any run of characters, `?` one character). A tensor no entry
// matches goes to the device. Example (the default): "*_exps.*=host,*=device".
#pragma once
#include <string>
#include <vector>

#include "engine/base/result.h"

namespace cj {

class Model;

enum class Placement { Device, Host };
const char* placement_name(Placement p);

struct PlacementRule {
  std::string pattern;
  Placement where = Placement::Device;
};

// The rule in effect when EngineOptions::placement is empty: routed experts in host RAM, the rest on the device.
extern const char* const kDefaultPlacement;

// Parses the syntax above; a clear error for an empty pattern, a missing '=' or an unknown place.
Result<std::vector<PlacementRule>> parse_placement(const std::string& spec);

// Where the tensor named `name` goes under the rules.
Placement resolve_placement(const std::vector<PlacementRule>& rules, const std::string& name);

// Bytes of the model's weights per place (all tensors of its GGUF file).
struct PlacementBytes {
  size_t device = 0, host = 0;
};
PlacementBytes placement_bytes(const Model& m, const std::vector<PlacementRule>& rules);

// true when `name` matches the glob `pattern`.
bool glob_match(const std::string& pattern, const std::string& name);

}  // namespace cj
