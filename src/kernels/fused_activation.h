// Activations a FusedConv (com.microsoft.FusedConv) applies after the
// convolution and the optional sum: the attribute "activation" names one and
// "activation_params" gives its parameters:
//   Relu        max(x, 0)
//   LeakyRelu   x >= 0 ? x : alpha * x          params: alpha
//   Clip        min(max(x, lo), hi)             params: lo, hi
//   Sigmoid     1 / (1 + exp(-x))
//   Tanh        tanh(x)
#pragma once

#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "qcal/status.h"

namespace qcal {

struct FusedActivationDef {
  std::string_view name;
  size_t num_params;
  float (*apply)(float x, const float* params);
};

// nullptr when `name` is not a supported activation.
const FusedActivationDef* FindFusedActivation(std::string_view name);

struct FusedActivation {
  const FusedActivationDef* def = nullptr;  // nullptr: identity
  std::vector<float> params;
  float Apply(float x) const { return def ? def->apply(x, params.data()) : x; }
};

// FusedConv attribute (int, 1: on) made by passes/fuse_conv.h for calibration:
// Z is added after the convolution exactly as a separate Add would (no sum
// post-op inside the convolution's accumulation); the activation is then Relu
// or none.
inline constexpr const char* kExactSumAttr = "qcal_exact_sum";

// Reads a FusedConv node's activation attributes (none: identity); errors name
// the node and list the supported activations.
Result<FusedActivation> ReadFusedActivation(const Node& node);

}  // namespace qcal
