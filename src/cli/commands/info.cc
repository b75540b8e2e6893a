// qcal info: a model's inputs, outputs, op counts and quantizable layers.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cli/commands/command.h"
#include "cli/commands/model_flags.h"

namespace qcal::cli {
namespace {

struct InfoFlags {
  ModelFlags model;
  bool json = false;
};

// A layer INT8 quantization applies to: the op and its weight (or window) shape.
struct QuantizableLayer {
  const Node* node;
  std::string what;  // "weight" or "kernel"
  Shape shape;
};

// Ops with a constant weight at input 1 that qcal quantizes.
constexpr std::string_view kWeightedOps[] = {"Conv", "ConvTranspose", "Gemm", "MatMul"};

std::vector<QuantizableLayer> FindQuantizableLayers(const Graph& g) {
  std::vector<QuantizableLayer> layers;
  for (const Node& n : g.nodes) {
    if (n.op_type == "AveragePool") {  // GlobalAveragePool is a different op and is not quantized
      layers.push_back({&n, "kernel", n.attrs.GetInts("kernel_shape")});
      continue;
    }
    for (std::string_view op : kWeightedOps) {
      if (n.op_type != op || n.inputs.size() < 2) continue;
      if (const Tensor* w = g.FindInitializer(n.inputs[1])) layers.push_back({&n, "weight", w->shape()});
    }
  }
  return layers;
}

std::string ShapeOf(const ValueInfo& v) { return v.shape ? ShapeToString(*v.shape) : "[?]"; }

nlohmann::json ValueJson(const ValueInfo& v) {
  nlohmann::json j{{"name", v.name}, {"dtype", std::string(DataTypeName(v.dtype))}};
  j["shape"] = v.shape ? nlohmann::json(*v.shape) : nlohmann::json(nullptr);  // -1: symbolic dim
  return j;
}

std::map<std::string, int> OpCounts(const Graph& g) {
  std::map<std::string, int> counts;
  for (const Node& n : g.nodes) ++counts[n.op_type];
  return counts;
}

void PrintJson(const InfoFlags& f, const Graph& g) {
  nlohmann::json j;
  j["model"] = f.model.model;
  j["inputs"] = nlohmann::json::array();
  for (const auto& v : g.inputs) j["inputs"].push_back(ValueJson(v));
  j["outputs"] = nlohmann::json::array();
  for (const auto& v : g.outputs) j["outputs"].push_back(ValueJson(v));
  j["num_nodes"] = g.nodes.size();
  j["op_counts"] = OpCounts(g);
  j["quantizable_layers"] = nlohmann::json::array();
  for (const auto& l : FindQuantizableLayers(g)) {
    j["quantizable_layers"].push_back({{"name", l.node->name}, {"op_type", l.node->op_type}, {l.what, l.shape}});
  }
  std::printf("%s\n", j.dump(2).c_str());
}

void PrintText(const InfoFlags& f, const Graph& g) {
  std::printf("model: %s (opset %lld)\n", f.model.model.c_str(), static_cast<long long>(g.opset));
  std::printf("inputs:\n");
  for (const auto& v : g.inputs) {
    std::printf("  %s  %s %s\n", v.name.c_str(), std::string(DataTypeName(v.dtype)).c_str(), ShapeOf(v).c_str());
  }
  std::printf("outputs:\n");
  for (const auto& v : g.outputs) {
    std::printf("  %s  %s %s\n", v.name.c_str(), std::string(DataTypeName(v.dtype)).c_str(), ShapeOf(v).c_str());
  }
  std::printf("ops (%zu nodes):\n", g.nodes.size());
  for (const auto& [op, n] : OpCounts(g)) std::printf("  %-24s %d\n", op.c_str(), n);
  auto layers = FindQuantizableLayers(g);
  std::printf("quantizable layers (%zu):\n", layers.size());
  for (const auto& l : layers) {
    std::printf("  %-14s %s  %s %s\n", l.node->op_type.c_str(), l.node->name.c_str(), l.what.c_str(),
                ShapeToString(l.shape).c_str());
  }
}

std::function<int()> SetupInfo(CLI::App& sub) {
  auto flags = std::make_shared<InfoFlags>();
  AddModelFlags(sub, flags->model);
  sub.add_flag("--json", flags->json, "Print machine-readable JSON");
  return [flags]() {
    auto graph = LoadModelFromFlags(flags->model);
    if (!graph.ok()) return ReportError(graph.status());
    if (flags->json) {
      PrintJson(*flags, *graph);
    } else {
      PrintText(*flags, *graph);
    }
    return 0;
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("info", "Show a model's inputs, outputs, ops and quantizable layers", SetupInfo);

}  // namespace qcal::cli
