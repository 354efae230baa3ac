#include "studio/args.h"

#include <cerrno>
#include <cstdlib>

namespace cj::cli {

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& def) const {
  auto v = get(name);
  return v ? *v : def;
}

Result<long long> Args::get_int(const std::string& name, long long def) const {
  auto v = get(name);
  if (!v) return def;
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0) return make_error("--" + name + " expects an integer, got '" + *v + "'");
  return x;
}

Result<long long> Args::get_int(const std::string& name, long long def, long long lo, long long hi) const {
  auto v = get_int(name, def);
  if (!v.ok()) return v;
  if (*v < lo || *v > hi)
    return make_error("--" + name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", not " +
                      get_or(name, std::to_string(*v)));
  return v;
}

Result<double> Args::get_double(const std::string& name, double def) const {
  auto v = get(name);
  if (!v) return def;
  errno = 0;
  char* end = nullptr;
  const double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || errno != 0) return make_error("--" + name + " expects a number, got '" + *v + "'");
  return x;
}

Result<Args> parse_args(const std::vector<OptSpec>& specs, int max_positionals, const std::vector<std::string>& argv) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& w = argv[i];
    if (w.size() > 2 && w.compare(0, 2, "--") == 0) {
      std::string name = w.substr(2);
      std::optional<std::string> inline_value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      const OptSpec* spec = nullptr;
      for (const auto& s : specs) {
        if (s.name == name) spec = &s;
      }
      if (!spec) return make_error("unknown option --" + name);
      if (spec->value.empty()) {
        if (inline_value) return make_error("option --" + name + " takes no value");
        a.values_[name].assign(1, '1');  // not = "1": GCC 12 -Wrestrict false positive
      } else if (inline_value) {
        a.values_[name] = *inline_value;
      } else {
        if (i + 1 >= argv.size()) return make_error("option --" + name + " needs a value (" + spec->value + ")");
        a.values_[name] = argv[++i];
      }
    } else {
      if (static_cast<int>(a.positionals_.size()) >= max_positionals) return make_error("unexpected argument '" + w + "'");
      a.positionals_.push_back(w);
    }
  }
  for (const auto& s : specs) {
    if (s.required && !a.has(s.name)) return make_error("missing required option --" + s.name);
  }
  return a;
}

}  // namespace cj::cli
