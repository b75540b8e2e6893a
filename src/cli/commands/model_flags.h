// Flags and helpers shared by the subcommands that load a model
// (--model, --weights, --input-shape NAME:N,C,H,W) and the common error line.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "runtime/model_loader.h"

namespace CLI {
class App;
}

namespace qcal::cli {

struct ModelFlags {
  std::string model;
  std::string weights;
  std::vector<std::string> input_shapes;  // "NAME:1,3,32,32"
  bool no_fold = false;
  bool no_int8 = false;  // run QDQ models with float kernels (no int8 fusion)
};

// Adds --model (required), --weights, --input-shape, --no-fold and --no-int8 to `sub`.
void AddModelFlags(CLI::App& sub, ModelFlags& flags);

// Parses "NAME:1,3,32,32" (the last ':' separates the name, so names may contain ':').
Result<std::pair<std::string, Shape>> ParseInputShape(const std::string& spec);

// LoadModel with the options the flags describe.
Result<Graph> LoadModelFromFlags(const ModelFlags& flags);

// Prints "[qcal] error: <message>" to stderr and returns the exit code (1).
int ReportError(const Status& status);

// A file name made from a value name: characters other than [A-Za-z0-9._-]
// become '_' (so "/layer1/Relu" -> "_layer1_Relu"); never empty, never "." or "..".
std::string SanitizeFileName(const std::string& name);

}  // namespace qcal::cli
