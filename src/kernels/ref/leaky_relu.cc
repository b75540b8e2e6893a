// LeakyRelu: y = x >= 0 ? x : alpha * x (attr alpha, default 0.01). float32.
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status RunLeakyRelu(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32) return Unsupported("data type " + std::string(DataTypeName(x.dtype())) + " is not supported");
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());
  const float alpha = node.attrs.GetFloat("alpha", 0.01f);
  MapUnary<float, float>(x, y, [=](float v) { return v >= 0.0f ? v : alpha * v; });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateLeakyRelu(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunLeakyRelu); }

}  // namespace

QCAL_REGISTER_OP("LeakyRelu", InferFloatUnary, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("LeakyRelu", "ref", 0, nullptr, CreateLeakyRelu);

}  // namespace qcal::ref
