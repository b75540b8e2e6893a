// ConvInteger: y = conv(x - x_zero_point, w - w_zero_point), int32 output.
//
// x: int8 or uint8 [N, C, d...] (1 to 3 spatial dims); w: int8 or uint8
// [M, C/group, k...]. x_zero_point: optional per-tensor, x's type.
// w_zero_point: optional, w's type, per-tensor or 1-D [M] (per output channel).
// Attributes as Conv: auto_pad, dilations, group, kernel_shape, pads, strides.
// The padding value is x_zero_point (padded taps contribute 0). See int_conv.h.
#include "kernels/ref/int_conv.h"
#include "kernels/ref/quant_common.h"

namespace qcal::ref {
namespace {

enum Input { kX = 0, kW, kXZp, kWZp };

Status InferConvInteger(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kX, {DataType::kInt8, DataType::kUint8}));
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kW, {DataType::kInt8, DataType::kUint8}));
  QCAL_ASSIGN_OR_RETURN(IntConvProblem p,
                        MakeIntConvProblem(ctx.node, ctx.inputs[kX].shape, ctx.inputs[kW].shape));
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kXZp, "x_zero_point", {ctx.inputs[kX].dtype}));
  QCAL_RETURN_IF_ERROR(
      CheckVectorParam(ctx, kWZp, "w_zero_point", p.out_channels, "output channels", {ctx.inputs[kW].dtype}));
  outputs[0] = TensorType{DataType::kInt32, p.out_shape};
  return Status::Ok();
}

Status RunConvInteger(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[kX];
  const Tensor& w = *in[kW];
  QCAL_ASSIGN_OR_RETURN(IntConvProblem p, MakeIntConvProblem(node, x.shape(), w.shape()));
  QCAL_ASSIGN_OR_RETURN(auto x_zp, ReadZeroPoints(OptionalInput(in, kXZp), 1, "x_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto w_zp, ReadZeroPoints(OptionalInput(in, kWZp), p.out_channels, "w_zero_point"));
  std::vector<int32_t> acc = IntConv(p, x, x_zp[0], w, w_zp);
  Tensor& y = PrepareOutput(out, 0, DataType::kInt32, p.out_shape);
  std::copy(acc.begin(), acc.end(), y.data<int32_t>());
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateConvInteger(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunConvInteger);
}

}  // namespace

QCAL_REGISTER_OP("ConvInteger", InferConvInteger, 2, 4, 1, 1);
QCAL_REGISTER_KERNEL("ConvInteger", "ref", 0, nullptr, CreateConvInteger);

}  // namespace qcal::ref
