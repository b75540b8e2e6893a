// Slice (opset 10+ form): inputs data, starts, ends, optional axes (default
// 0..n-1, may be negative) and steps (default 1, may be negative, not 0).
// Per ONNX: negative starts/ends add the dim; then, for step > 0, start and end
// clamp to [0, dim]; for step < 0, start clamps to [0, dim-1] and end to
// [-1, dim-1]. Any dtype.
#include <algorithm>

#include "kernels/ref/data_movement.h"

namespace qcal::ref {
namespace {

struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Normalized per-axis parameters for a tensor of `rank`.
Result<SliceParams> Params(std::vector<int64_t> starts, std::vector<int64_t> ends,
                           std::optional<std::vector<int64_t>> axes,
                           std::optional<std::vector<int64_t>> steps, int64_t rank) {
  const size_t n = starts.size();
  if (ends.size() != n) return InvalidArgument("'starts' and 'ends' have different lengths");
  SliceParams p{std::move(starts), std::move(ends), {}, steps.value_or(std::vector<int64_t>(n, 1))};
  if (!axes) {
    axes.emplace(n);
    for (size_t i = 0; i < n; ++i) (*axes)[i] = static_cast<int64_t>(i);
  }
  if (axes->size() != n || p.steps.size() != n) {
    return InvalidArgument("'axes' and 'steps' must have as many entries as 'starts'");
  }
  QCAL_ASSIGN_OR_RETURN(p.axes, NormalizeAxes(*axes, rank, "axes"));
  for (int64_t s : p.steps)
    if (s == 0) return InvalidArgument("'steps' must not contain 0");
  return p;
}

// Clamped start and element count along one dim of size `dim`.
void ClampAxis(int64_t dim, int64_t& start, int64_t end, int64_t step, int64_t& count) {
  if (dim == 0) {
    start = 0;
    count = 0;
    return;
  }
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    count = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    count = start > end ? (start - end - step - 1) / -step : 0;
  }
}

Status InferSlice(const OpContext& ctx, std::vector<TensorType>& outputs) {
  static const char* kNames[] = {"data", "starts", "ends", "axes", "steps"};
  for (size_t i = 1; i < ctx.num_inputs(); ++i) QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, i, kNames[i]));
  const Shape& in = ctx.inputs[0].shape;
  Shape out = in;
  auto starts = ConstInts(ctx, 1), ends = ConstInts(ctx, 2);
  auto axes = ctx.has_input(3) ? ConstInts(ctx, 3) : std::nullopt;
  auto steps = ctx.has_input(4) ? ConstInts(ctx, 4) : std::nullopt;
  const bool length_unknown = !starts && VectorLength(ctx.inputs[1]) < 0;
  if ((ctx.has_input(3) && !axes) || (!ctx.has_input(3) && length_unknown)) {  // sliced axes unknown
    outputs[0] = {ctx.inputs[0].dtype, Shape(in.size(), -1)};
    return Status::Ok();
  }
  const bool values_known = starts && ends && (!ctx.has_input(4) || steps);
  const size_t n =
      starts ? starts->size() : static_cast<size_t>(std::max<int64_t>(VectorLength(ctx.inputs[1]), 0));
  if (!values_known) {
    // Only the sliced axes become unknown.
    std::vector<int64_t> dflt(n, 1);
    QCAL_ASSIGN_OR_RETURN(SliceParams p,
                          Params(dflt, dflt, axes, std::nullopt, static_cast<int64_t>(in.size())));
    for (int64_t a : p.axes) out[static_cast<size_t>(a)] = -1;
  } else {
    QCAL_ASSIGN_OR_RETURN(SliceParams p,
                          Params(*starts, *ends, axes, steps, static_cast<int64_t>(in.size())));
    for (size_t i = 0; i < p.axes.size(); ++i) {
      const size_t a = static_cast<size_t>(p.axes[i]);
      if (in[a] < 0) {
        out[a] = -1;
        continue;
      }
      ClampAxis(in[a], p.starts[i], p.ends[i], p.steps[i], out[a]);
    }
  }
  outputs[0] = {ctx.inputs[0].dtype, std::move(out)};
  return Status::Ok();
}

}  // namespace

Result<StridedCopy> SliceCopy(const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  auto opt = [&](size_t i) -> std::optional<std::vector<int64_t>> {
    if (i < in.size() && in[i]) return in[i]->ToInt64Vector();
    return std::nullopt;
  };
  QCAL_ASSIGN_OR_RETURN(SliceParams p,
                        Params(in[1]->ToInt64Vector(), in[2]->ToInt64Vector(), opt(3), opt(4), x.rank()));
  // Unsliced dims: start 0, step 1, full size. Sliced dims: clamped values.
  StridedCopy c;
  c.shape = x.shape();
  std::vector<int64_t> start(c.shape.size(), 0), step(c.shape.size(), 1);
  for (size_t i = 0; i < p.axes.size(); ++i) {
    const size_t a = static_cast<size_t>(p.axes[i]);
    start[a] = p.starts[i];
    step[a] = p.steps[i];
    ClampAxis(x.dim(static_cast<int64_t>(a)), start[a], p.ends[i], step[a], c.shape[a]);
  }
  const std::vector<int64_t> in_strides = Strides(x.shape());
  c.strides.resize(c.shape.size());
  for (size_t d = 0; d < c.shape.size(); ++d) {
    c.strides[d] = in_strides[d] * step[d];
    if (c.shape[d] > 0) c.base += start[d] * in_strides[d];
  }
  return c;
}

namespace {

Status RunSlice(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(StridedCopy c, SliceCopy(in));
  Tensor& y = PrepareOutput(out, 0, x.dtype(), c.shape);
  return DispatchBySize(x.dtype(), node.op_type, [&]<typename T>() {
    StridedGather<T>(static_cast<const T*>(x.raw()), c.base, c.shape, c.strides, static_cast<T*>(y.raw()));
  });
}

Result<std::unique_ptr<Kernel>> CreateSlice(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunSlice);
}

}  // namespace

QCAL_REGISTER_OP("Slice", InferSlice, 3, 5, 1, 1);
QCAL_REGISTER_KERNEL("Slice", "ref", 0, nullptr, CreateSlice);

}  // namespace qcal::ref
