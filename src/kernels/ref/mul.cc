// Mul: numpy-broadcasting elementwise a multiplies b (see binary_arith.h for dtypes).
#include <functional>

#include "kernels/ref/binary_arith.h"

namespace qcal::ref {
namespace {

struct MulOp {
  template <typename T>
  static T Apply(T a, T b) { return Wrapping(a, b, std::multiplies<>()); }
  template <typename T>
  static Status Check(const Tensor&) { return Status::Ok(); }
};

}  // namespace

QCAL_REGISTER_OP("Mul", InferArithmetic, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Mul", "ref", 0, nullptr, CreateArithmetic<MulOp>);

}  // namespace qcal::ref
