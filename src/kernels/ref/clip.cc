// Clip (opset 11+ form): y = min(max(x, min), max) with optional scalar inputs
// `min` and `max` (absent: the dtype's lowest / highest value). When min > max
// every output equals max, as ONNX specifies. float32, int8, uint8, int32, int64.
#include <algorithm>
#include <limits>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

constexpr const char* kBoundName[] = {"input", "min", "max"};

Status InferClip(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(
      ctx, 0, {DataType::kFloat32, DataType::kInt8, DataType::kUint8, DataType::kInt32, DataType::kInt64}));
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    const TensorType& t = ctx.inputs[i];
    if (t.dtype != ctx.inputs[0].dtype) {
      return InvalidArgument(std::string("'") + kBoundName[i] + "' has data type " +
                             std::string(DataTypeName(t.dtype)) + ", the input has " +
                             std::string(DataTypeName(ctx.inputs[0].dtype)));
    }
    if (NumElements(t.shape) > 1) {
      return InvalidArgument(std::string("'") + kBoundName[i] + "' must be a scalar, got shape " +
                             ShapeToString(t.shape));
    }
  }
  return InferSameAsInput0(ctx, outputs);
}

Status RunClip(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  for (size_t i = 1; i < 3 && i < in.size(); ++i) {
    if (in[i] && (in[i]->dtype() != x.dtype() || in[i]->numel() != 1)) {
      return InvalidArgument(std::string("'") + kBoundName[i] + "' must be a scalar of the input's data type");
    }
  }
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());
  return DispatchNumeric(x.dtype(), node.op_type, [&]<typename T>() {
    const T lo = in.size() > 1 && in[1] ? in[1]->data<T>()[0] : std::numeric_limits<T>::lowest();
    const T hi = in.size() > 2 && in[2] ? in[2]->data<T>()[0] : std::numeric_limits<T>::max();
    MapUnary<T, T>(x, y, [=](T v) { return std::min(std::max(v, lo), hi); });
  });
}

Result<std::unique_ptr<Kernel>> CreateClip(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunClip); }

}  // namespace

QCAL_REGISTER_OP("Clip", InferClip, 1, 3, 1, 1);
QCAL_REGISTER_KERNEL("Clip", "ref", 0, nullptr, CreateClip);

}  // namespace qcal::ref
