#include "cli/commands/command.h"

namespace qcal::cli {

std::vector<CommandDef>& CommandTable() {
  static auto* t = new std::vector<CommandDef>();
  return *t;
}

bool RegisterCommand(CommandDef def) {
  CommandTable().push_back(std::move(def));
  return true;
}

}  // namespace qcal::cli
