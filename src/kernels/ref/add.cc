// Add: numpy-broadcasting elementwise a plus b (see binary_arith.h for dtypes).
#include <functional>

#include "kernels/ref/binary_arith.h"

namespace qcal::ref {
namespace {

struct AddOp {
  template <typename T>
  static T Apply(T a, T b) { return Wrapping(a, b, std::plus<>()); }
  template <typename T>
  static Status Check(const Tensor&) { return Status::Ok(); }
};

}  // namespace

QCAL_REGISTER_OP("Add", InferArithmetic, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Add", "ref", 0, nullptr, CreateArithmetic<AddOp>);

}  // namespace qcal::ref
