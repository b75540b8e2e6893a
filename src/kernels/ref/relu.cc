// Relu: y = max(x, 0). float32, int8, int32.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status InferRelu(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32, DataType::kInt8, DataType::kInt32}));
  return InferSameAsInput0(ctx, outputs);
}

Status RunRelu(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());
  return DispatchNumeric(x.dtype(), node.Describe(), [&]<typename T>() {
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) dst[i] = src[i] > T(0) ? src[i] : T(0);
  });
}

Result<std::unique_ptr<Kernel>> CreateRelu(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunRelu); }

}  // namespace

QCAL_REGISTER_OP("Relu", InferRelu, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Relu", "ref", 0, nullptr, CreateRelu);

}  // namespace qcal::ref
