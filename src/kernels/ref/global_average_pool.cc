// GlobalAveragePool: y[n, c, 1, ..., 1] = mean of x[n, c, :, ..., :]. float32, rank >= 3.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status InferGlobalAveragePool(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32}));
  const Shape& x = ctx.inputs[0].shape;
  if (x.size() < 3) return InvalidArgument("input X has shape " + ShapeToString(x) + ", expected [N, C, d1, ...]");
  Shape y(x.size(), 1);
  y[0] = x[0];
  y[1] = x[1];
  outputs[0] = {DataType::kFloat32, y};
  return Status::Ok();
}

Status RunGlobalAveragePool(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  Shape y_shape(x.shape().size(), 1);
  y_shape[0] = x.dim(0);
  y_shape[1] = x.dim(1);
  Tensor& y = PrepareOutput(out, 0, DataType::kFloat32, y_shape);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t size = planes > 0 ? x.numel() / planes : 0;
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x.data<float>() + p * size;
    double sum = 0;
    for (int64_t i = 0; i < size; ++i) sum += src[i];
    y.data<float>()[p] = size > 0 ? static_cast<float>(sum / static_cast<double>(size)) : 0.0f;
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateGlobalAveragePool(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunGlobalAveragePool);
}

}  // namespace

QCAL_REGISTER_OP("GlobalAveragePool", InferGlobalAveragePool, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("GlobalAveragePool", "ref", 0, nullptr, CreateGlobalAveragePool);

}  // namespace qcal::ref
