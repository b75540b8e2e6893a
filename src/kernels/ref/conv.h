// The reference Conv's inference and kernel function, shared with FusedConv
// (kernels/ref/fused_conv.cc). Only inputs 0-2 (X, W, B) are read as Conv inputs.
#pragma once

#include <vector>

#include "kernels/registry.h"

namespace qcal::ref {

Status InferConv(const OpContext& ctx, std::vector<TensorType>& outputs);
Status RunConv(const Node& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs);

}  // namespace qcal::ref
