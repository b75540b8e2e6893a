// Size: int64 scalar holding the input's element count. Any input dtype.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status InferSize(const OpContext& ctx, std::vector<TensorType>& outputs) {
  outputs[0] = {DataType::kInt64, Shape{}};
  return Status::Ok();
}

Status RunSize(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  out[0] = Tensor::Scalar<int64_t>(in[0]->numel());
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateSize(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunSize); }

}  // namespace

QCAL_REGISTER_OP("Size", InferSize, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Size", "ref", 0, nullptr, CreateSize);

}  // namespace qcal::ref
