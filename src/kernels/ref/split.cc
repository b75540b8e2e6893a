// Split: cuts the input along `axis` (default 0) into the node's outputs. Part
// sizes come from, in order of precedence: the int64 `split` input (must sum
// to the dim); the `num_outputs` attribute (opset 18: parts of ceil(dim/n),
// the last one smaller); otherwise equal parts, one per output (the dim must
// divide evenly). Any dtype.
#include <algorithm>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

// Part sizes along an axis of size `dim` (-1 unknown: parts unknown unless given).
Result<std::vector<int64_t>> Parts(const Node& node, int64_t dim, const std::optional<std::vector<int64_t>>& split,
                                   size_t num_outputs) {
  if (split) {
    if (split->size() != num_outputs) {
      return InvalidArgument("'split' has " + std::to_string(split->size()) + " entries for " +
                             std::to_string(num_outputs) + " outputs");
    }
    int64_t sum = 0;
    for (int64_t s : *split) {
      if (s < 0) return InvalidArgument("'split' " + ShapeToString(*split) + " has a negative size");
      sum += s;
    }
    if (dim >= 0 && sum != dim) {
      return InvalidArgument("'split' " + ShapeToString(*split) + " sums to " + std::to_string(sum) +
                             ", the axis has size " + std::to_string(dim));
    }
    return *split;
  }
  const int64_t n = static_cast<int64_t>(num_outputs);
  if (node.attrs.Has("num_outputs") && node.attrs.GetInt("num_outputs", 0) != n) {
    return InvalidArgument("attribute 'num_outputs' is " + std::to_string(node.attrs.GetInt("num_outputs", 0)) +
                           " but the node has " + std::to_string(n) + " outputs");
  }
  if (dim < 0) return std::vector<int64_t>(num_outputs, -1);
  std::vector<int64_t> parts;
  if (node.attrs.Has("num_outputs")) {
    const int64_t chunk = (dim + n - 1) / n;
    for (int64_t i = 0, left = dim; i < n; ++i, left -= chunk) parts.push_back(std::max<int64_t>(0, std::min(chunk, left)));
  } else {
    if (dim % n != 0) {
      return InvalidArgument("axis of size " + std::to_string(dim) + " cannot be split into " + std::to_string(n) +
                             " equal parts");
    }
    parts.assign(num_outputs, dim / n);
  }
  return parts;
}

Status InferSplit(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 1, "split"));
  const Shape& in = ctx.inputs[0].shape;
  QCAL_ASSIGN_OR_RETURN(int64_t axis,
                        NormalizeAxis(ctx.node.attrs.GetInt("axis", 0), static_cast<int64_t>(in.size()), "attribute 'axis'"));
  const size_t a = static_cast<size_t>(axis);
  std::vector<int64_t> parts(outputs.size(), -1);
  auto split = ctx.has_input(1) ? ConstInts(ctx, 1) : std::nullopt;
  if (!ctx.has_input(1) || split) {
    QCAL_ASSIGN_OR_RETURN(parts, Parts(ctx.node, in[a], split, outputs.size()));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    Shape s = in;
    s[a] = parts[i];
    outputs[i] = {ctx.inputs[0].dtype, std::move(s)};
  }
  return Status::Ok();
}

Status RunSplit(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node.attrs.GetInt("axis", 0), x.rank(), "attribute 'axis'"));
  std::optional<std::vector<int64_t>> split;
  if (in.size() > 1 && in[1]) split = in[1]->ToInt64Vector();
  QCAL_ASSIGN_OR_RETURN(auto parts, Parts(node, x.dim(axis), split, out.size()));
  const size_t a = static_cast<size_t>(axis);
  const int64_t outer = DimProduct(x.shape(), 0, a);
  const size_t esize = DataTypeSize(x.dtype());
  const size_t row = static_cast<size_t>(DimProduct(x.shape(), a + 1, x.shape().size())) * esize;
  const size_t in_block = static_cast<size_t>(x.dim(axis)) * row;
  const auto* src = static_cast<const uint8_t*>(x.raw());
  size_t col = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    Shape s = x.shape();
    s[a] = parts[i];
    Tensor& y = PrepareOutput(out, i, x.dtype(), s);
    const size_t block = static_cast<size_t>(parts[i]) * row;
    auto* dst = static_cast<uint8_t*>(y.raw());
    for (int64_t o = 0; o < outer && block; ++o) {
      std::memcpy(dst + static_cast<size_t>(o) * block, src + static_cast<size_t>(o) * in_block + col, block);
    }
    col += block;
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateSplit(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunSplit); }

}  // namespace

QCAL_REGISTER_OP("Split", InferSplit, 1, 2, 1, -1);
QCAL_REGISTER_KERNEL("Split", "ref", 0, nullptr, CreateSplit);

}  // namespace qcal::ref
