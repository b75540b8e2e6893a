// Gather: picks slices of `data` along `axis` (default 0, may be negative) at
// the int32/int64 `indices` (negative indices count from the end). Output
// shape: data[:axis] + indices.shape + data[axis+1:]. Any data dtype.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Result<Shape> GatherShape(const Node& node, const Shape& data, const Shape& indices, int64_t* axis_out) {
  QCAL_ASSIGN_OR_RETURN(int64_t axis,
                        NormalizeAxis(node.attrs.GetInt("axis", 0), static_cast<int64_t>(data.size()), "attribute 'axis'"));
  *axis_out = axis;
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  return out;
}

Status InferGather(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 1, {DataType::kInt64, DataType::kInt32}));
  int64_t axis = 0;
  QCAL_ASSIGN_OR_RETURN(Shape s, GatherShape(ctx.node, ctx.inputs[0].shape, ctx.inputs[1].shape, &axis));
  outputs[0] = {ctx.inputs[0].dtype, std::move(s)};
  return Status::Ok();
}

Status RunGather(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const Tensor& idx = *in[1];
  int64_t axis = 0;
  QCAL_ASSIGN_OR_RETURN(Shape shape, GatherShape(node, x.shape(), idx.shape(), &axis));
  const size_t a = static_cast<size_t>(axis);
  const int64_t n = x.shape()[a];
  const int64_t outer = DimProduct(x.shape(), 0, a);
  const size_t block = static_cast<size_t>(DimProduct(x.shape(), a + 1, x.shape().size())) * DataTypeSize(x.dtype());
  const std::vector<int64_t> indices = idx.ToInt64Vector();
  std::vector<int64_t> rows(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    const int64_t i = indices[k] < 0 ? indices[k] + n : indices[k];
    if (i < 0 || i >= n) {
      return InvalidArgument("index " + std::to_string(indices[k]) + " is out of range for axis " +
                             std::to_string(axis) + " of size " + std::to_string(n));
    }
    rows[k] = i;
  }
  Tensor& y = PrepareOutput(out, 0, x.dtype(), shape);
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(y.raw());
  for (int64_t o = 0; o < outer && block; ++o) {
    for (int64_t r : rows) {
      std::memcpy(dst, src + (static_cast<size_t>(o * n + r)) * block, block);
      dst += block;
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateGather(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunGather); }

}  // namespace

QCAL_REGISTER_OP("Gather", InferGather, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("Gather", "ref", 0, nullptr, CreateGather);

}  // namespace qcal::ref
