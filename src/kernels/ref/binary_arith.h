// Shared pieces of the numpy-broadcasting arithmetic ops Add, Sub, Mul, Div
// (each op has its own file that supplies the scalar function).
//
// Dtypes: float32, int8, uint8, int32, int64 (both inputs the same dtype).
// Integer results wrap around (two's complement) on overflow, like numpy.
#pragma once

#include <type_traits>

#include "kernels/ref/common.h"

namespace qcal::ref {

inline Status InferArithmetic(const OpContext& ctx, std::vector<TensorType>& outputs) {
  return InferBroadcastBinary(ctx, outputs,
                              {DataType::kFloat32, DataType::kInt8, DataType::kUint8, DataType::kInt32,
                               DataType::kInt64});
}

// a OP b computed in the unsigned type of the same width, so overflow wraps
// instead of being undefined behaviour.
template <typename T, typename Op>
T Wrapping(T a, T b, Op op) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(op(static_cast<U>(a), static_cast<U>(b))));
  } else {
    return op(a, b);
  }
}

// Op: a struct with `template <typename T> static T Apply(T a, T b)` and
// `template <typename T> static Status Check(const Tensor& b)` (e.g. division by zero).
template <typename Op>
Status RunArithmetic(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& a = *in[0];
  const Tensor& b = *in[1];
  if (a.dtype() != b.dtype()) return InvalidArgument("inputs have different data types");
  QCAL_ASSIGN_OR_RETURN(Shape shape, BroadcastShapes(a.shape(), b.shape(), "broadcast"));
  Tensor& y = PrepareOutput(out, 0, a.dtype(), shape);
  Status st = Status::Ok();
  QCAL_RETURN_IF_ERROR(DispatchNumeric(a.dtype(), node.op_type, [&]<typename T>() {
    st = Op::template Check<T>(b);
    if (st.ok()) BroadcastLoop<T, T, T>(a, b, y, [](T x, T z) { return Op::template Apply<T>(x, z); });
  }));
  return st;
}

template <typename Op>
Result<std::unique_ptr<Kernel>> CreateArithmetic(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunArithmetic<Op>);
}

}  // namespace qcal::ref
