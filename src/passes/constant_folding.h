// Constant folding: evaluates nodes whose inputs are all constants with the
// registered kernels (EvaluateNode) and turns their outputs into initializers.
// Also folds shape arithmetic symbolically (see symbolic_shapes.h): Shape/Size
// of statically shaped values become constants, and a Reshape whose target
// shape is computed from its own input's dims gets a constant shape using 0
// ("copy this dim"), so a symbolic batch stays symbolic.
//
// Run InferShapes first so Shape/Size see value shapes; folded nodes are
// removed, their now unused producers are left for EliminateDeadCode.
#pragma once

#include <cstdint>

#include "ir/graph.h"

namespace qcal {

struct ConstantFoldingOptions {
  // Never create an initializer larger than this.
  int64_t max_output_bytes = int64_t{64} << 20;
  // Fold QuantizeLinear/DequantizeLinear on constants. Off by default so the
  // Q/DQ structure of quantized models (int8 weight -> DequantizeLinear) stays.
  bool fold_dequantize = false;
  // Symbolic shape folding (Shape/Gather/Concat/... -> Reshape).
  bool symbolic = true;
};

struct ConstantFoldingStats {
  int folded_nodes = 0;       // nodes replaced by initializers
  int rewritten_reshapes = 0;  // Reshapes given a constant shape input
};

Status ConstantFolding(Graph& graph, const ConstantFoldingOptions& options = {},
                       ConstantFoldingStats* stats = nullptr);

}  // namespace qcal
