// HardSigmoid: y = max(0, min(1, alpha * x + beta)) (alpha default 0.2, beta 0.5). float32.
#include <algorithm>
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status RunHardSigmoid(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32) return Unsupported("data type " + std::string(DataTypeName(x.dtype())) + " is not supported");
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());
  const float alpha = node.attrs.GetFloat("alpha", 0.2f);
  const float beta = node.attrs.GetFloat("beta", 0.5f);
  MapUnary<float, float>(x, y, [=](float v) { return std::max(0.0f, std::min(1.0f, alpha * v + beta)); });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateHardSigmoid(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunHardSigmoid); }

}  // namespace

QCAL_REGISTER_OP("HardSigmoid", InferFloatUnary, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("HardSigmoid", "ref", 0, nullptr, CreateHardSigmoid);

}  // namespace qcal::ref
