// Cast: converts to the dtype in attribute `to` (ONNX type code). Supported:
// float32, uint8, int8, int32, int64, bool, in any direction.
//
// Conversion rules:
//  - float -> integer: truncation toward zero; values outside the target range
//    saturate to its min/max and NaN becomes 0 (ONNX leaves out-of-range
//    results undefined; numpy's result is platform-dependent; saturation is
//    the defined, portable choice).
//  - integer -> narrower integer: two's complement wrap-around (like numpy and C).
//  - anything -> bool: value != 0 (NaN -> true); bool -> anything: 0 or 1.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

template <typename To, typename From>
To Convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (std::isnan(v)) return To(0);
    // Compare in double: every int8..int32 bound is exact; int64's max rounds
    // up to 2^63, so ">=" catches it.
    const double t = std::trunc(static_cast<double>(v));
    if (t <= static_cast<double>(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (t >= static_cast<double>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(t);
  } else {
    return static_cast<To>(v);
  }
}

Result<DataType> Target(const Node& node) {
  if (!node.attrs.Has("to")) return InvalidArgument("attribute 'to' is required");
  return DataTypeFromOnnx(static_cast<int32_t>(node.attrs.GetInt("to", 0)));
}

Status InferCast(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_ASSIGN_OR_RETURN(DataType to, Target(ctx.node));
  outputs[0] = {to, ctx.inputs[0].shape};
  return Status::Ok();
}

Status RunCast(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(DataType to, Target(node));
  Tensor& y = PrepareOutput(out, 0, to, x.shape());
  Status inner = Status::Ok();
  QCAL_RETURN_IF_ERROR(DispatchAny(x.dtype(), node.op_type, [&]<typename From>() {
    inner = DispatchAny(to, node.op_type, [&]<typename To>() { MapUnary<From, To>(x, y, Convert<To, From>); });
  }));
  return inner;
}

Result<std::unique_ptr<Kernel>> CreateCast(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunCast); }

}  // namespace

QCAL_REGISTER_OP("Cast", InferCast, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Cast", "ref", 0, nullptr, CreateCast);

}  // namespace qcal::ref
