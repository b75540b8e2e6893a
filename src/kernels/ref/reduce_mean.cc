// ReduceMean, float32: mean over `axes`, taken from the int64 `axes` input
// when present (opset 18) or else the `axes` attribute (opset < 18). Empty
// axes reduce every dim, unless noop_with_empty_axes=1 (then output = input).
// keepdims (default 1) keeps reduced dims as size 1. Sums accumulate in double.
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

// Which dims are reduced (empty vector: none, the no-op case).
Result<std::vector<bool>> ReducedDims(const Node& node, const std::vector<int64_t>& axes, size_t rank) {
  if (axes.empty()) {
    return std::vector<bool>(rank, node.attrs.GetInt("noop_with_empty_axes", 0) == 0);
  }
  QCAL_ASSIGN_OR_RETURN(auto norm, NormalizeAxes(axes, static_cast<int64_t>(rank), "axes"));
  std::vector<bool> reduced(rank, false);
  for (int64_t a : norm) reduced[static_cast<size_t>(a)] = true;
  return reduced;
}

Shape ReducedShape(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) out.push_back(in[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

Status InferReduceMean(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 1, "axes"));
  const Shape& in = ctx.inputs[0].shape;
  const bool keepdims = ctx.node.attrs.GetInt("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes = ctx.node.attrs.GetInts("axes");
  if (ctx.has_input(1)) axes = ConstInts(ctx, 1);
  Shape out;
  if (axes) {
    QCAL_ASSIGN_OR_RETURN(auto reduced, ReducedDims(ctx.node, *axes, in.size()));
    out = ReducedShape(in, reduced, keepdims);
  } else {  // axes input not constant: sizes unknown
    const int64_t n = VectorLength(ctx.inputs[1]);
    if (!keepdims && (n < 0 || n > static_cast<int64_t>(in.size()))) {
      return InvalidArgument("output rank is unknown: 'axes' has unknown length and keepdims=0");
    }
    out.assign(keepdims ? in.size() : in.size() - static_cast<size_t>(n), -1);
  }
  outputs[0] = {ctx.inputs[0].dtype, std::move(out)};
  return Status::Ok();
}

Status RunReduceMean(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  if (x.dtype() != DataType::kFloat32) return Unsupported("ReduceMean supports float32 only");
  std::vector<int64_t> axes = node.attrs.GetInts("axes");
  if (in.size() > 1 && in[1]) axes = in[1]->ToInt64Vector();
  QCAL_ASSIGN_OR_RETURN(auto reduced, ReducedDims(node, axes, x.shape().size()));
  Tensor& y = PrepareOutput(out, 0, x.dtype(), ReducedShape(x.shape(), reduced, node.attrs.GetInt("keepdims", 1) != 0));
  // Accumulate each input element into its output slot: the output strides seen
  // from the input's dims, with reduced dims contributing 0.
  Shape kept = x.shape();
  for (size_t d = 0; d < kept.size(); ++d) if (reduced[d]) kept[d] = 1;
  const std::vector<int64_t> ostrides = BroadcastStrides(kept, kept.size());
  std::vector<double> acc(static_cast<size_t>(y.numel()), 0.0);
  const float* src = x.data<float>();
  std::vector<int64_t> idx(kept.size(), 0);
  int64_t off = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    acc[static_cast<size_t>(off)] += src[i];
    for (int64_t d = x.rank() - 1; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      off += ostrides[u];
      if (++idx[u] < x.shape()[u]) break;
      off -= ostrides[u] * idx[u];
      idx[u] = 0;
    }
  }
  const double count = y.numel() ? static_cast<double>(x.numel()) / static_cast<double>(y.numel()) : 1.0;
  float* dst = y.data<float>();
  for (int64_t i = 0; i < y.numel(); ++i) {
    dst[i] = count > 0 ? static_cast<float>(acc[static_cast<size_t>(i)] / count) : NAN;
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateReduceMean(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunReduceMean);
}

}  // namespace

QCAL_REGISTER_OP("ReduceMean", InferReduceMean, 1, 2, 1, 1);
QCAL_REGISTER_KERNEL("ReduceMean", "ref", 0, nullptr, CreateReduceMean);

}  // namespace qcal::ref
