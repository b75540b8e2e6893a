// Squeeze (opset 13 form): removes the size-1 dims listed in the optional int64
// `axes` input, or every size-1 dim when axes is absent. The output aliases the
// input's buffer.
//
// Static inference without axes keeps unknown (-1) dims: it assumes they are
// not 1 (re-inference with concrete shapes at run time gives the exact result).
#include <optional>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Result<Shape> SqueezeShape(const Shape& in, const std::optional<std::vector<int64_t>>& axes) {
  Shape out;
  if (!axes) {
    for (int64_t d : in) if (d != 1) out.push_back(d);
    return out;
  }
  QCAL_ASSIGN_OR_RETURN(std::vector<int64_t> norm, NormalizeAxes(*axes, static_cast<int64_t>(in.size()), "axes"));
  std::vector<bool> drop(in.size(), false);
  for (int64_t a : norm) {
    const size_t u = static_cast<size_t>(a);
    if (in[u] > 1 || in[u] == 0) {
      return InvalidArgument("cannot squeeze axis " + std::to_string(a) + " of shape " + ShapeToString(in) +
                             ": its size is not 1");
    }
    drop[u] = true;
  }
  for (size_t i = 0; i < in.size(); ++i) if (!drop[i]) out.push_back(in[i] < 0 ? 1 : in[i]);
  return out;
}

Status InferSqueeze(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 1, "axes"));
  const Shape& in = ctx.inputs[0].shape;
  Shape out;
  if (!ctx.has_input(1)) {
    QCAL_ASSIGN_OR_RETURN(out, SqueezeShape(in, std::nullopt));
  } else if (auto axes = ConstInts(ctx, 1)) {
    QCAL_ASSIGN_OR_RETURN(out, SqueezeShape(in, axes));
  } else {
    const int64_t n = VectorLength(ctx.inputs[1]);
    if (n < 0 || n > static_cast<int64_t>(in.size())) return InvalidArgument("output rank is unknown: 'axes' has unknown length");
    out.assign(in.size() - static_cast<size_t>(n), -1);
  }
  outputs[0] = {ctx.inputs[0].dtype, std::move(out)};
  return Status::Ok();
}

Status RunSqueeze(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::optional<std::vector<int64_t>> axes;
  if (in.size() > 1 && in[1]) axes = in[1]->ToInt64Vector();
  QCAL_ASSIGN_OR_RETURN(Shape s, SqueezeShape(in[0]->shape(), axes));
  out[0] = in[0]->Reshaped(std::move(s));
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateSqueeze(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunSqueeze); }

}  // namespace

QCAL_REGISTER_OP("Squeeze", InferSqueeze, 1, 2, 1, 1);
QCAL_REGISTER_KERNEL("Squeeze", "ref", 0, nullptr, CreateSqueeze);

}  // namespace qcal::ref
