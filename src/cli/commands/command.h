// Every CLI subcommand registers itself in one table (cli/commands/*.cc).
// Commands are thin: parse flags, call the library, print.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qcal::cli {

struct CommandDef {
  const char* name;
  const char* help;
  // Adds the subcommand's flags and returns the function that runs it
  // (returns the process exit code).
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

std::vector<CommandDef>& CommandTable();
bool RegisterCommand(CommandDef def);

}  // namespace qcal::cli

#define QCAL_REGISTER_COMMAND(...)                                                 \
  static const bool QCAL_CONCAT(_qcal_cmd_reg_, __LINE__) [[maybe_unused]] = \
      ::qcal::cli::RegisterCommand(::qcal::cli::CommandDef{__VA_ARGS__})
