// Unsqueeze (opset 13 form): inserts size-1 dims at the positions in the int64
// `axes` input (positions in the output, may be negative, any order). The
// output aliases the input's buffer.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Result<Shape> UnsqueezeShape(const Shape& in, const std::vector<int64_t>& axes) {
  const int64_t rank = static_cast<int64_t>(in.size() + axes.size());
  QCAL_ASSIGN_OR_RETURN(std::vector<int64_t> norm, NormalizeAxes(axes, rank, "axes"));
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t a : norm) inserted[static_cast<size_t>(a)] = true;
  Shape out;
  size_t next = 0;
  for (size_t i = 0; i < inserted.size(); ++i) out.push_back(inserted[i] ? 1 : in[next++]);
  return out;
}

Status InferUnsqueeze(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 1, "axes", /*allow_scalar=*/true));
  Shape out;
  if (auto axes = ConstInts(ctx, 1)) {
    QCAL_ASSIGN_OR_RETURN(out, UnsqueezeShape(ctx.inputs[0].shape, *axes));
  } else {
    const int64_t n = VectorLength(ctx.inputs[1]);
    if (n < 0) return InvalidArgument("output rank is unknown: 'axes' has unknown length");
    out.assign(ctx.inputs[0].shape.size() + static_cast<size_t>(n), -1);
  }
  outputs[0] = {ctx.inputs[0].dtype, std::move(out)};
  return Status::Ok();
}

Status RunUnsqueeze(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  QCAL_ASSIGN_OR_RETURN(Shape s, UnsqueezeShape(in[0]->shape(), in[1]->ToInt64Vector()));
  out[0] = in[0]->Reshaped(std::move(s));
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateUnsqueeze(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunUnsqueeze);
}

}  // namespace

QCAL_REGISTER_OP("Unsqueeze", InferUnsqueeze, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Unsqueeze", "ref", 0, nullptr, CreateUnsqueeze);

}  // namespace qcal::ref
