// Int8 execution of QDQ (deploy) models: rewrites
//
//   DequantizeLinear(x_q), DequantizeLinear(W int8) [, DequantizeLinear(B int32)]
//     -> Conv | Gemm | MatMul [-> Relu | Clip] [-> QuantizeLinear]
//
// into one QcalQConv / QcalQMatMul node (kernels/ref/qcal_qconv.cc,
// qcal_qmatmul.cc) that reads x_q, W and B as integers. With the trailing
// QuantizeLinear the node outputs its int8/uint8 value; without it the node
// outputs float32 (e.g. a layer feeding a residual Add or the graph output).
// The activation becomes the node's activation_min / activation_max.
//
// Conditions (anything else is left as is): x's DequantizeLinear has a constant
// per-tensor scale / zero point and an int8/uint8 input; W is an int8
// initializer with a per-tensor or per-output-channel constant scale (axis on
// the output channels) and constant zero point; B (if any) is an int32 [M]
// initializer with zero point 0 and scale x_scale * w_scale[m] (relative 1e-5);
// the layer output and the activation output each have a single consumer and
// are not graph outputs; the QuantizeLinear is per-tensor with constant
// parameters; Clip bounds are constants with min <= max. Gemm needs alpha =
// beta = 1, transA = 0 and a 1-D C; MatMul needs a rank >= 2 A and a 2-D W.
//
// Numerics: the fused node computes with int32 accumulation and the output
// stage of kernels/ref/quant_output.h; against the unfused float graph the
// quantized outputs differ by at most one quantum (float rounding of the conv
// result before QuantizeLinear), float outputs by float rounding.
//
// Residual: a fused QcalQConv with float output whose only consumer is an Add
// (not broadcasting: the other input Z is float32 of the same shape) takes Z as
// its input 9 and absorbs the Add and a following Relu (the Add's only consumer)
// as residual_activation; the fused node takes the Add's place in the node order.
// Bit-identical to the unfused QcalQConv -> Add -> Relu (same float operations).
//
// Quantized copy (after the residual fusion): a QcalQConv with float output Y
// read by a QuantizeLinear (per-tensor constant scale and int8/uint8 zero
// point) gets the Q's output as its second output Yq = QuantizeLinear(Y) (inputs
// 10, 11: the Q's scale and zero point), and the Q is dropped. Y keeps its other
// consumers (e.g. the next block's residual input); without any (and not a graph
// output) Y becomes an absent output "" and is not stored at all. The kernel
// quantizes each value as it writes it, so Y is not read a second time. Bit-identical.
//
// Dequantize nodes left without consumers are removed by dead code elimination.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace qcal {

struct QuantizedFusion {
  std::string layer;                  // the Conv/Gemm/MatMul node (the fused node keeps its name)
  std::string fused_op;               // "QcalQConv" / "QcalQMatMul"
  std::vector<std::string> absorbed;  // activation / QuantizeLinear / Add / Relu node names
  bool quantized_output = false;
  bool residual = false;        // took a residual Add's other input (QcalQConv input Z)
  bool quantized_copy = false;  // absorbed a QuantizeLinear of its float output (QcalQConv output Yq)
};

struct QuantizedFusionOptions {
  bool residual = true;        // also the residual Add [-> Relu] fusion (above)
  bool quantized_copy = true;  // also the quantized copy (below)
};

Result<std::vector<QuantizedFusion>> FuseQuantizedOps(Graph& graph,
                                                      const QuantizedFusionOptions& options = {});

}  // namespace qcal
