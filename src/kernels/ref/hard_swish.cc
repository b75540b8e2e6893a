// HardSwish: y = x * max(0, min(1, x / 6 + 0.5)) (HardSigmoid with alpha 1/6, beta 0.5). float32.
#include <algorithm>
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status RunHardSwish(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32) return Unsupported("data type " + std::string(DataTypeName(x.dtype())) + " is not supported");
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());

  MapUnary<float, float>(x, y, [=](float v) { return v * std::max(0.0f, std::min(1.0f, v / 6.0f + 0.5f)); });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateHardSwish(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunHardSwish); }

}  // namespace

QCAL_REGISTER_OP("HardSwish", InferFloatUnary, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("HardSwish", "ref", 0, nullptr, CreateHardSwish);

}  // namespace qcal::ref
