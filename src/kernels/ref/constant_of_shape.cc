// ConstantOfShape: a tensor of the shape given by the 1-D int64 input, filled
// with the one-element `value` attribute tensor (default float32 0); the output
// dtype is value's dtype.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Result<Tensor> Value(const Node& node) {
  const Tensor* v = node.attrs.GetTensor("value");
  if (!v) return Tensor::Scalar<float>(0.0f);
  if (v->numel() != 1) return InvalidArgument("attribute 'value' must hold one element, got shape " + ShapeToString(v->shape()));
  return *v;
}

Status InferConstantOfShape(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 0, "input"));
  QCAL_ASSIGN_OR_RETURN(Tensor v, Value(ctx.node));
  Shape out;
  if (auto dims = ConstInts(ctx, 0)) {
    for (int64_t d : *dims) if (d < 0) return InvalidArgument("shape " + ShapeToString(*dims) + " has a negative dim");
    out = *dims;
  } else {
    const int64_t rank = VectorLength(ctx.inputs[0]);
    if (rank < 0) return InvalidArgument("output rank is unknown: the shape input has unknown length");
    out.assign(static_cast<size_t>(rank), -1);
  }
  outputs[0] = {v.dtype(), std::move(out)};
  return Status::Ok();
}

Status RunConstantOfShape(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  QCAL_ASSIGN_OR_RETURN(Tensor v, Value(node));
  Shape shape = in[0]->ToInt64Vector();
  for (int64_t d : shape) if (d < 0) return InvalidArgument("shape " + ShapeToString(shape) + " has a negative dim");
  Tensor& y = PrepareOutput(out, 0, v.dtype(), shape);
  const size_t esize = DataTypeSize(v.dtype());
  auto* dst = static_cast<uint8_t*>(y.raw());
  for (int64_t i = 0; i < y.numel(); ++i) std::memcpy(dst + static_cast<size_t>(i) * esize, v.raw(), esize);
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateConstantOfShape(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunConstantOfShape);
}

}  // namespace

QCAL_REGISTER_OP("ConstantOfShape", InferConstantOfShape, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("ConstantOfShape", "ref", 0, nullptr, CreateConstantOfShape);

}  // namespace qcal::ref
