// Turns int8 activations of a QDQ (deploy) model into uint8 ones before the
// int8 fusion: a per-tensor QuantizeLinear with an int8 zero point zp becomes
// one with the uint8 zero point zp + 128, and every DequantizeLinear reading
// its value (directly or through data-movement ops) gets its zero point + 128.
//
// Numerics: identical. Q'(x) = saturate_u8(round(x / s) + zp + 128) =
// Q(x) + 128 (both clamps shift by 128), and DQ'(q + 128) = (q + 128 - zp -
// 128) * s = DQ(q); NaN gives zp + 128 = Q(NaN) + 128. The data-movement ops in
// between (MaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity,
// Slice, Split) only move or select values, and adding 128 keeps their order.
//
// Why: without VNNI the oneDNN int8 kernels read uint8 activations (an int8 X
// is flipped to uint8 on every run, int8_common.h); with uint8 values the
// convolutions read X as it is.
//
// Conditions (anything else stays int8): the QuantizeLinear has a float32 input,
// constant per-tensor scale and int8 zero point, no block_size; every value
// reached from its output is consumed only by the ops above (one data input)
// or by DequantizeLinear nodes with a constant per-tensor int8 zero point, and
// none is a graph output.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace qcal {

// The QuantizeLinear nodes changed. Value infos of the changed values become uint8.
Result<std::vector<std::string>> UnsignedActivations(Graph& graph);

}  // namespace qcal
