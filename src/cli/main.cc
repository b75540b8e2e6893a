// qcal command-line entry point: builds the subcommand list from the command table.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>

#include "base/log.h"
#include "cli/commands/command.h"
#include "qcal/status.h"

int main(int argc, char** argv) {
  CLI::App app{"qcal: post-training INT8 quantization for convolutional networks (ONNX and Caffe)"};
  app.set_version_flag("--version", std::string("qcal ") + QCAL_VERSION);
  app.require_subcommand(1);
  bool quiet = false;
  bool verbose = false;
  app.add_flag("-q,--quiet", quiet, "Only print errors");
  app.add_flag("-v,--verbose", verbose, "Print debug messages");

  auto& table = qcal::cli::CommandTable();
  std::sort(table.begin(), table.end(),
            [](const auto& a, const auto& b) { return std::string(a.name) < b.name; });
  std::map<CLI::App*, std::function<int()>> runners;
  for (const auto& def : table) {
    CLI::App* sub = app.add_subcommand(def.name, def.help);
    runners[sub] = def.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (quiet) qcal::SetLogLevel(qcal::LogLevel::kError);
  if (verbose) qcal::SetLogLevel(qcal::LogLevel::kDebug);
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) {
      try {
        return run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "[qcal] error: internal error: %s\n", e.what());
        return 3;
      }
    }
  }
  return 2;
}
