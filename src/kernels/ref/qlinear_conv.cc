// QLinearConv: quantized convolution with requantized int8/uint8 output, as
// ONNX Runtime's reference computes it:
//
//   acc[n, m, o] = sum (x - x_zp) * (w - w_zp[m]) + B[m]                      (int32, see int_conv.h)
//   y[n, m, o]   = saturate(round_half_even(float(acc) * (x_scale * w_scale[m] / y_scale)) + y_zp)
//
// Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
// y_zero_point, B (optional int32 [M]). x: int8/uint8 [N, C, d...] (1-3 spatial
// dims); w: int8/uint8 [M, C/group, k...]. x and y scale / zero point are
// per-tensor; w_scale / w_zero_point per-tensor or 1-D [M] (per output channel).
// The output dtype is y_zero_point's. Attributes as Conv.
#include "kernels/ref/int_conv.h"
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::ref {
namespace {

enum Input { kX = 0, kXScale, kXZp, kW, kWScale, kWZp, kYScale, kYZp, kBias };

Status InferQLinearConv(const OpContext& ctx, std::vector<TensorType>& outputs) {
  const std::initializer_list<DataType> q = {DataType::kInt8, DataType::kUint8};
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kX, q));
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kW, q));
  QCAL_ASSIGN_OR_RETURN(IntConvProblem p,
                        MakeIntConvProblem(ctx.node, ctx.inputs[kX].shape, ctx.inputs[kW].shape));
  const int64_t m = p.out_channels;
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kXScale, "x_scale", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kXZp, "x_zero_point", {ctx.inputs[kX].dtype}));
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kWScale, "w_scale", m, "output channels", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(
      CheckVectorParam(ctx, kWZp, "w_zero_point", m, "output channels", {ctx.inputs[kW].dtype}));
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kYScale, "y_scale", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kYZp, "y_zero_point", q));
  if (ctx.has_input(kBias)) {
    QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kBias, {DataType::kInt32}));
    const Shape& b = ctx.inputs[kBias].shape;
    if (b.size() != 1 || (b[0] >= 0 && m >= 0 && b[0] != m)) {
      return InvalidArgument("bias B has shape " + ShapeToString(b) + ", expected [" + std::to_string(m) +
                             "]");
    }
  }
  outputs[0] = TensorType{ctx.inputs[kYZp].dtype, p.out_shape};
  return Status::Ok();
}

Status RunQLinearConv(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[kX];
  const Tensor& w = *in[kW];
  const Tensor& y_zp_t = *in[kYZp];
  const Tensor* bias = OptionalInput(in, kBias);
  QCAL_ASSIGN_OR_RETURN(IntConvProblem p, MakeIntConvProblem(node, x.shape(), w.shape()));
  const int64_t m_count = p.out_channels;
  QCAL_ASSIGN_OR_RETURN(auto x_scale, ReadScales(*in[kXScale], 1, "x_scale"));
  QCAL_ASSIGN_OR_RETURN(auto x_zp, ReadZeroPoints(in[kXZp], 1, "x_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto w_scale, ReadScales(*in[kWScale], m_count, "w_scale"));
  QCAL_ASSIGN_OR_RETURN(auto w_zp, ReadZeroPoints(in[kWZp], m_count, "w_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto y_scale, ReadScales(*in[kYScale], 1, "y_scale"));
  QCAL_ASSIGN_OR_RETURN(auto y_zp, ReadZeroPoints(&y_zp_t, 1, "y_zero_point"));
  if (bias && (bias->dtype() != DataType::kInt32 || bias->numel() != m_count)) {
    return InvalidArgument("bias B must be int32 with " + std::to_string(m_count) + " elements, got " +
                           std::string(DataTypeName(bias->dtype())) + " " + ShapeToString(bias->shape()));
  }

  std::vector<int32_t> acc = IntConv(p, x, x_zp[0], w, w_zp);
  const int64_t spatial = NumElements(p.out_shape) / std::max<int64_t>(1, p.batch * m_count);
  Tensor& y = PrepareOutput(out, 0, y_zp_t.dtype(), p.out_shape);
  return quant::DispatchQuantType(y_zp_t.dtype(), node.Describe(), [&]<typename Q>() {
    Q* dst = y.data<Q>();
    for (int64_t n = 0; n < p.batch; ++n) {
      for (int64_t m = 0; m < m_count; ++m) {
        const float mult = quant::RequantMultiplier(x_scale[0], ParamAt(w_scale, m), y_scale[0]);
        const int32_t b = bias ? bias->data<int32_t>()[m] : 0;
        const size_t base = static_cast<size_t>((n * m_count + m) * spatial);
        for (int64_t i = 0; i < spatial; ++i) {
          // int32 addition with wrap-around, like the accumulation.
          const int32_t a =
              static_cast<int32_t>(static_cast<uint32_t>(acc[base + i]) + static_cast<uint32_t>(b));
          dst[base + i] = quant::Requantize<Q>(a, mult, y_zp[0]);
        }
      }
    }
  });
}

Result<std::unique_ptr<Kernel>> CreateQLinearConv(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunQLinearConv);
}

}  // namespace

QCAL_REGISTER_OP("QLinearConv", InferQLinearConv, 8, 9, 1, 1);
QCAL_REGISTER_KERNEL("QLinearConv", "ref", 0, nullptr, CreateQLinearConv);

}  // namespace qcal::ref
