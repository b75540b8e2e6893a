// Concat: joins inputs along `axis` (required, may be negative). Any dtype
// (including bool); all inputs share dtype and rank, and agree on every other dim.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

// Output shape; -1 dims are allowed (unknown sizes propagate).
Result<Shape> ConcatShape(const std::vector<Shape>& shapes, int64_t axis_attr, int64_t* axis_out) {
  const Shape& first = shapes[0];
  const int64_t rank = static_cast<int64_t>(first.size());
  QCAL_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(axis_attr, rank, "attribute 'axis'"));
  *axis_out = axis;
  Shape out = first;
  const size_t a = static_cast<size_t>(axis);
  for (size_t i = 1; i < shapes.size(); ++i) {
    const Shape& s = shapes[i];
    if (s.size() != first.size()) {
      return InvalidArgument("input " + std::to_string(i) + " has rank " + std::to_string(s.size()) +
                             ", input 0 has rank " + std::to_string(first.size()));
    }
    for (size_t d = 0; d < s.size(); ++d) {
      if (d == a) {
        out[d] = out[d] < 0 || s[d] < 0 ? -1 : out[d] + s[d];
      } else if (out[d] < 0) {
        out[d] = s[d];
      } else if (s[d] >= 0 && s[d] != out[d]) {
        return InvalidArgument("input " + std::to_string(i) + " has shape " + ShapeToString(s) +
                               ", which differs from " + ShapeToString(first) + " outside axis " +
                               std::to_string(axis));
      }
    }
  }
  return out;
}

Status InferConcat(const OpContext& ctx, std::vector<TensorType>& outputs) {
  if (!ctx.node.attrs.Has("axis")) return InvalidArgument("attribute 'axis' is required");
  std::vector<Shape> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return InvalidArgument("input " + std::to_string(i) + " is missing");
    if (ctx.inputs[i].dtype != ctx.inputs[0].dtype) {
      return InvalidArgument("input " + std::to_string(i) + " has data type " +
                             std::string(DataTypeName(ctx.inputs[i].dtype)) + ", input 0 has " +
                             std::string(DataTypeName(ctx.inputs[0].dtype)));
    }
    shapes.push_back(ctx.inputs[i].shape);
  }
  int64_t axis = 0;
  QCAL_ASSIGN_OR_RETURN(Shape out, ConcatShape(shapes, ctx.node.attrs.GetInt("axis", 0), &axis));
  outputs[0] = {ctx.inputs[0].dtype, std::move(out)};
  return Status::Ok();
}

Status RunConcat(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::vector<Shape> shapes;
  for (const Tensor* t : in) {
    if (!t || t->dtype() != in[0]->dtype()) return InvalidArgument("inputs must be present and share one data type");
    shapes.push_back(t->shape());
  }
  int64_t axis = 0;
  QCAL_ASSIGN_OR_RETURN(Shape shape, ConcatShape(shapes, node.attrs.GetInt("axis", 0), &axis));
  Tensor& y = PrepareOutput(out, 0, in[0]->dtype(), shape);
  // Each input contributes one contiguous block of dims[axis:] per outer index.
  const size_t a = static_cast<size_t>(axis);
  const int64_t outer = DimProduct(shape, 0, a);
  const size_t esize = DataTypeSize(y.dtype());
  const size_t out_block = static_cast<size_t>(DimProduct(shape, a, shape.size())) * esize;
  auto* dst = static_cast<uint8_t*>(y.raw());
  size_t col = 0;
  for (const Tensor* t : in) {
    const size_t block = static_cast<size_t>(DimProduct(t->shape(), a, shape.size())) * esize;
    const auto* src = static_cast<const uint8_t*>(t->raw());
    for (int64_t o = 0; o < outer && block; ++o) {
      std::memcpy(dst + static_cast<size_t>(o) * out_block + col, src + static_cast<size_t>(o) * block, block);
    }
    col += block;
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateConcat(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunConcat); }

}  // namespace

QCAL_REGISTER_OP("Concat", InferConcat, 1, -1, 1, 1);
QCAL_REGISTER_KERNEL("Concat", "ref", 0, nullptr, CreateConcat);

}  // namespace qcal::ref
