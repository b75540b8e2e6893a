#include "kernels/fused_activation.h"

#include <algorithm>
#include <cmath>

namespace qcal {
namespace {

const FusedActivationDef kFusedActivations[] = {
    {"Relu", 0, [](float x, const float*) { return std::max(x, 0.0f); }},
    {"LeakyRelu", 1, [](float x, const float* p) { return x >= 0.0f ? x : p[0] * x; }},
    {"Clip", 2, [](float x, const float* p) { return std::min(std::max(x, p[0]), p[1]); }},
    {"Sigmoid", 0, [](float x, const float*) { return 1.0f / (1.0f + std::exp(-x)); }},
    {"Tanh", 0, [](float x, const float*) { return std::tanh(x); }},
};

}  // namespace

const FusedActivationDef* FindFusedActivation(std::string_view name) {
  for (const auto& a : kFusedActivations) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Result<FusedActivation> ReadFusedActivation(const Node& node) {
  FusedActivation act;
  if (!node.attrs.Has("activation")) return act;
  const std::string name = node.attrs.GetString("activation", "");
  act.def = FindFusedActivation(name);
  if (!act.def) {
    std::string known;
    for (const auto& a : kFusedActivations) known += (known.empty() ? "" : ", ") + std::string(a.name);
    return InvalidArgument(node.Describe() + ": unsupported activation '" + name + "' (supported: " + known + ")");
  }
  act.params = node.attrs.GetFloats("activation_params");
  if (act.params.size() != act.def->num_params) {
    return InvalidArgument(node.Describe() + ": activation " + name + " takes " +
                           std::to_string(act.def->num_params) + " activation_params, got " +
                           std::to_string(act.params.size()));
  }
  return act;
}

}  // namespace qcal
