// Convolution, Deconvolution, InnerProduct and Pooling layers.
#include <algorithm>
#include <functional>
#include <numeric>

#include "frontends/caffe/caffe_layers.h"

namespace qcal::caffe_import {
namespace {

struct ConvGeometry {
  std::vector<int64_t> kernel, stride, pad, dilation;
};

// Reads a repeated field that holds either one value for every spatial axis or
// one value per axis; `def` when empty.
Result<std::vector<int64_t>> PerAxis(const LayerContext& ctx,
                                     const google::protobuf::RepeatedField<uint32_t>& v, int64_t spatial,
                                     int64_t def, std::string_view what) {
  if (v.empty()) return std::vector<int64_t>(static_cast<size_t>(spatial), def);
  if (v.size() == 1) return std::vector<int64_t>(static_cast<size_t>(spatial), v[0]);
  if (v.size() != spatial) {
    return ctx.Error(std::string(what) + " has " + std::to_string(v.size()) + " values for " +
                     std::to_string(spatial) + " spatial axes");
  }
  return std::vector<int64_t>(v.begin(), v.end());
}

// Caffe's _h/_w fields override the repeated ones for 2-D convolutions; both of a pair are required.
Result<bool> HasHW(const LayerContext& ctx, bool has_h, bool has_w, int64_t spatial, std::string_view what) {
  if (!has_h && !has_w) return false;
  if (!(has_h && has_w))
    return ctx.Error(std::string(what) + "_h and " + std::string(what) + "_w must be given together");
  if (spatial != 2)
    return ctx.Error(std::string(what) + "_h/_w need a 2-D input, got " + std::to_string(spatial) + "-D");
  return true;
}

Result<ConvGeometry> ReadConvGeometry(const LayerContext& ctx, const caffe::ConvolutionParameter& p,
                                      int64_t spatial) {
  ConvGeometry g;
  QCAL_ASSIGN_OR_RETURN(bool kernel_hw, HasHW(ctx, p.has_kernel_h(), p.has_kernel_w(), spatial, "kernel"));
  if (kernel_hw) {
    g.kernel = {p.kernel_h(), p.kernel_w()};
  } else {
    if (p.kernel_size().empty()) return ctx.Error("no kernel_size (or kernel_h/kernel_w) given");
    QCAL_ASSIGN_OR_RETURN(g.kernel, PerAxis(ctx, p.kernel_size(), spatial, 0, "kernel_size"));
  }
  QCAL_ASSIGN_OR_RETURN(bool stride_hw, HasHW(ctx, p.has_stride_h(), p.has_stride_w(), spatial, "stride"));
  if (stride_hw) {
    g.stride = {p.stride_h(), p.stride_w()};
  } else {
    QCAL_ASSIGN_OR_RETURN(g.stride, PerAxis(ctx, p.stride(), spatial, 1, "stride"));
  }
  QCAL_ASSIGN_OR_RETURN(bool pad_hw, HasHW(ctx, p.has_pad_h(), p.has_pad_w(), spatial, "pad"));
  if (pad_hw) {
    g.pad = {p.pad_h(), p.pad_w()};
  } else {
    QCAL_ASSIGN_OR_RETURN(g.pad, PerAxis(ctx, p.pad(), spatial, 0, "pad"));
  }
  QCAL_ASSIGN_OR_RETURN(g.dilation, PerAxis(ctx, p.dilation(), spatial, 1, "dilation"));
  for (int64_t i = 0; i < spatial; ++i) {
    if (g.kernel[i] <= 0 || g.stride[i] <= 0 || g.dilation[i] <= 0) {
      return ctx.Error("kernel, stride and dilation must be positive");
    }
  }
  return g;
}

std::vector<int64_t> SymmetricPads(const std::vector<int64_t>& pad) {
  std::vector<int64_t> pads = pad;
  pads.insert(pads.end(), pad.begin(), pad.end());
  return pads;
}

struct ConvSetup {
  const caffe::ConvolutionParameter* param;
  ConvGeometry geometry;
  int64_t channels, num_output, group;
};

Result<ConvSetup> ReadConvSetup(const LayerContext& ctx) {
  const auto& p = ctx.layer().convolution_param();
  const Shape& x = ctx.bottom_shape(0);
  if (x.size() < 3) return ctx.Error("input " + ShapeToString(x) + " needs rank >= 3 (N, C, spatial...)");
  if (p.axis() != 1 && p.axis() != 1 - static_cast<int64_t>(x.size())) {
    return ctx.NotSupported("channel axis " + std::to_string(p.axis()) + " (only axis 1 is supported)");
  }
  ConvSetup s{&p, {}, x[1], p.num_output(), p.group()};
  QCAL_ASSIGN_OR_RETURN(s.geometry, ReadConvGeometry(ctx, p, static_cast<int64_t>(x.size()) - 2));
  if (s.num_output <= 0) return ctx.Error("num_output must be positive");
  if (s.group <= 0 || s.channels % s.group != 0 || s.num_output % s.group != 0) {
    return ctx.Error("group " + std::to_string(s.group) + " must divide the input channels (" +
                     std::to_string(s.channels) + ") and num_output (" + std::to_string(s.num_output) + ")");
  }
  return s;
}

void SetConvAttrs(Node& node, const ConvSetup& s) {
  node.attrs.Set("kernel_shape", s.geometry.kernel);
  node.attrs.Set("strides", s.geometry.stride);
  node.attrs.Set("pads", SymmetricPads(s.geometry.pad));
  node.attrs.Set("dilations", s.geometry.dilation);
  node.attrs.Set("group", s.group);
}

// Convolution (forward) or Deconvolution (transposed).
Status ConvertConvLike(LayerContext& ctx, bool transposed) {
  QCAL_ASSIGN_OR_RETURN(ConvSetup s, ReadConvSetup(ctx));
  const Shape& x = ctx.bottom_shape(0);
  const auto& g = s.geometry;
  Shape w_shape =
      transposed ? Shape{s.channels, s.num_output / s.group} : Shape{s.num_output, s.channels / s.group};
  w_shape.insert(w_shape.end(), g.kernel.begin(), g.kernel.end());
  QCAL_ASSIGN_OR_RETURN(Tensor w, ctx.Blob(0, w_shape, "weights"));
  std::vector<std::string> inputs = {ctx.bottom(0), ctx.AddConstant("weight", std::move(w))};
  if (s.param->bias_term()) {
    QCAL_ASSIGN_OR_RETURN(Tensor b, ctx.Blob(1, {s.num_output}, "bias"));
    inputs.push_back(ctx.AddConstant("bias", std::move(b)));
  }
  Shape y = {x[0], s.num_output};
  for (size_t i = 0; i < g.kernel.size(); ++i) {
    const int64_t extent = g.dilation[i] * (g.kernel[i] - 1) + 1;
    const int64_t in = x[i + 2];
    const int64_t out = transposed ? g.stride[i] * (in - 1) + extent - 2 * g.pad[i]
                                   : (in + 2 * g.pad[i] - extent) / g.stride[i] + 1;
    if (out <= 0 || (!transposed && in + 2 * g.pad[i] < extent)) {
      return ctx.Error("input " + ShapeToString(x) + " is too small for the kernel (output size " +
                       std::to_string(out) + " on spatial axis " + std::to_string(i) + ")");
    }
    y.push_back(out);
  }
  Node& node = ctx.AddNode(transposed ? "ConvTranspose" : "Conv", inputs, {ctx.top(0)});
  SetConvAttrs(node, s);
  ctx.SetTopShape(0, y);
  return Status::Ok();
}

Tensor Transpose2D(const Tensor& m) {
  const int64_t rows = m.dim(0), cols = m.dim(1);
  Tensor t(DataType::kFloat32, {cols, rows});
  const float* src = m.data<float>();
  float* dst = t.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
  }
  return t;
}

// Pooling geometry (2-D, Caffe's PoolingLayer): single values or _h/_w pairs.
struct PoolGeometry {
  int64_t kernel[2], stride[2], pad[2];
};

Result<PoolGeometry> ReadPoolGeometry(const LayerContext& ctx, const caffe::PoolingParameter& p) {
  PoolGeometry g;
  if (p.has_kernel_h() != p.has_kernel_w()) return ctx.Error("kernel_h and kernel_w must be given together");
  if (p.has_kernel_h()) {
    g.kernel[0] = p.kernel_h(), g.kernel[1] = p.kernel_w();
  } else if (p.has_kernel_size()) {
    g.kernel[0] = g.kernel[1] = p.kernel_size();
  } else {
    return ctx.Error("no kernel_size (or kernel_h/kernel_w) given");
  }
  if (p.has_stride_h() != p.has_stride_w()) return ctx.Error("stride_h and stride_w must be given together");
  g.stride[0] = p.has_stride_h() ? p.stride_h() : p.stride();
  g.stride[1] = p.has_stride_h() ? p.stride_w() : p.stride();
  const bool pad_hw = p.has_pad_h() || p.has_pad_w();
  g.pad[0] = pad_hw ? p.pad_h() : p.pad();
  g.pad[1] = pad_hw ? p.pad_w() : p.pad();
  for (int i = 0; i < 2; ++i) {
    if (g.kernel[i] <= 0 || g.stride[i] <= 0) return ctx.Error("kernel and stride must be positive");
    if (g.pad[i] >= g.kernel[i]) return ctx.Error("pad must be smaller than the kernel");
  }
  return g;
}

Status ConvertGlobalPooling(LayerContext& ctx, const caffe::PoolingParameter& p) {
  const Shape& x = ctx.bottom_shape(0);
  const char* op = p.pool() == caffe::PoolingParameter::MAX ? "GlobalMaxPool" : "GlobalAveragePool";
  ctx.AddNode(op, {ctx.bottom(0)}, {ctx.top(0)});
  ctx.SetTopShape(0, {x[0], x[1], 1, 1});
  return Status::Ok();
}

}  // namespace

int64_t CaffePooledSize(int64_t in, int64_t kernel, int64_t pad, int64_t stride, bool ceil_mode,
                        bool any_pad) {
  const int64_t span = in + 2 * pad - kernel;  // >= 0 (checked by the caller)
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (any_pad && (out - 1) * stride >= in + pad) --out;
  return out;
}

Status ConvertConvolution(LayerContext& ctx) { return ConvertConvLike(ctx, /*transposed=*/false); }
Status ConvertDeconvolution(LayerContext& ctx) { return ConvertConvLike(ctx, /*transposed=*/true); }

// y = x' W^T + b over the axes from `axis` on. axis 1: Flatten + Gemm; other
// axes: Reshape + MatMul (+ Add), keeping the leading axes.
Status ConvertInnerProduct(LayerContext& ctx) {
  const auto& p = ctx.layer().inner_product_param();
  const Shape& x = ctx.bottom_shape(0);
  QCAL_ASSIGN_OR_RETURN(int64_t axis, ctx.Axis(p.axis(), static_cast<int64_t>(x.size()), "axis"));
  const int64_t k = std::accumulate(x.begin() + axis, x.end(), int64_t{1}, std::multiplies<>());
  const int64_t n = p.num_output();
  if (n <= 0) return ctx.Error("num_output must be positive");
  // Caffe stores W as [num_output, K], or [K, num_output] with transpose: true.
  QCAL_ASSIGN_OR_RETURN(Tensor w, ctx.Blob(0, p.transpose() ? Shape{k, n} : Shape{n, k}, "weights"));
  Tensor bias;
  if (p.bias_term()) {
    QCAL_ASSIGN_OR_RETURN(bias, ctx.Blob(1, {n}, "bias"));
  }
  Shape y(x.begin(), x.begin() + axis);
  y.push_back(n);
  if (axis == 1) {
    std::string flat = ctx.bottom(0);
    if (x.size() != 2) {
      flat = ctx.NewValue("flatten", {x[0], k});
      ctx.AddNode("Flatten", {ctx.bottom(0)}, {flat}, "flatten").attrs.Set("axis", int64_t{1});
    }
    std::vector<std::string> inputs = {flat, ctx.AddConstant("weight", std::move(w))};
    if (p.bias_term()) inputs.push_back(ctx.AddConstant("bias", std::move(bias)));
    Node& gemm = ctx.AddNode("Gemm", inputs, {ctx.top(0)});
    gemm.attrs.Set("transB", int64_t{p.transpose() ? 0 : 1});
    ctx.SetTopShape(0, y);
    return Status::Ok();
  }
  Shape flat_shape(x.begin(), x.begin() + axis);
  flat_shape.push_back(k);
  std::vector<int64_t> spec(static_cast<size_t>(axis), 0);
  spec.push_back(-1);
  std::string flat = ctx.NewValue("flatten", flat_shape);
  ctx.AddNode("Reshape", {ctx.bottom(0), ctx.AddInt64Constant("flatten_shape", spec)}, {flat}, "flatten");
  std::string wt = ctx.AddConstant("weight", p.transpose() ? w : Transpose2D(w));
  std::string mm_out = p.bias_term() ? ctx.NewValue("matmul", y) : ctx.top(0);
  ctx.AddNode("MatMul", {flat, wt}, {mm_out});
  if (p.bias_term())
    ctx.AddNode("Add", {mm_out, ctx.AddConstant("bias", std::move(bias))}, {ctx.top(0)}, "bias_add");
  ctx.SetTopShape(0, y);
  return Status::Ok();
}

// Caffe pooling -> ONNX pooling with explicit (asymmetric) pads and ceil_mode 0:
// the extra end padding reproduces Caffe's rounding of the output size. MAX
// pads with -inf, so it matches directly. AVE divides by the window clipped to
// [-pad, in + pad): with no extra end padding that is the whole window
// (count_include_pad 1); otherwise the Caffe padding is made real with a Pad
// node and the extra end padding is excluded (count_include_pad 0).
Status ConvertPooling(LayerContext& ctx) {
  const auto& p = ctx.layer().pooling_param();
  const Shape& x = ctx.bottom_shape(0);
  if (x.size() != 4) return ctx.Error("input " + ShapeToString(x) + " must be 4-D (N, C, H, W)");
  if (p.pool() == caffe::PoolingParameter::STOCHASTIC) return ctx.NotSupported("STOCHASTIC pooling");
  if (p.global_pooling()) return ConvertGlobalPooling(ctx, p);
  QCAL_ASSIGN_OR_RETURN(PoolGeometry g, ReadPoolGeometry(ctx, p));
  const bool ceil_mode = p.round_mode() == caffe::PoolingParameter::CEIL;
  const bool any_pad = g.pad[0] > 0 || g.pad[1] > 0;
  int64_t out[2], extra[2];
  for (int i = 0; i < 2; ++i) {
    const int64_t in = x[2 + i];
    if (in + 2 * g.pad[i] < g.kernel[i]) {
      return ctx.Error("input " + ShapeToString(x) + " is smaller than the pooling kernel");
    }
    out[i] = CaffePooledSize(in, g.kernel[i], g.pad[i], g.stride[i], ceil_mode, any_pad);
    if ((out[i] - 1) * g.stride[i] - g.pad[i] >= in) {
      return ctx.NotSupported(
          "the last pooling window lies entirely outside the input (stride > kernel without "
          "padding); ONNX pooling cannot express Caffe's result for it");
    }
    extra[i] = std::max<int64_t>(0, (out[i] - 1) * g.stride[i] + g.kernel[i] - (x[2 + i] + 2 * g.pad[i]));
  }
  const bool is_max = p.pool() == caffe::PoolingParameter::MAX;
  const bool has_extra = extra[0] > 0 || extra[1] > 0;
  std::string input = ctx.bottom(0);
  std::vector<int64_t> pads = {g.pad[0], g.pad[1], g.pad[0] + extra[0], g.pad[1] + extra[1]};
  int64_t count_include_pad = any_pad ? 1 : 0;
  if (!is_max && has_extra) {
    count_include_pad = 0;
    if (any_pad) {
      input = ctx.NewValue("pad", {x[0], x[1], x[2] + 2 * g.pad[0], x[3] + 2 * g.pad[1]});
      std::vector<int64_t> spec = {0, 0, g.pad[0], g.pad[1], 0, 0, g.pad[0], g.pad[1]};
      Node& pad = ctx.AddNode("Pad", {ctx.bottom(0), ctx.AddInt64Constant("pads", spec)}, {input}, "pad");
      pad.attrs.Set("mode", std::string("constant"));
      pads = {0, 0, extra[0], extra[1]};
    }
  }
  Node& node = ctx.AddNode(is_max ? "MaxPool" : "AveragePool", {input}, {ctx.top(0)});
  node.attrs.Set("kernel_shape", std::vector<int64_t>{g.kernel[0], g.kernel[1]});
  node.attrs.Set("strides", std::vector<int64_t>{g.stride[0], g.stride[1]});
  node.attrs.Set("pads", pads);
  node.attrs.Set("ceil_mode", int64_t{0});
  if (!is_max) node.attrs.Set("count_include_pad", count_include_pad);
  ctx.SetTopShape(0, {x[0], x[1], out[0], out[1]});
  return Status::Ok();
}

}  // namespace qcal::caffe_import
