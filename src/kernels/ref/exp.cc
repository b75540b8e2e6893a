// Exp: y = e^x. float32.
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status RunExp(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32)
    return Unsupported("data type " + std::string(DataTypeName(x.dtype())) + " is not supported");
  Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());
  MapUnary<float, float>(x, y, [](float v) { return std::exp(v); });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateExp(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunExp); }

}  // namespace

QCAL_REGISTER_OP("Exp", InferFloatUnary, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Exp", "ref", 0, nullptr, CreateExp);

}  // namespace qcal::ref
