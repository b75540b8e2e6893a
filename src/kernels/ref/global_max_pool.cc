// GlobalMaxPool: y[n, c, 1, ..., 1] = max of x[n, c, :, ..., :]. float32, int8, uint8; rank >= 3.
#include <algorithm>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status InferGlobalMaxPool(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32, DataType::kInt8, DataType::kUint8}));
  const Shape& x = ctx.inputs[0].shape;
  if (x.size() < 3) return InvalidArgument("input X has shape " + ShapeToString(x) + ", expected [N, C, d1, ...]");
  Shape y(x.size(), 1);
  y[0] = x[0];
  y[1] = x[1];
  outputs[0] = {ctx.inputs[0].dtype, y};
  return Status::Ok();
}

Status RunGlobalMaxPool(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  Shape y_shape(x.shape().size(), 1);
  y_shape[0] = x.dim(0);
  y_shape[1] = x.dim(1);
  Tensor& y = PrepareOutput(out, 0, x.dtype(), y_shape);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t size = planes > 0 ? x.numel() / planes : 0;
  if (size == 0 && planes > 0) return InvalidArgument("input X " + ShapeToString(x.shape()) + " has no elements");
  return DispatchNumeric(x.dtype(), node.Describe(), [&]<typename T>() {
    for (int64_t p = 0; p < planes; ++p) {
      const T* src = x.data<T>() + p * size;
      y.data<T>()[p] = *std::max_element(src, src + size);
    }
  });
}

Result<std::unique_ptr<Kernel>> CreateGlobalMaxPool(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunGlobalMaxPool);
}

}  // namespace

QCAL_REGISTER_OP("GlobalMaxPool", InferGlobalMaxPool, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("GlobalMaxPool", "ref", 0, nullptr, CreateGlobalMaxPool);

}  // namespace qcal::ref
