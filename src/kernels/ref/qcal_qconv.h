// The reference run function of QcalQConv (qcal_qconv.cc), shared with
// QLinearConv, which is QcalQConv with y_scale / y_zero_point given and no
// activation bounds (same input order).
#pragma once

#include <vector>

#include "ir/graph.h"
#include "ir/tensor.h"
#include "kernels/ref/int_conv.h"
#include "kernels/registry.h"

namespace qcal::ref {

// Inference checks both ops share: x and w int8/uint8, the conv problem, x_scale /
// x_zero_point per-tensor, w_scale / w_zero_point per-tensor or [M].
Result<IntConvProblem> CheckQConvOperands(const OpContext& ctx);

Status RunQcalQConv(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out);

}  // namespace qcal::ref
