// Command-line parsing for changjuan-cli: each subcommand declares its options; unknown options, missing
// values and missing required options are errors with a one-line message.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/result.h"

namespace cj::cli {

struct OptSpec {
  std::string name;      // without the leading "--"
  std::string value;     // metavariable ("N", "FILE"); empty for a flag
  std::string help;
  bool required = false;
};

class Args {
 public:
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& def) const;
  Result<long long> get_int(const std::string& name, long long def) const;
  // The same, refused with "--name must be between lo and hi" outside [lo, hi] (so a cast to int never truncates).
  Result<long long> get_int(const std::string& name, long long def, long long lo, long long hi) const;
  Result<double> get_double(const std::string& name, double def) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
};

// Parses argv[0..argc) (the words after the subcommand name).
Result<Args> parse_args(const std::vector<OptSpec>& specs, int max_positionals, const std::vector<std::string>& argv);

}  // namespace cj::cli
