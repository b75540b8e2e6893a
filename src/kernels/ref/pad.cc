// Pad (opset 11/18 form): inputs data, pads (int64 [begin_0.., end_0..] for
// the padded axes), optional constant_value (scalar of data's dtype, default
// 0) and optional axes (default all). Attribute mode: "constant" (default),
// "edge" or "reflect" (numpy semantics: pads wider than the dim reflect
// repeatedly). Negative pads crop. Any dtype.
#include <algorithm>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

enum class PadMode { kConstant, kEdge, kReflect };

Result<PadMode> Mode(const Node& node) {
  static const std::pair<const char*, PadMode> kModes[] = {
      {"constant", PadMode::kConstant}, {"edge", PadMode::kEdge}, {"reflect", PadMode::kReflect}};
  const std::string m = node.attrs.GetString("mode", "constant");
  for (const auto& [name, mode] : kModes) if (m == name) return mode;
  return Unsupported("mode '" + m + "' is not supported (constant, edge, reflect)");
}

// Per-dim (begin, end) pads for a tensor of `rank`.
Result<std::vector<std::pair<int64_t, int64_t>>> PerDimPads(const std::vector<int64_t>& pads,
                                                            const std::optional<std::vector<int64_t>>& axes,
                                                            int64_t rank) {
  std::vector<int64_t> ax;
  if (axes) {
    QCAL_ASSIGN_OR_RETURN(ax, NormalizeAxes(*axes, rank, "axes"));
  } else {
    for (int64_t i = 0; i < rank; ++i) ax.push_back(i);
  }
  if (pads.size() != 2 * ax.size()) {
    return InvalidArgument("'pads' has " + std::to_string(pads.size()) + " values, expected " +
                           std::to_string(2 * ax.size()) + " (begin and end for each padded axis)");
  }
  std::vector<std::pair<int64_t, int64_t>> out(static_cast<size_t>(rank), {0, 0});
  for (size_t i = 0; i < ax.size(); ++i) out[static_cast<size_t>(ax[i])] = {pads[i], pads[i + ax.size()]};
  return out;
}

Result<Shape> PaddedShape(const Shape& in, const std::vector<std::pair<int64_t, int64_t>>& pads) {
  Shape out = in;
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d] < 0) continue;
    out[d] = in[d] + pads[d].first + pads[d].second;
    if (out[d] < 0) {
      return InvalidArgument("pads crop more than the " + std::to_string(in[d]) + " elements of axis " +
                             std::to_string(d));
    }
  }
  return out;
}

Status InferPad(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(Mode(ctx.node).status());
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 1, "pads"));
  QCAL_RETURN_IF_ERROR(ExpectIntVector(ctx, 3, "axes"));
  if (ctx.has_input(2) && ctx.inputs[2].dtype != ctx.inputs[0].dtype) {
    return InvalidArgument("'constant_value' must have the data's dtype " +
                           std::string(DataTypeName(ctx.inputs[0].dtype)));
  }
  const Shape& in = ctx.inputs[0].shape;
  const int64_t rank = static_cast<int64_t>(in.size());
  auto pads = ConstInts(ctx, 1);
  auto axes = ctx.has_input(3) ? ConstInts(ctx, 3) : std::nullopt;
  Shape out(in.size(), -1);
  if (pads && (!ctx.has_input(3) || axes)) {
    QCAL_ASSIGN_OR_RETURN(auto per_dim, PerDimPads(*pads, axes, rank));
    QCAL_ASSIGN_OR_RETURN(out, PaddedShape(in, per_dim));
  }
  outputs[0] = {ctx.inputs[0].dtype, std::move(out)};
  return Status::Ok();
}

// Source index along one dim for each output index (-1: the constant value).
Result<std::vector<int64_t>> SourceIndex(int64_t n, int64_t begin, int64_t out_n, PadMode mode) {
  std::vector<int64_t> map(static_cast<size_t>(out_n));
  for (int64_t i = 0; i < out_n; ++i) {
    int64_t j = i - begin;
    if (j < 0 || j >= n) {
      if (mode == PadMode::kConstant) {
        j = -1;
      } else if (n == 0) {
        return InvalidArgument("cannot pad an empty axis in edge or reflect mode");
      } else if (mode == PadMode::kEdge || n == 1) {
        j = std::clamp<int64_t>(j, 0, n - 1);
      } else {
        const int64_t period = 2 * (n - 1);
        j = ((j % period) + period) % period;
        if (j >= n) j = period - j;
      }
    }
    map[static_cast<size_t>(i)] = j;
  }
  return map;
}

template <typename T>
void PadLoop(const Tensor& x, Tensor& y, const std::vector<std::vector<int64_t>>& maps, T value) {
  const T* src = x.data<T>();
  T* dst = y.data<T>();
  const int64_t n = y.numel();
  const size_t rank = maps.size();
  if (n == 0) return;
  if (rank == 0) {
    dst[0] = src[0];
    return;
  }
  const std::vector<int64_t> strides = Strides(x.shape());
  const std::vector<int64_t>& inner_map = maps[rank - 1];
  const int64_t inner = y.shape()[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < n; o += inner) {
    int64_t base = 0;
    bool constant_row = false;
    for (size_t d = 0; d + 1 < rank; ++d) {
      const int64_t j = maps[d][static_cast<size_t>(idx[d])];
      constant_row |= j < 0;
      base += j * strides[d];
    }
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t j = inner_map[static_cast<size_t>(i)];
      dst[o + i] = constant_row || j < 0 ? value : src[base + j];
    }
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      if (++idx[u] < y.shape()[u]) break;
      idx[u] = 0;
    }
  }
}

Status RunPad(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(PadMode mode, Mode(node));
  std::optional<std::vector<int64_t>> axes;
  if (in.size() > 3 && in[3]) axes = in[3]->ToInt64Vector();
  QCAL_ASSIGN_OR_RETURN(auto pads, PerDimPads(in[1]->ToInt64Vector(), axes, x.rank()));
  QCAL_ASSIGN_OR_RETURN(Shape shape, PaddedShape(x.shape(), pads));
  const Tensor* cv = in.size() > 2 ? in[2] : nullptr;
  if (cv && (cv->dtype() != x.dtype() || cv->numel() != 1)) {
    return InvalidArgument("'constant_value' must be a scalar of the data's dtype");
  }
  std::vector<std::vector<int64_t>> maps;
  for (size_t d = 0; d < shape.size(); ++d) {
    QCAL_ASSIGN_OR_RETURN(auto m, SourceIndex(x.shape()[d], pads[d].first, shape[d], mode));
    maps.push_back(std::move(m));
  }
  Tensor& y = PrepareOutput(out, 0, x.dtype(), shape);
  return DispatchAny(x.dtype(), node.op_type, [&]<typename T>() {
    PadLoop<T>(x, y, maps, cv ? cv->data<T>()[0] : T(0));
  });
}

Result<std::unique_ptr<Kernel>> CreatePad(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunPad); }

}  // namespace

QCAL_REGISTER_OP("Pad", InferPad, 2, 4, 1, 1);
QCAL_REGISTER_KERNEL("Pad", "ref", 0, nullptr, CreatePad);

}  // namespace qcal::ref
