// The reference run function of QcalQConv (qcal_qconv.cc), shared with
// QLinearConv, which is QcalQConv with y_scale / y_zero_point given and no
// activation bounds (same input order).
#pragma once

#include <vector>

#include "ir/graph.h"
#include "ir/tensor.h"

namespace qcal::ref {

Status RunQcalQConv(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out);

}  // namespace qcal::ref
