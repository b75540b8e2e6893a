// MaxPool (ONNX opset 1-12): float32, int8, uint8; 1-3 spatial dims; strides,
// dilations, pads / auto_pad, ceil_mode. storage_order only affects the Indices
// output, which is not supported (an explicit second output is an error).
//
//   y[n, c, o] = max over kernel taps k inside the input of x[n, c, o*stride - pad_begin + k*dilation]
//
// Padding never wins the max (a window with no tap inside the input, possible only
// with pads >= kernel, yields the lowest value of the type).
#include <algorithm>
#include <limits>

#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"

namespace qcal::ref {
namespace {

Status InferMaxPool(const OpContext& ctx, std::vector<TensorType>& outputs) {
  if (ctx.node.outputs.size() > 1 && !ctx.node.outputs[1].empty()) {
    return Unsupported("the optional second output Indices is not supported; remove it from the model");
  }
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32, DataType::kInt8, DataType::kUint8}));
  const Shape& x = ctx.inputs[0].shape;
  QCAL_ASSIGN_OR_RETURN(WindowGeometry g, PoolGeometry(ctx.node, x));
  Shape y = {x[0], x[1]};
  y.insert(y.end(), g.out.begin(), g.out.end());
  outputs[0] = {ctx.inputs[0].dtype, y};
  return Status::Ok();
}

// Pools one [D, H, W] plane.
template <typename T>
void MaxPoolPlane(const Window3d& g, const T* x, T* y) {
  for (int64_t od = 0; od < g.out[0]; ++od) {
    const int64_t d0 = od * g.strides[0] - g.pad_begin[0];
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const int64_t h0 = oh * g.strides[1] - g.pad_begin[1];
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        const int64_t w0 = ow * g.strides[2] - g.pad_begin[2];
        T best = std::numeric_limits<T>::lowest();
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          const int64_t id = d0 + kd * g.dilations[0];
          if (id < 0 || id >= g.in[0]) continue;
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            const int64_t ih = h0 + kh * g.dilations[1];
            if (ih < 0 || ih >= g.in[1]) continue;
            const T* row = x + (id * g.in[1] + ih) * g.in[2];
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const int64_t iw = w0 + kw * g.dilations[2];
              if (iw >= 0 && iw < g.in[2]) best = std::max(best, row[iw]);
            }
          }
        }
        *y++ = best;
      }
    }
  }
}

Status RunMaxPool(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(WindowGeometry geo, PoolGeometry(node, x.shape()));
  Shape y_shape = {x.dim(0), x.dim(1)};
  y_shape.insert(y_shape.end(), geo.out.begin(), geo.out.end());
  Tensor& y = PrepareOutput(out, 0, x.dtype(), y_shape);
  const Window3d g = To3d(geo);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_size = g.out[0] * g.out[1] * g.out[2];
  auto run = [&]<typename T>() {
    for (int64_t p = 0; p < planes; ++p) MaxPoolPlane<T>(g, x.data<T>() + p * in_size, y.data<T>() + p * out_size);
  };
  switch (x.dtype()) {
    case DataType::kFloat32: run.operator()<float>(); break;
    case DataType::kInt8: run.operator()<int8_t>(); break;
    case DataType::kUint8: run.operator()<uint8_t>(); break;
    default: return Unsupported("data type " + std::string(DataTypeName(x.dtype())) + " is not supported");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateMaxPool(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunMaxPool);
}

}  // namespace

QCAL_REGISTER_OP("MaxPool", InferMaxPool, 1, 1, 1, 2);
QCAL_REGISTER_KERNEL("MaxPool", "ref", 0, nullptr, CreateMaxPool);

}  // namespace qcal::ref
