// AveragePool (ONNX opset 1-19): float32; 1-3 spatial dims; strides, dilations,
// pads / auto_pad, ceil_mode, count_include_pad.
//
//   y[n, c, o] = sum of x over the window taps inside the input / count
//
// count = taps inside the input (count_include_pad = 0), or all kernel taps
// (count_include_pad = 1). With ceil_mode, taps of the last window that run past
// the end padding count too (ONNX reference / node tests; PyTorch excludes them).
#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"

namespace qcal::ref {
namespace {

Result<bool> CountIncludePad(const Node& node) {
  int64_t v = node.attrs.GetInt("count_include_pad", 0);
  if (v != 0 && v != 1) return InvalidArgument("count_include_pad must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

Status InferAveragePool(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CountIncludePad(ctx.node).status());
  const Shape& x = ctx.inputs[0].shape;
  QCAL_ASSIGN_OR_RETURN(WindowGeometry g, PoolGeometry(ctx.node, x));
  Shape y = {x[0], x[1]};
  y.insert(y.end(), g.out.begin(), g.out.end());
  outputs[0] = {DataType::kFloat32, y};
  return Status::Ok();
}

// Pools one [D, H, W] plane.
void AveragePoolPlane(const Window3d& g, bool include_pad, const float* x, float* y) {
  const int64_t window_taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
  for (int64_t od = 0; od < g.out[0]; ++od) {
    const int64_t d0 = od * g.strides[0] - g.pad_begin[0];
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const int64_t h0 = oh * g.strides[1] - g.pad_begin[1];
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        const int64_t w0 = ow * g.strides[2] - g.pad_begin[2];
        double sum = 0;
        int64_t inside = 0;
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          const int64_t id = d0 + kd * g.dilations[0];
          if (id < 0 || id >= g.in[0]) continue;
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            const int64_t ih = h0 + kh * g.dilations[1];
            if (ih < 0 || ih >= g.in[1]) continue;
            const float* row = x + (id * g.in[1] + ih) * g.in[2];
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const int64_t iw = w0 + kw * g.dilations[2];
              if (iw >= 0 && iw < g.in[2]) {
                sum += row[iw];
                ++inside;
              }
            }
          }
        }
        const int64_t count = include_pad ? window_taps : inside;
        *y++ = count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
      }
    }
  }
}

Status RunAveragePool(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(bool include_pad, CountIncludePad(node));
  QCAL_ASSIGN_OR_RETURN(WindowGeometry geo, PoolGeometry(node, x.shape()));
  Shape y_shape = {x.dim(0), x.dim(1)};
  y_shape.insert(y_shape.end(), geo.out.begin(), geo.out.end());
  Tensor& y = PrepareOutput(out, 0, DataType::kFloat32, y_shape);
  const Window3d g = To3d(geo);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_size = g.out[0] * g.out[1] * g.out[2];
  for (int64_t p = 0; p < planes; ++p) {
    AveragePoolPlane(g, include_pad, x.data<float>() + p * in_size, y.data<float>() + p * out_size);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateAveragePool(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunAveragePool);
}

}  // namespace

QCAL_REGISTER_OP("AveragePool", InferAveragePool, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("AveragePool", "ref", 0, nullptr, CreateAveragePool);

}  // namespace qcal::ref
