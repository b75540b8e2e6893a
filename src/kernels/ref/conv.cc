// Conv (ONNX opset 1/11): float32, 1-3 spatial dims, groups (incl. depthwise),
// strides, dilations, explicit pads or auto_pad, optional bias.
//
//   y[n, m, o] = B[m] + sum_{c, k} x[n, g*C/G + c, o*stride - pad_begin + k*dilation] * w[m, c, k]
//
// where g = m / (M/G) is the group of output channel m, c runs over the C/G input
// channels of that group, k over the kernel window, and taps falling into the
// padding contribute 0. Computed per group as im2col + a naive matrix product.
#include "kernels/ref/conv.h"

#include <algorithm>

#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"
#include "kernels/ref/gemm_core.h"

namespace qcal::ref {
namespace {

struct ConvDims {
  int64_t batch = -1, in_channels = -1, out_channels = -1, group = 1;
  WindowGeometry geo;
};

// Validates shapes/attributes and computes the geometry; unknown (-1) dims propagate.
Result<ConvDims> ResolveConv(const Node& node, const Shape& x, const Shape& w, const TensorType* bias) {
  if (x.size() < 3 || x.size() > 5) {
    return Unsupported("input X has rank " + std::to_string(x.size()) +
                       "; Conv supports [N, C, d1..dk] with 1-3 spatial dims");
  }
  if (w.size() != x.size()) {
    return InvalidArgument("weight W has shape " + ShapeToString(w) + ", expected rank " +
                           std::to_string(x.size()) + " like X " + ShapeToString(x));
  }
  ConvDims d;
  d.batch = x[0];
  d.in_channels = x[1];
  d.out_channels = w[0];
  d.group = node.attrs.GetInt("group", 1);
  if (d.group < 1) return InvalidArgument("group must be >= 1, got " + std::to_string(d.group));
  if (d.in_channels >= 0 && w[1] >= 0 && w[1] * d.group != d.in_channels) {
    return InvalidArgument("X has " + std::to_string(d.in_channels) + " channels but W " + ShapeToString(w) +
                           " with group " + std::to_string(d.group) + " expects " +
                           std::to_string(w[1] * d.group));
  }
  if (d.out_channels >= 0 && d.out_channels % d.group != 0) {
    return InvalidArgument("W has " + std::to_string(d.out_channels) +
                           " output channels, not divisible by group " + std::to_string(d.group));
  }
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
    if (!same) {
      return InvalidArgument("attribute kernel_shape does not match the weight shape " + ShapeToString(w));
    }
    kernel = attr;
  }
  std::vector<int64_t> in = SpatialDims(x);
  // An unknown kernel extent makes the output extent unknown too.
  for (size_t i = 0; i < kernel.size(); ++i) {
    if (kernel[i] < 0) {
      kernel[i] = 1;
      in[i] = -1;
    }
  }
  QCAL_ASSIGN_OR_RETURN(WindowParams p, ReadWindowParams(node, in.size(), kernel, /*allow_ceil_mode=*/false));
  QCAL_ASSIGN_OR_RETURN(d.geo, ComputeWindowGeometry(in, p));
  return d;
}

}  // namespace

Status InferConv(const OpContext& ctx, std::vector<TensorType>& outputs) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i)) QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, i, {DataType::kFloat32}));
  }
  const TensorType* bias = ctx.has_input(2) ? &ctx.inputs[2] : nullptr;
  QCAL_ASSIGN_OR_RETURN(ConvDims d, ResolveConv(ctx.node, ctx.inputs[0].shape, ctx.inputs[1].shape, bias));
  Shape out = {d.batch, d.out_channels};
  out.insert(out.end(), d.geo.out.begin(), d.geo.out.end());
  outputs[0] = {DataType::kFloat32, out};
  return Status::Ok();
}

namespace {

// im2col: for every input channel c and kernel tap k, row (c, k) of `col` holds the
// input value each output position reads through that tap (0 in the padding):
//   col[(c*K + k), o] = x[c, o*stride - pad_begin + k*dilation]
// so that the convolution of one group is the matrix product W[M/G, C/G*K] * col.
void Im2Col(const Window3d& g, const float* x, int64_t channels, float* col) {
  const int64_t in_hw = g.in[1] * g.in[2];
  const int64_t out_size = g.out[0] * g.out[1] * g.out[2];
  for (int64_t c = 0; c < channels; ++c) {
    const float* x_c = x + c * g.in[0] * in_hw;
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t off_d = kd * g.dilations[0] - g.pad_begin[0];
      int64_t od_lo, od_hi;
      ValidRange(off_d, g.strides[0], g.in[0], g.out[0], &od_lo, &od_hi);
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        const int64_t off_h = kh * g.dilations[1] - g.pad_begin[1];
        int64_t oh_lo, oh_hi;
        ValidRange(off_h, g.strides[1], g.in[1], g.out[1], &oh_lo, &oh_hi);
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, col += out_size) {
          const int64_t off_w = kw * g.dilations[2] - g.pad_begin[2];
          int64_t ow_lo, ow_hi;
          ValidRange(off_w, g.strides[2], g.in[2], g.out[2], &ow_lo, &ow_hi);
          std::fill(col, col + out_size, 0.0f);
          for (int64_t od = od_lo; od < od_hi; ++od) {
            for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
              const float* x_row = x_c + (od * g.strides[0] + off_d) * in_hw + (oh * g.strides[1] + off_h) * g.in[2];
              float* col_row = col + (od * g.out[1] + oh) * g.out[2];
              for (int64_t ow = ow_lo; ow < ow_hi; ++ow) col_row[ow] = x_row[ow * g.strides[2] + off_w];
            }
          }
        }
      }
    }
  }
}

}  // namespace

Status RunConv(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const Tensor& w = *in[1];
  const Tensor* b = in.size() > 2 ? in[2] : nullptr;
  TensorType bias_type = b ? TensorType{b->dtype(), b->shape()} : TensorType{};
  QCAL_ASSIGN_OR_RETURN(ConvDims d, ResolveConv(node, x.shape(), w.shape(), &bias_type));
  Shape y_shape = {d.batch, d.out_channels};
  y_shape.insert(y_shape.end(), d.geo.out.begin(), d.geo.out.end());
  Tensor& y = PrepareOutput(out, 0, DataType::kFloat32, y_shape);

  const Window3d g = To3d(d.geo);
  const int64_t in_size = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_size = g.out[0] * g.out[1] * g.out[2];
  const int64_t k_size = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const int64_t c_per_group = d.in_channels / d.group;
  const int64_t m_per_group = d.out_channels / d.group;
  const float* xd = x.data<float>();
  const float* wd = w.data<float>();
  float* yd = y.data<float>();
  const int64_t group_k = c_per_group * k_size;  // columns of one group's weight matrix
  std::vector<float> col(static_cast<size_t>(group_k * out_size));
  for (int64_t n = 0; n < d.batch; ++n) {
    float* y_n = yd + n * d.out_channels * out_size;
    for (int64_t m = 0; m < d.out_channels; ++m) {
      std::fill(y_n + m * out_size, y_n + (m + 1) * out_size, b ? b->data<float>()[m] : 0.0f);
    }
    for (int64_t grp = 0; grp < d.group; ++grp) {
      Im2Col(g, xd + (n * d.in_channels + grp * c_per_group) * in_size, c_per_group, col.data());
      MatMulAccumulate(wd + grp * m_per_group * group_k, col.data(), y_n + grp * m_per_group * out_size, m_per_group,
                       group_k, out_size, false, false);
    }
  }
  return Status::Ok();
}

namespace {

Result<std::unique_ptr<Kernel>> CreateConv(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunConv); }

}  // namespace

QCAL_REGISTER_OP("Conv", InferConv, 2, 3, 1, 1);
QCAL_REGISTER_KERNEL("Conv", "ref", 0, nullptr, CreateConv);

}  // namespace qcal::ref
