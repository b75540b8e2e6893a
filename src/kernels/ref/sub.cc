// Sub: numpy-broadcasting elementwise a minus b (see binary_arith.h for dtypes).
#include <functional>

#include "kernels/ref/binary_arith.h"

namespace qcal::ref {
namespace {

struct SubOp {
  template <typename T>
  static T Apply(T a, T b) { return Wrapping(a, b, std::minus<>()); }
  template <typename T>
  static Status Check(const Tensor&) { return Status::Ok(); }
};

}  // namespace

QCAL_REGISTER_OP("Sub", InferArithmetic, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Sub", "ref", 0, nullptr, CreateArithmetic<SubOp>);

}  // namespace qcal::ref
