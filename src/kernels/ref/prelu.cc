// PRelu: y = x >= 0 ? x : slope * x. The slope broadcasts unidirectionally to
// X (the output has X's shape). float32.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

// The broadcast of X and slope must be X's shape.
Status CheckSlope(const Shape& x, const Shape& slope) {
  QCAL_ASSIGN_OR_RETURN(Shape b, BroadcastShapes(x, slope, "broadcast"));
  bool ok = b.size() == x.size();
  for (size_t i = 0; ok && i < b.size(); ++i) ok = b[i] == x[i] || x[i] < 0;
  if (!ok) {
    return InvalidArgument("slope shape " + ShapeToString(slope) + " does not broadcast to input shape " +
                           ShapeToString(x));
  }
  return Status::Ok();
}

Status InferPRelu(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(InferBroadcastBinary(ctx, outputs, {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CheckSlope(ctx.inputs[0].shape, ctx.inputs[1].shape));
  return InferSameAsInput0(ctx, outputs);
}

Status RunPRelu(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const Tensor& slope = *in[1];
  if (x.dtype() != DataType::kFloat32 || slope.dtype() != DataType::kFloat32) {
    return Unsupported("PRelu supports float32 only");
  }
  QCAL_RETURN_IF_ERROR(CheckSlope(x.shape(), slope.shape()));
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());
  BroadcastLoop<float, float, float>(x, slope, y, [](float v, float s) { return v >= 0.0f ? v : s * v; });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreatePRelu(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunPRelu); }

}  // namespace

QCAL_REGISTER_OP("PRelu", InferPRelu, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("PRelu", "ref", 0, nullptr, CreatePRelu);

}  // namespace qcal::ref
