// qcal run: runs a model on input tensors (.npy / .pb) and writes every graph
// output as <output-dir>/<output name>.npy.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <system_error>

#include "base/file.h"
#include "cli/commands/command.h"
#include "cli/commands/model_flags.h"
#include "ir/npy.h"
#include "runtime/executor.h"

namespace qcal::cli {
namespace {

struct RunFlags {
  ModelFlags model;
  std::vector<std::string> inputs;  // NAME=FILE, or FILE for a single-input model
  std::string output_dir;
  int threads = 0;
};

bool IsGraphInput(const Graph& g, const std::string& name) {
  return std::any_of(g.inputs.begin(), g.inputs.end(), [&](const ValueInfo& v) { return v.name == name; });
}

std::string InputList(const Graph& g) {
  std::string s;
  for (const auto& v : g.inputs) s += (s.empty() ? "" : ", ") + v.name;
  return s;
}

// Splits one --input spec into (input name, file).
Result<std::pair<std::string, std::string>> ParseInputSpec(const Graph& g, const std::string& spec) {
  size_t eq = spec.find('=');
  std::error_code ec;
  bool whole_is_file = std::filesystem::exists(spec, ec);
  if (eq != std::string::npos && !whole_is_file) {
    std::string name = spec.substr(0, eq);
    if (!IsGraphInput(g, name)) {
      return InvalidArgument("--input '" + spec + "': '" + name + "' is not a model input (inputs: " +
                             InputList(g) + ")");
    }
    return std::make_pair(name, spec.substr(eq + 1));
  }
  if (g.inputs.size() != 1) {
    return InvalidArgument("--input '" + spec + "': the model has " + std::to_string(g.inputs.size()) +
                           " inputs, name each one as NAME=FILE (inputs: " + InputList(g) + ")");
  }
  return std::make_pair(g.inputs[0].name, spec);
}

Result<TensorMap> ReadInputs(const Graph& g, const std::vector<std::string>& specs) {
  TensorMap inputs;
  for (const auto& spec : specs) {
    QCAL_ASSIGN_OR_RETURN(auto parsed, ParseInputSpec(g, spec));
    if (inputs.count(parsed.first)) return InvalidArgument("input '" + parsed.first + "' is given twice");
    QCAL_ASSIGN_OR_RETURN(Tensor t, ReadTensorFile(parsed.second));
    inputs[parsed.first] = std::move(t);
  }
  for (const auto& v : g.inputs) {
    if (!inputs.count(v.name)) {
      return InvalidArgument("no --input for model input '" + v.name + "' (inputs: " + InputList(g) + ")");
    }
  }
  return inputs;
}

Status WriteOutputs(const Graph& g, const TensorMap& outputs, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create output directory '" + dir + "': " + ec.message());
  std::set<std::string> used;
  std::vector<std::pair<std::string, std::string>> files;  // all outputs are written or none
  std::string report;
  for (const auto& o : g.outputs) {
    std::string base = SanitizeFileName(o.name);
    std::string file = base;
    for (int i = 2; used.count(file); ++i) file = base + "_" + std::to_string(i);
    used.insert(file);
    std::string path = (std::filesystem::path(dir) / (file + ".npy")).string();
    const Tensor& t = outputs.at(o.name);
    files.emplace_back(path, SerializeNpy(t));
    report += o.name + ": " + std::string(DataTypeName(t.dtype())) + " " + ShapeToString(t.shape()) + " -> " +
              path + "\n";
  }
  QCAL_RETURN_IF_ERROR(WriteFilesAtomic(files));
  std::fputs(report.c_str(), stdout);
  return Status::Ok();
}

Status RunModel(const RunFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(TensorMap inputs, ReadInputs(graph, f.inputs));
  ExecutorOptions options;
  options.threads = f.threads;
  QCAL_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, {}, options));
  TensorMap outputs;
  QCAL_RETURN_IF_ERROR(executor->Run(inputs, &outputs));
  return WriteOutputs(graph, outputs, f.output_dir);
}

std::function<int()> SetupRun(CLI::App& sub) {
  auto flags = std::make_shared<RunFlags>();
  AddModelFlags(sub, flags->model);
  sub.add_option("--input", flags->inputs, "Input tensor NAME=FILE (.npy or .pb); FILE alone for one input")
      ->required();
  sub.add_option("--output-dir", flags->output_dir, "Directory for <output>.npy files (created if missing)")
      ->required();
  AddThreadsFlag(sub, flags->threads);
  return [flags]() {
    Status st = RunModel(*flags);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("run", "Run a model on input tensors and write its outputs as .npy", SetupRun);

}  // namespace qcal::cli
