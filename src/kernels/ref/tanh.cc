// Tanh: y = tanh(x). float32.
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status RunTanh(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32) return Unsupported("data type " + std::string(DataTypeName(x.dtype())) + " is not supported");
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());

  MapUnary<float, float>(x, y, [=](float v) { return std::tanh(v); });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateTanh(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunTanh); }

}  // namespace

QCAL_REGISTER_OP("Tanh", InferFloatUnary, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Tanh", "ref", 0, nullptr, CreateTanh);

}  // namespace qcal::ref
