// Inference fusion of float Conv chains into one FusedConv node (the contrib op
// com.microsoft.FusedConv, which ONNX Runtime uses for the same purpose):
//
//   Conv -> Relu | LeakyRelu | Clip | Sigmoid | Tanh         FusedConv(X, W, B) + activation
//   Conv -> Add(other) [-> activation]                       FusedConv(X, W, B, Z = other)
//
//   Y = activation(Conv(X, W, B) + Z)
//
// The FusedConv keeps the Conv's attributes and name, takes the last fused
// node's output name and its place in the node order (so Z is computed before
// it). A chain is fused only when each intermediate value has exactly one
// consumer and is not in keep_values (graph outputs, values an observer or a
// caller reads), the Add is not broadcasting (Z has the Conv output's shape),
// and the Conv is a float Conv not fed by DequantizeLinear (Q/DQ graphs are left
// to the int8 fusions). Which activations fuse is the kFusedActivations table
// (kernels/fused_activation.h) plus each op's parameter reader here.
//
// Only for inference: the executor applies it unless an observer is attached
// (with observed values listed, it applies it keeping those values, with exact Adds).
// Run InferShapes first (the Add shape check reads value_info).
#pragma once

#include <set>
#include <string>

#include "ir/graph.h"

namespace qcal {

struct ConvFusionOptions {
  std::set<std::string> keep_values;  // values that must stay computed
  // Also fuse Add (Z). Off: only activations, which leave the Conv's arithmetic
  // bit for bit as it is (a sum post-op may change the kernel's summation order).
  bool fuse_add = true;
  // Fused Adds keep the unfused arithmetic bit for bit: the FusedConv gets
  // kExactSumAttr = 1 (kernels/fused_activation.h; its kernel adds Z after the convolution, as the Add
  // did, instead of a sum post-op), and only a Relu is fused after such an Add.
  // For calibration, whose observed values must not change.
  bool exact_add = false;
};

struct ConvFusionStats {
  int fused_activations = 0;
  int fused_adds = 0;
};

Status FuseConvForInference(Graph& graph, const ConvFusionOptions& options = {},
                            ConvFusionStats* stats = nullptr);

}  // namespace qcal
