// ConvTranspose (ONNX opset 1/11): float32, 1-3 spatial dims, groups, strides,
// dilations, pads, output_padding, output_shape, auto_pad, optional bias.
// W has shape [C, M/group, k1..kn]; every input element scatters into the output:
//
//   y[n, m, i*stride - pad_begin + k*dilation] += x[n, c, i] * w[c, m - g*M/G, k]   (c in group g)
//
// plus B[m]. Output size per spatial dim (dk = (k-1)*dilation + 1):
//   out = stride*(in-1) + output_padding + dk - pad_begin - pad_end
// With output_shape (or auto_pad SAME_*, where out = in*stride) the pads are derived
// from total = stride*(in-1) + output_padding + dk - out: SAME_UPPER puts total/2 at
// the beginning, otherwise the beginning gets total - total/2 (ONNX spec).
#include <algorithm>

#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"

namespace qcal::ref {
namespace {

struct ConvTransposeDims {
  int64_t batch = -1, in_channels = -1, out_channels = -1, group = 1;
  WindowGeometry geo;  // geo.in = input spatial dims, geo.out = output spatial dims
};

Result<std::vector<int64_t>> SpatialAttr(const Node& node, const std::string& name, size_t rank, int64_t def,
                                         int64_t min_value) {
  if (!node.attrs.Has(name)) return std::vector<int64_t>(rank, def);
  std::vector<int64_t> v = node.attrs.GetInts(name);
  if (v.size() != rank) {
    return InvalidArgument("attribute " + name + " has " + std::to_string(v.size()) + " values, expected " +
                           std::to_string(rank));
  }
  for (int64_t x : v) {
    if (x < min_value) return InvalidArgument("attribute " + name + " has a value below " + std::to_string(min_value));
  }
  return v;
}

Status ComputeTransposeGeometry(const Node& node, std::vector<int64_t> kernel, WindowGeometry& g) {
  const size_t r = g.in.size();
  QCAL_ASSIGN_OR_RETURN(WindowParams p, ReadWindowParams(node, r, std::move(kernel), /*allow_ceil_mode=*/false));
  QCAL_ASSIGN_OR_RETURN(std::vector<int64_t> out_pad, SpatialAttr(node, "output_padding", r, 0, 0));
  std::vector<int64_t> out_shape;
  if (node.attrs.Has("output_shape")) {
    out_shape = node.attrs.GetInts("output_shape");
    if (out_shape.size() == r + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);  // full shape given
    if (out_shape.size() != r) {
      return InvalidArgument("attribute output_shape has " + std::to_string(out_shape.size()) + " values, expected " +
                             std::to_string(r));
    }
  }
  g.kernel = p.kernel;
  g.strides = p.strides;
  g.dilations = p.dilations;
  g.out.assign(r, -1);
  g.pad_begin.assign(r, 0);
  g.pad_end.assign(r, 0);
  const bool same = p.auto_pad == AutoPad::kSameUpper || p.auto_pad == AutoPad::kSameLower;
  for (size_t i = 0; i < r; ++i) {
    const int64_t s = p.strides[i], in = g.in[i];
    if (out_pad[i] >= std::max(s, p.dilations[i])) {
      return InvalidArgument("output_padding " + std::to_string(out_pad[i]) + " must be smaller than the stride or dilation");
    }
    const int64_t dk = (p.kernel[i] - 1) * p.dilations[i] + 1;
    const int64_t natural = s * (in - 1) + out_pad[i] + dk;  // output size with zero pads
    if (!out_shape.empty() || same) {
      if (in < 0 && out_shape.empty()) continue;
      g.out[i] = out_shape.empty() ? in * s : out_shape[i];
      if (in < 0) continue;
      const int64_t total = natural - g.out[i];
      g.pad_begin[i] = p.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      g.pad_end[i] = total - g.pad_begin[i];
    } else {
      if (p.auto_pad == AutoPad::kNotSet) {
        g.pad_begin[i] = p.pads[i];
        g.pad_end[i] = p.pads[r + i];
      }
      if (in < 0) continue;
      g.out[i] = natural - g.pad_begin[i] - g.pad_end[i];
    }
    if (g.out[i] < 1) return InvalidArgument("spatial dim " + std::to_string(i) + " gives an empty output");
  }
  return Status::Ok();
}

Result<ConvTransposeDims> ResolveConvTranspose(const Node& node, const Shape& x, const Shape& w,
                                               const TensorType* bias) {
  if (x.size() < 3 || x.size() > 5) {
    return Unsupported("input X has rank " + std::to_string(x.size()) +
                       "; ConvTranspose supports [N, C, d1..dk] with 1-3 spatial dims");
  }
  if (w.size() != x.size()) {
    return InvalidArgument("weight W has shape " + ShapeToString(w) + ", expected rank " + std::to_string(x.size()));
  }
  ConvTransposeDims d;
  d.batch = x[0];
  d.in_channels = x[1];
  d.group = node.attrs.GetInt("group", 1);
  if (d.group < 1) return InvalidArgument("group must be >= 1, got " + std::to_string(d.group));
  if (d.in_channels >= 0 && w[0] >= 0 && w[0] != d.in_channels) {
    return InvalidArgument("X has " + std::to_string(d.in_channels) + " channels but W " + ShapeToString(w) +
                           " expects " + std::to_string(w[0]));
  }
  if (w[0] >= 0 && w[0] % d.group != 0) {
    return InvalidArgument("W " + ShapeToString(w) + ": input channels not divisible by group " +
                           std::to_string(d.group));
  }
  d.out_channels = w[1] < 0 ? -1 : w[1] * d.group;
  if (bias && bias->present()) {
    if (bias->shape.size() != 1 || (bias->shape[0] >= 0 && d.out_channels >= 0 && bias->shape[0] != d.out_channels)) {
      return InvalidArgument("bias B has shape " + ShapeToString(bias->shape) + ", expected [" +
                             std::to_string(d.out_channels) + "]");
    }
  }
  std::vector<int64_t> kernel = SpatialDims(w);
  if (node.attrs.Has("kernel_shape")) {
    std::vector<int64_t> attr = node.attrs.GetInts("kernel_shape");
    bool same = attr.size() == kernel.size();
    for (size_t i = 0; same && i < attr.size(); ++i) same = kernel[i] < 0 || kernel[i] == attr[i];
    if (!same) return InvalidArgument("attribute kernel_shape does not match the weight shape " + ShapeToString(w));
    kernel = attr;
  }
  d.geo.in = SpatialDims(x);
  for (size_t i = 0; i < kernel.size(); ++i) {
    if (kernel[i] < 0) {  // unknown kernel extent: unknown output extent
      kernel[i] = 1;
      d.geo.in[i] = -1;
    }
  }
  QCAL_RETURN_IF_ERROR(ComputeTransposeGeometry(node, kernel, d.geo));
  d.geo.in = SpatialDims(x);
  return d;
}

Shape OutputShape(const ConvTransposeDims& d) {
  Shape out = {d.batch, d.out_channels};
  out.insert(out.end(), d.geo.out.begin(), d.geo.out.end());
  return out;
}

Status InferConvTranspose(const OpContext& ctx, std::vector<TensorType>& outputs) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i)) QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, i, {DataType::kFloat32}));
  }
  const TensorType* bias = ctx.has_input(2) ? &ctx.inputs[2] : nullptr;
  QCAL_ASSIGN_OR_RETURN(ConvTransposeDims d,
                        ResolveConvTranspose(ctx.node, ctx.inputs[0].shape, ctx.inputs[1].shape, bias));
  outputs[0] = {DataType::kFloat32, OutputShape(d)};
  return Status::Ok();
}

// Scatters one input channel through one filter slice into one output channel plane.
// g.in / g.out are the input / output spatial dims.
void ScatterChannel(const Window3d& g, const float* x, const float* w, float* y) {
  const int64_t in_hw = g.in[1] * g.in[2];
  const int64_t out_hw = g.out[1] * g.out[2];
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
    const int64_t off_d = kd * g.dilations[0] - g.pad_begin[0];
    int64_t id_lo, id_hi;
    ValidRange(off_d, g.strides[0], g.out[0], g.in[0], &id_lo, &id_hi);
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      const int64_t off_h = kh * g.dilations[1] - g.pad_begin[1];
      int64_t ih_lo, ih_hi;
      ValidRange(off_h, g.strides[1], g.out[1], g.in[1], &ih_lo, &ih_hi);
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        const int64_t off_w = kw * g.dilations[2] - g.pad_begin[2];
        int64_t iw_lo, iw_hi;
        ValidRange(off_w, g.strides[2], g.out[2], g.in[2], &iw_lo, &iw_hi);
        const float wv = *w++;
        for (int64_t id = id_lo; id < id_hi; ++id) {
          for (int64_t ih = ih_lo; ih < ih_hi; ++ih) {
            const float* x_row = x + id * in_hw + ih * g.in[2];
            float* y_row = y + (id * g.strides[0] + off_d) * out_hw + (ih * g.strides[1] + off_h) * g.out[2];
            for (int64_t iw = iw_lo; iw < iw_hi; ++iw) y_row[iw * g.strides[2] + off_w] += wv * x_row[iw];
          }
        }
      }
    }
  }
}

Status RunConvTranspose(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const Tensor& w = *in[1];
  const Tensor* b = in.size() > 2 ? in[2] : nullptr;
  TensorType bias_type = b ? TensorType{b->dtype(), b->shape()} : TensorType{};
  QCAL_ASSIGN_OR_RETURN(ConvTransposeDims d, ResolveConvTranspose(node, x.shape(), w.shape(), &bias_type));
  Tensor& y = PrepareOutput(out, 0, DataType::kFloat32, OutputShape(d));

  const Window3d g = To3d(d.geo);
  const int64_t in_size = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_size = g.out[0] * g.out[1] * g.out[2];
  const int64_t k_size = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const int64_t c_per_group = d.in_channels / d.group;
  const int64_t m_per_group = d.out_channels / d.group;
  const float* xd = x.data<float>();
  const float* wd = w.data<float>();
  float* yd = y.data<float>();
  for (int64_t n = 0; n < d.batch; ++n) {
    for (int64_t m = 0; m < d.out_channels; ++m) {
      float* y_m = yd + (n * d.out_channels + m) * out_size;
      std::fill(y_m, y_m + out_size, b ? b->data<float>()[m] : 0.0f);
    }
    for (int64_t c = 0; c < d.in_channels; ++c) {
      const int64_t group = c / c_per_group;
      const float* x_c = xd + (n * d.in_channels + c) * in_size;
      for (int64_t ml = 0; ml < m_per_group; ++ml) {
        float* y_m = yd + (n * d.out_channels + group * m_per_group + ml) * out_size;
        ScatterChannel(g, x_c, wd + (c * m_per_group + ml) * k_size, y_m);
      }
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateConvTranspose(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunConvTranspose);
}

}  // namespace

QCAL_REGISTER_OP("ConvTranspose", InferConvTranspose, 2, 3, 1, 1);
QCAL_REGISTER_KERNEL("ConvTranspose", "ref", 0, nullptr, CreateConvTranspose);

}  // namespace qcal::ref
