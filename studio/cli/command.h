// The subcommand registry of changjuan-cli. One file per subcommand (studio/cli/cmd_*.cpp) registers itself:
//   static cj::cli::Registrar reg({.name = "import", .summary = "...", .options = {...}, .run = run_import});
// Names may have two words ("entity add"); the longest registered match wins.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "studio/args.h"

namespace cj::cli {

struct Command {
  std::string name;
  std::string summary;                 // one line for the command list
  std::vector<OptSpec> options;
  int max_positionals = 0;
  std::string positional_help;         // e.g. "QUERY"
  std::function<int(const Args&)> run; // returns the exit code
};

struct Registrar {
  explicit Registrar(Command c);
};

const std::vector<Command>& commands();

// Prints "changjuan-cli: error: msg" on stderr and returns exit code 1 (runtime) — for use in run().
int fail(const std::string& msg);

}  // namespace cj::cli
