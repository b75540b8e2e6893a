// Relu (provider "x86"): float32, vectorized and multi-threaded; other dtypes stay on the
// reference kernel.
#include "kernels/ref/common.h"
#include "kernels/x86/elementwise.h"

namespace qcal::x86 {
namespace {

bool SupportsRelu(const OpContext& ctx) {
  return ctx.has_input(0) && ctx.inputs[0].dtype == DataType::kFloat32;
}

Status RunRelu(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32) return InvalidArgument(node.Describe() + ": X is not float32");
  Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, x.shape());
  const float* px = x.data<float>();
  float* py = y.data<float>();
  ForEachRowPiece(1, x.numel(), [&](int64_t, int64_t begin, int64_t end) { ReluRange(px, py, begin, end); });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateRelu(const OpContext& ctx) {
  return std::unique_ptr<Kernel>(std::make_unique<FullWriteKernel>(ctx.node, RunRelu));
}

}  // namespace

QCAL_REGISTER_KERNEL("Relu", kProvider, kPriority, SupportsRelu, CreateRelu);

}  // namespace qcal::x86
