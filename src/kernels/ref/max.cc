// Max: elementwise maximum of two broadcast inputs (the two-input form of ONNX
// Max; Caffe Eltwise MAX imports as a chain of these). Dtypes as binary_arith.h.
#include <algorithm>

#include "kernels/ref/binary_arith.h"

namespace qcal::ref {
namespace {

struct MaxOp {
  template <typename T>
  static T Apply(T a, T b) {
    return std::max(a, b);
  }
  template <typename T>
  static Status Check(const Tensor&) {
    return Status::Ok();
  }
};

}  // namespace

QCAL_REGISTER_OP("Max", InferArithmetic, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Max", "ref", 0, nullptr, CreateArithmetic<MaxOp>);

}  // namespace qcal::ref
