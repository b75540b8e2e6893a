// Div: numpy-broadcasting elementwise a / b. Integer division truncates toward
// zero (like C); an integer division by zero is an error; INT_MIN / -1 wraps.
#include <limits>

#include "kernels/ref/binary_arith.h"

namespace qcal::ref {
namespace {

struct DivOp {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_signed_v<T> && std::is_integral_v<T>) {
      if (b == T(-1)) return Wrapping(T(0), a, [](auto x, auto y) { return x - y; });  // -a, wrapping
    }
    return static_cast<T>(a / b);
  }
  template <typename T>
  static Status Check(const Tensor& b) {
    if constexpr (std::is_integral_v<T>) {
      const T* p = b.data<T>();
      for (int64_t i = 0; i < b.numel(); ++i) {
        if (p[i] == T(0)) return InvalidArgument("integer division by zero (divisor element " + std::to_string(i) + ")");
      }
    }
    return Status::Ok();
  }
};

}  // namespace

QCAL_REGISTER_OP("Div", InferArithmetic, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Div", "ref", 0, nullptr, CreateArithmetic<DivOp>);

}  // namespace qcal::ref
