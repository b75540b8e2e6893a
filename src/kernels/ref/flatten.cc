// Flatten: 2-D output [prod(dims[:axis]), prod(dims[axis:])], axis in
// [-rank, rank] (default 1). The output aliases the input's buffer.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Result<Shape> FlattenShape(const Node& node, const Shape& in) {
  const int64_t rank = static_cast<int64_t>(in.size());
  const int64_t attr = node.attrs.GetInt("axis", 1);
  const int64_t axis = attr < 0 ? attr + rank : attr;
  if (axis < 0 || axis > rank) {
    return InvalidArgument("attribute 'axis' " + std::to_string(attr) + " is out of range for rank " +
                           std::to_string(rank));
  }
  const size_t a = static_cast<size_t>(axis);
  return Shape{DimProduct(in, 0, a), DimProduct(in, a, in.size())};
}

Status InferFlatten(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_ASSIGN_OR_RETURN(Shape s, FlattenShape(ctx.node, ctx.inputs[0].shape));
  outputs[0] = {ctx.inputs[0].dtype, std::move(s)};
  return Status::Ok();
}

Status RunFlatten(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  QCAL_ASSIGN_OR_RETURN(Shape s, FlattenShape(node, in[0]->shape()));
  out[0] = in[0]->Reshaped(std::move(s));
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateFlatten(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunFlatten); }

}  // namespace

QCAL_REGISTER_OP("Flatten", InferFlatten, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Flatten", "ref", 0, nullptr, CreateFlatten);

}  // namespace qcal::ref
