// Which layers qcal quantizes, and how: one rule per op type (a table).
//
// A quantizable layer has an activation input (quantized per tensor with
// scale_d/offset_d), optionally a constant weight (quantized symmetrically with
// scale_w, per output channel where the rule allows) and a bias (int32 with
// scale_d * scale_w[c]).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace qcal {

struct QuantRule {
  const char* op_type;
  int act_input;        // index of the activation input
  int weight_input;     // -1: no weight (AveragePool)
  int bias_input;       // -1: no bias
  bool channel_wise_ok;  // per-output-channel weight scales allowed
};

// The rule for an op type, or nullptr.
const QuantRule* FindQuantRule(const std::string& op_type);

struct QuantizableLayer {
  std::string name;  // node name (= layer name in configs and records)
  std::string op_type;
  const QuantRule* rule = nullptr;
  std::string act_value;     // the activation tensor the layer reads
  std::string weight_value;  // "" if none
  std::string bias_value;    // "" if none
  int64_t channels = 0;      // output channels (weight axis size), 1 for no weight
  int weight_axis = 0;       // output-channel axis of the weight tensor
};

struct SkippedLayer {
  std::string name;
  std::string op_type;
  std::string reason;
};

struct LayerScan {
  std::vector<QuantizableLayer> layers;  // in graph order
  std::vector<SkippedLayer> skipped;     // nodes of quantizable op types that cannot be quantized, with why
};

// Finds every layer of the graph that can be quantized: Conv (incl. grouped and
// depthwise), ConvTranspose, Gemm, MatMul with a constant 2-D weight, and
// non-global AveragePool, each with a float32 constant weight not shared with
// another layer.
LayerScan ScanQuantizableLayers(const Graph& graph);

}  // namespace qcal
