// Moves QuantizeLinear up through ops that commute with it exactly, so that in
// a QDQ (deploy) model the QuantizeLinear lands right after a quantized layer
// (which FuseQuantizedOps then absorbs: the layer outputs int8/uint8) and the
// data-movement ops in between move 1-byte values instead of floats:
//
//   y = QuantizeLinear(f(x))   ->   y = f(QuantizeLinear(x))
//
// For a per-tensor Q, Q(f(x)) == f(Q(x)) element for element when f only moves,
// copies or selects elements: Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
// Identity, Slice, Split, Concat (every input gets its own Q with the same
// parameters), and MaxPool (without Indices): Q is monotone non-decreasing, so
// Q(max(x)) == max(Q(x)); padding never wins the max in either type. The op
// table is kCommutingOps in hoist_quantize.cc. Not in it: Relu (in the quantized
// domain it would be max(q, zero_point)). A hoisted MaxPool runs as oneDNN's
// int8 / uint8 pooling in NHWC between int8 convolutions.
//
// Conditions (anything else is left as is): the QuantizeLinear has a float32
// input and constant per-tensor scale / zero point (no block_size); every output
// of the moved-through node is consumed only by QuantizeLinear nodes with the
// same scale, zero point and output type (so Split needs every output quantized
// alike), and is not a graph output; its data inputs are float32. The extra
// QuantizeLinear nodes on one output are merged (their consumers read the kept
// one). An input that already feeds an equivalent QuantizeLinear reuses it.
// Repeats until nothing moves, so Q climbs whole chains (Reshape -> Transpose ->
// Reshape -> Concat).
//
// Numerics: identical outputs (the moved-through ops do no arithmetic).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace qcal {

struct QuantizeHoist {
  std::string node;     // the node the QuantizeLinear moved above
  std::string op_type;  // its op type
};

// The moves made, in order. Leaves value infos consistent (new quantized
// values get the quantized dtype and the float value's shape).
Result<std::vector<QuantizeHoist>> HoistQuantizeLinear(Graph& graph);

}  // namespace qcal
