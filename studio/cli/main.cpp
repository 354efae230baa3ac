// changjuan-cli: everything the GUI does, from the command line. Subcommands live in cmd_*.cpp.
#include <algorithm>
#include <new>
#include <stdexcept>
#include <cstdio>
#include <string>
#include <vector>

#include "studio/cli/command.h"

namespace cj::cli {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
}  // namespace

Registrar::Registrar(Command c) { registry().push_back(std::move(c)); }

const std::vector<Command>& commands() { return registry(); }

int fail(const std::string& msg) {
  std::fprintf(stderr, "changjuan-cli: error: %s\n", msg.c_str());
  return 1;
}

namespace {

void print_usage(FILE* f) {
  std::fprintf(f, "usage: changjuan-cli <command> [options]\n\ncommands:\n");
  std::vector<const Command*> cs;
  for (const auto& c : commands()) cs.push_back(&c);
  std::sort(cs.begin(), cs.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (const Command* c : cs) std::fprintf(f, "  %-18s %s\n", c->name.c_str(), c->summary.c_str());
  std::fprintf(f, "\n'changjuan-cli <command> --help' describes a command's options.\n");
}

void print_help(const Command& c) {
  std::printf("usage: changjuan-cli %s [options]%s%s\n\n%s\n", c.name.c_str(), c.positional_help.empty() ? "" : " ",
              c.positional_help.c_str(), c.summary.c_str());
  if (!c.options.empty()) std::printf("\noptions:\n");
  for (const auto& o : c.options) {
    std::string lhs = "--" + o.name + (o.value.empty() ? "" : " " + o.value);
    std::printf("  %-24s %s%s\n", lhs.c_str(), o.help.c_str(), o.required ? " (required)" : "");
  }
}

}  // namespace
}  // namespace cj::cli

int main(int argc, char** argv) {
  using namespace cj::cli;
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    print_usage(words.empty() ? stderr : stdout);
    return words.empty() ? 2 : 0;
  }
  // The longest registered name matching the first words ("entity add" before "entity").
  const Command* cmd = nullptr;
  size_t used = 0;
  for (const auto& c : commands()) {
    size_t n = 0, pos = 0;
    bool match = true;
    while (pos <= c.name.size()) {
      const size_t sp = c.name.find(' ', pos);
      const std::string part = c.name.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
      if (n >= words.size() || words[n] != part) {
        match = false;
        break;
      }
      ++n;
      if (sp == std::string::npos) break;
      pos = sp + 1;
    }
    if (match && n > used) cmd = &c, used = n;
  }
  if (!cmd) {
    // A group word alone ("entity") names its subcommands.
    std::string subs;
    for (const auto& c : commands())
      if (c.name.rfind(words[0] + " ", 0) == 0) subs += (subs.empty() ? "" : "|") + c.name.substr(words[0].size() + 1);
    if (!subs.empty())
      std::fprintf(stderr, "changjuan-cli: error: '%s' needs a subcommand: %s\n", words[0].c_str(), subs.c_str());
    else
      std::fprintf(stderr, "changjuan-cli: error: unknown command '%s' (see changjuan-cli --help)\n", words[0].c_str());
    return 2;
  }
  std::vector<std::string> rest(words.begin() + static_cast<long>(used), words.end());
  if (std::find(rest.begin(), rest.end(), "--help") != rest.end() || std::find(rest.begin(), rest.end(), "-h") != rest.end()) {
    print_help(*cmd);
    return 0;
  }
  auto args = parse_args(cmd->options, cmd->max_positionals, rest);
  if (!args.ok()) {
    std::fprintf(stderr, "changjuan-cli: error: %s: %s (see changjuan-cli %s --help)\n", cmd->name.c_str(),
                 args.error().c_str(), cmd->name.c_str());
    return 2;
  }
  // Last resort: a library threw (a bug: inputs are checked before they reach one). Say what it means for the
  // user, not the library's text ("[json.exception.type_error.302] …", "vector::_M_default_append").
  try {
    return cmd->run(*args);
  } catch (const std::bad_alloc&) {
    return fail(cmd->name + ": out of memory");
  } catch (const std::length_error&) {
    return fail(cmd->name + ": a size in the input is too large to handle");
  } catch (const std::exception&) {
    return fail(cmd->name + ": an internal error stopped the command (a bug; please report it with the command line)");
  }
}
