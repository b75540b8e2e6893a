// FusedConv (contrib op com.microsoft.FusedConv, made by passes/fuse_conv.h):
//
//   Y = activation(Conv(X, W, B) + Z)
//
// Inputs X, W, B (optional) as Conv, Z (optional) with Y's shape; Conv's
// attributes plus "activation" / "activation_params" (kernels/fused_activation.h;
// absent: identity). float32 only, like Conv.
#include "kernels/fused_activation.h"
#include "kernels/ref/common.h"
#include "kernels/ref/conv.h"

namespace qcal::ref {
namespace {

bool ShapesCompatible(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t d = 0; d < a.size(); ++d) {
    if (a[d] >= 0 && b[d] >= 0 && a[d] != b[d]) return false;
  }
  return true;
}

Status InferFusedConv(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ReadFusedActivation(ctx.node).status());
  QCAL_RETURN_IF_ERROR(InferConv(ctx, outputs));
  if (ctx.has_input(3) && !ShapesCompatible(ctx.inputs[3].shape, outputs[0].shape)) {
    return InvalidArgument("sum input Z has shape " + ShapeToString(ctx.inputs[3].shape) +
                           ", expected the output shape " + ShapeToString(outputs[0].shape));
  }
  return Status::Ok();
}

Status RunFusedConv(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  QCAL_ASSIGN_OR_RETURN(FusedActivation act, ReadFusedActivation(node));
  const Tensor* z = in.size() > 3 ? in[3] : nullptr;
  QCAL_RETURN_IF_ERROR(RunConv(node, {in[0], in[1], in.size() > 2 ? in[2] : nullptr}, out));
  Tensor& y = out[0];
  if (z && z->shape() != y.shape()) {
    return InvalidArgument("sum input Z has shape " + ShapeToString(z->shape()) + ", expected the output shape " +
                           ShapeToString(y.shape()));
  }
  float* yd = y.data<float>();
  const float* zd = z ? z->data<float>() : nullptr;
  for (int64_t i = 0; i < y.numel(); ++i) yd[i] = act.Apply(zd ? yd[i] + zd[i] : yd[i]);
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateFusedConv(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunFusedConv);
}

}  // namespace

QCAL_REGISTER_OP("FusedConv", InferFusedConv, 2, 4, 1, 1);
QCAL_REGISTER_KERNEL("FusedConv", "ref", 0, nullptr, CreateFusedConv);

}  // namespace qcal::ref
