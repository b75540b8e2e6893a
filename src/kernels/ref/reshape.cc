// Reshape (opset 5+ form): the int64 `shape` input gives the output dims; 0
// copies the input dim at that position (unless allowzero=1, where 0 is a real
// zero), one -1 is inferred from the element count. The output aliases the
// input's buffer (no copy).
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

// Output shape for the `spec` values. Input dims may be -1 (unknown); the
// result then holds -1 where the size cannot be derived.
Result<Shape> ReshapeShape(const Shape& in, const std::vector<int64_t>& spec, bool allowzero) {
  Shape out(spec.size());
  int64_t infer_at = -1;
  bool has_zero = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    const int64_t s = spec[i];
    if (s < -1) return InvalidArgument("shape value " + std::to_string(s) + " at index " + std::to_string(i) + " is invalid");
    if (s == -1) {
      if (infer_at >= 0) return InvalidArgument("shape " + ShapeToString(spec) + " has more than one -1");
      infer_at = static_cast<int64_t>(i);
      out[i] = -1;
    } else if (s == 0 && !allowzero) {
      if (i >= in.size()) {
        return InvalidArgument("shape value 0 at index " + std::to_string(i) + " copies a dim the input (rank " +
                               std::to_string(in.size()) + ") does not have");
      }
      out[i] = in[i];
    } else {
      has_zero |= s == 0;
      out[i] = s;
    }
  }
  if (allowzero && has_zero && infer_at >= 0) return InvalidArgument("allowzero=1 shape has both 0 and -1");
  const int64_t n_in = NumElements(in);
  int64_t known = 1;
  bool all_known = true;
  for (size_t i = 0; i < out.size(); ++i) {
    if (static_cast<int64_t>(i) == infer_at) continue;
    if (out[i] < 0) all_known = false; else known *= out[i];
  }
  if (n_in < 0 || !all_known) return out;  // sizes not derivable statically
  if (infer_at >= 0) {
    if (known == 0 || n_in % known != 0) {
      return InvalidArgument("cannot reshape " + std::to_string(n_in) + " elements " + ShapeToString(in) +
                             " to " + ShapeToString(spec));
    }
    out[static_cast<size_t>(infer_at)] = n_in / known;
  } else if (known != n_in) {
    return InvalidArgument("cannot reshape " + std::to_string(n_in) + " elements " + ShapeToString(in) + " to " +
                           ShapeToString(out) + " (" + std::to_string(known) + " elements)");
  }
  return out;
}

Status InferReshape(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 1, "shape"));
  const bool allowzero = ctx.node.attrs.GetInt("allowzero", 0) != 0;
  Shape out;
  if (auto spec = ConstInts(ctx, 1)) {
    QCAL_ASSIGN_OR_RETURN(out, ReshapeShape(ctx.inputs[0].shape, *spec, allowzero));
  } else {
    const int64_t rank = VectorLength(ctx.inputs[1]);
    if (rank < 0) return InvalidArgument("output rank is unknown: the 'shape' input has unknown length");
    out.assign(static_cast<size_t>(rank), -1);
  }
  outputs[0] = {ctx.inputs[0].dtype, std::move(out)};
  return Status::Ok();
}

Status RunReshape(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const Tensor& spec = *in[1];
  if (spec.rank() != 1 || (spec.dtype() != DataType::kInt64 && spec.dtype() != DataType::kInt32)) {
    return InvalidArgument("'shape' must be a 1-D int64 tensor");
  }
  QCAL_ASSIGN_OR_RETURN(Shape shape,
                        ReshapeShape(x.shape(), spec.ToInt64Vector(), node.attrs.GetInt("allowzero", 0) != 0));
  out[0] = x.Reshaped(std::move(shape));
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateReshape(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunReshape); }

}  // namespace

QCAL_REGISTER_OP("Reshape", InferReshape, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Reshape", "ref", 0, nullptr, CreateReshape);

}  // namespace qcal::ref
