#include "quant/rules.h"

#include <map>

namespace qcal {
namespace {

constexpr QuantRule kRules[] = {
    {"Conv", 0, 1, 2, true},
    {"ConvTranspose", 0, 1, 2, true},
    {"Gemm", 0, 1, 2, false},
    {"MatMul", 0, 1, -1, false},
    {"AveragePool", 0, -1, -1, false},
};

// Output-channel axis of the weight, and why the layer cannot be quantized ("" if it can).
std::string CheckWeight(const Node& n, const Tensor& w, int* axis, int64_t* channels) {
  if (w.dtype() != DataType::kFloat32) return "weight is not float32";
  if (n.op_type == "Conv") {
    if (w.rank() < 3) return "weight rank below 3";
    *axis = 0;
  } else if (n.op_type == "ConvTranspose") {
    if (w.rank() < 3) return "weight rank below 3";
    *axis = 1;  // [C_in, C_out/group, k...]; channel-wise scales need group == 1
    if (n.attrs.GetInt("group", 1) != 1) return "grouped ConvTranspose is not supported for quantization";
  } else if (n.op_type == "Gemm") {
    if (w.rank() != 2) return "weight is not 2-D";
    if (n.attrs.GetInt("transA", 0) != 0) return "transA=1 is not supported";
    if (n.attrs.GetFloat("alpha", 1.f) != 1.f || n.attrs.GetFloat("beta", 1.f) != 1.f) {
      return "alpha/beta other than 1 are not supported";
    }
    *axis = n.attrs.GetInt("transB", 0) ? 0 : 1;
  } else if (n.op_type == "MatMul") {
    if (w.rank() != 2) return "weight is not 2-D";
    *axis = 1;
  }
  *channels = w.dim(*axis);
  return "";
}

// Checks one candidate node; fills `layer` or returns why it is skipped.
std::string Inspect(const Graph& g, const Node& n, const QuantRule& rule,
                    const std::map<std::string, int>& weight_users, QuantizableLayer* layer) {
  layer->name = n.name;
  layer->op_type = n.op_type;
  layer->rule = &rule;
  if (static_cast<int>(n.inputs.size()) <= rule.act_input) return "missing activation input";
  layer->act_value = n.inputs[rule.act_input];
  if (g.IsInitializer(layer->act_value)) return "activation input is a constant";
  if (n.op_type == "AveragePool") {
    layer->channels = 1;
    return "";
  }
  if (static_cast<int>(n.inputs.size()) <= rule.weight_input) return "missing weight input";
  const std::string& wname = n.inputs[rule.weight_input];
  const Tensor* w = g.FindInitializer(wname);
  if (!w) return "weight is not a constant";
  if (weight_users.at(wname) > 1) return "weight is shared with another layer";
  std::string why = CheckWeight(n, *w, &layer->weight_axis, &layer->channels);
  if (!why.empty()) return why;
  layer->weight_value = wname;
  if (rule.bias_input >= 0 && static_cast<int>(n.inputs.size()) > rule.bias_input &&
      !n.inputs[rule.bias_input].empty()) {
    const Tensor* b = g.FindInitializer(n.inputs[rule.bias_input]);
    if (!b) return "bias is not a constant";
    if (b->numel() != layer->channels) return "bias is not one value per output channel";
    layer->bias_value = n.inputs[rule.bias_input];
  }
  return "";
}

}  // namespace

const QuantRule* FindQuantRule(const std::string& op_type) {
  for (const auto& r : kRules) if (op_type == r.op_type) return &r;
  return nullptr;
}

LayerScan ScanQuantizableLayers(const Graph& graph) {
  std::map<std::string, int> weight_users;
  for (const auto& n : graph.nodes) {
    for (const auto& in : n.inputs) if (graph.IsInitializer(in)) weight_users[in]++;
  }
  LayerScan scan;
  for (const auto& n : graph.nodes) {
    const QuantRule* rule = FindQuantRule(n.op_type);
    if (!rule) continue;
    QuantizableLayer layer;
    std::string why = Inspect(graph, n, *rule, weight_users, &layer);
    if (why.empty()) {
      scan.layers.push_back(std::move(layer));
    } else {
      scan.skipped.push_back({n.name, n.op_type, why});
    }
  }
  return scan;
}

}  // namespace qcal
