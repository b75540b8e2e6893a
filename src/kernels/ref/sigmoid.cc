// Sigmoid: y = 1 / (1 + exp(-x)), computed without overflow for large |x|. float32.
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status RunSigmoid(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32) return Unsupported("data type " + std::string(DataTypeName(x.dtype())) + " is not supported");
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());

  MapUnary<float, float>(x, y, [=](float v) { return v >= 0.0f ? 1.0f / (1.0f + std::exp(-v)) : std::exp(v) / (1.0f + std::exp(v)); });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateSigmoid(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunSigmoid); }

}  // namespace

QCAL_REGISTER_OP("Sigmoid", InferFloatUnary, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Sigmoid", "ref", 0, nullptr, CreateSigmoid);

}  // namespace qcal::ref
