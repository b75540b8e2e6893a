// The one place that rewrites a graph for quantization.
//
// fake-quant: every quantized layer's activation input goes through
//   QuantizeLinear(scale_d, offset_d) -> DequantizeLinear; weights and biases
//   are replaced by float32 initializers holding exactly the dequantized values
//   (w_int8 * scale_w, b_int32 * scale_d * scale_w). Runs in float anywhere.
// deploy: the same activation Q/DQ pairs; weights stored as int8 and biases as
//   int32 initializers, each followed by a DequantizeLinear (per output channel
//   on the weight's channel axis where scale_w has one value per channel).
//   ONNX Runtime fuses this QDQ form into integer kernels.
// Layers that read the same tensor with equal factors share one Q/DQ pair.
#pragma once

#include "ir/graph.h"
#include "quant/plan.h"

namespace qcal {

enum class QuantModelKind { kFakeQuant, kDeploy };

Result<Graph> MaterializeQuantizedGraph(const Graph& graph, const QuantPlan& plan, QuantModelKind kind);

}  // namespace qcal
