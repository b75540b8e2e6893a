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
// The output dtype is y_zero_point's. Attributes as Conv. The kernel is
// QcalQConv's (its output stage with y given and no activation bounds is the formula above).
#include "kernels/ref/int_conv.h"
#include "kernels/ref/qcal_qconv.h"
#include "kernels/ref/quant_common.h"

namespace qcal::ref {
namespace {

enum Input { kX = 0, kXScale, kXZp, kW, kWScale, kWZp, kYScale, kYZp, kBias };

Status InferQLinearConv(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_ASSIGN_OR_RETURN(IntConvProblem p, CheckQConvOperands(ctx));
  const int64_t m = p.out_channels;
  const std::initializer_list<DataType> q = {DataType::kInt8, DataType::kUint8};
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

Result<std::unique_ptr<Kernel>> CreateQLinearConv(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunQcalQConv);
}

}  // namespace

QCAL_REGISTER_OP("QLinearConv", InferQLinearConv, 8, 9, 1, 1);
QCAL_REGISTER_KERNEL("QLinearConv", "ref", 0, nullptr, CreateQLinearConv);

}  // namespace qcal::ref
