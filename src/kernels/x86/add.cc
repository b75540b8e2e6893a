// Add (provider "x86"): float32 a + b of identical shapes (residual Adds), vectorized and
// multi-threaded; broadcasting and other dtypes stay on the reference kernel.
#include "kernels/ref/common.h"
#include "kernels/x86/elementwise.h"

namespace qcal::x86 {
namespace {

bool SupportsAdd(const OpContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return false;
  const TensorType& a = ctx.inputs[0];
  const TensorType& b = ctx.inputs[1];
  return a.dtype == DataType::kFloat32 && b.dtype == DataType::kFloat32 && ShapeIsStatic(a.shape) &&
         a.shape == b.shape;
}

Status RunAdd(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& a = *in[0];
  const Tensor& b = *in[1];
  if (a.dtype() != DataType::kFloat32 || b.dtype() != DataType::kFloat32 || a.shape() != b.shape()) {
    return InvalidArgument(node.Describe() + ": inputs " + ShapeToString(a.shape()) + " and " +
                           ShapeToString(b.shape()) + " are not float32 tensors of one shape");
  }
  Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, a.shape());
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* py = y.data<float>();
  ForEachRowPiece(1, a.numel(),
                  [&](int64_t, int64_t begin, int64_t end) { AddRange(pa, pb, py, begin, end); });
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateAdd(const OpContext& ctx) {
  return std::unique_ptr<Kernel>(std::make_unique<FullWriteKernel>(ctx.node, RunAdd));
}

}  // namespace

QCAL_REGISTER_KERNEL("Add", kProvider, kPriority, SupportsAdd, CreateAdd);

}  // namespace qcal::x86
