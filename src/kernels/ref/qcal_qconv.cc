// QcalQConv (qcal-internal, made by the FuseQuantizedOps pass): a quantized
// convolution with an optional activation and either a requantized int8/uint8
// output or a float32 output:
//
//   acc[n, m, o] = sum (x - x_zp) * (w - w_zp[m]) + B[m]        int32 (see int_conv.h)
//   y[n, m, o]   = output stage of acc for channel m           (see quant_output.h)
//
// Inputs: x, x_scale, x_zero_point, w, w_scale, [w_zero_point], [y_scale,
// y_zero_point], [B], [Z]. x: int8/uint8 [N, C, d...]; w: int8/uint8 [M, C/group, k...];
// x_scale / x_zero_point per-tensor; w_scale / w_zero_point per-tensor or [M];
// y_scale / y_zero_point per-tensor, both given (output dtype = y_zero_point's)
// or both empty (float32 output); B int32 [M] (optional); Z float32 of Y's shape
// (optional, float output only): the residual, y = residual_act(y + Z);
// q_scale, q_zero_point (inputs 10, 11, float output only, with a second output):
// per-tensor parameters of the second output Yq = QuantizeLinear(y, q_scale,
// q_zero_point) (int8/uint8 of q_zero_point's type; made by FuseQuantizedOps
// from a QuantizeLinear that reads y).
// Attributes: those of Conv, plus optional floats activation_min / activation_max
// and the optional string residual_activation (with Z; see quant_output.h).
// With y given and no activation this is QLinearConv.
#include "kernels/ref/qcal_qconv.h"

#include "kernels/ref/int_conv.h"
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"
#include "kernels/ref/quant_output.h"

namespace qcal::ref {
namespace {

enum Input { kX = 0, kXScale, kXZp, kW, kWScale, kWZp, kYScale, kYZp, kBias, kZ, kQScale, kQZp };

}  // namespace

Result<IntConvProblem> CheckQConvOperands(const OpContext& ctx) {
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
  return p;
}

namespace {

bool SameShape(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

// Z (if any): float32 of Y's shape, with a float output; residual_activation only with Z.
Status CheckResidual(const OpContext& ctx, DataType out, const Shape& y_shape) {
  QCAL_ASSIGN_OR_RETURN(ResidualActivation act, ReadResidualActivation(ctx.node));
  if (!ctx.has_input(kZ)) {
    if (act != ResidualActivation::kNone) return InvalidArgument("residual_activation needs the input Z");
    return Status::Ok();
  }
  if (out != DataType::kFloat32) return InvalidArgument("the residual input Z needs a float32 output");
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kZ, {DataType::kFloat32}));
  if (!SameShape(ctx.inputs[kZ].shape, y_shape)) {
    return InvalidArgument("Z has shape " + ShapeToString(ctx.inputs[kZ].shape) + ", Y has " +
                           ShapeToString(y_shape));
  }
  return Status::Ok();
}

Status InferQcalQConv(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_ASSIGN_OR_RETURN(IntConvProblem p, CheckQConvOperands(ctx));
  const int64_t m = p.out_channels;
  QCAL_ASSIGN_OR_RETURN(DataType out, InferOutputStageType(ctx, kYScale, kYZp));
  if (ctx.has_input(kBias)) {
    QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kBias, "B", m, "output channels", {DataType::kInt32}));
  }
  QCAL_RETURN_IF_ERROR(CheckResidual(ctx, out, p.out_shape));
  outputs[0] = TensorType{out, p.out_shape};
  const bool q = ctx.has_input(kQScale) || ctx.has_input(kQZp);
  if (q != (outputs.size() > 1)) {
    return InvalidArgument("the second output Yq and the inputs q_scale, q_zero_point go together");
  }
  if (!q) return Status::Ok();
  if (out != DataType::kFloat32) return InvalidArgument("the second output Yq needs a float32 Y");
  if (!ctx.has_input(kQZp)) return InvalidArgument("the second output Yq needs q_zero_point");
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kQScale, "q_scale", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kQZp, "q_zero_point", {DataType::kInt8, DataType::kUint8}));
  outputs[1] = TensorType{ctx.inputs[kQZp].dtype, p.out_shape};
  return Status::Ok();
}

template <typename Q>
void QuantizeAll(const Tensor& y, float scale, int32_t zero_point, Tensor& q) {
  for (int64_t i = 0; i < y.numel(); ++i) {
    q.data<Q>()[i] = qmath::QuantizeValue<Q>(y.data<float>()[i], scale, zero_point);
  }
}

// out[1] = QuantizeLinear(y) with the per-tensor q_scale / q_zero_point.
Status QuantizedCopy(const std::vector<const Tensor*>& in, const Tensor& y, std::vector<Tensor>& out) {
  if (!OptionalInput(in, kQScale) || !OptionalInput(in, kQZp) || y.dtype() != DataType::kFloat32) {
    return InvalidArgument("the second output Yq needs a float32 Y, q_scale and q_zero_point");
  }
  QCAL_ASSIGN_OR_RETURN(auto scale, ReadScales(*in[kQScale], 1, "q_scale"));
  QCAL_ASSIGN_OR_RETURN(auto zp, ReadZeroPoints(in[kQZp], 1, "q_zero_point"));
  const DataType t = in[kQZp]->dtype();
  Tensor& q = PrepareOutput(out, 1, t, y.shape());
  if (t == DataType::kInt8) {
    QuantizeAll<int8_t>(y, scale[0], zp[0], q);
  } else if (t == DataType::kUint8) {
    QuantizeAll<uint8_t>(y, scale[0], zp[0], q);
  } else {
    return InvalidArgument("q_zero_point must be int8 or uint8");
  }
  return Status::Ok();
}

}  // namespace

Status RunQcalQConv(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[kX];
  const Tensor& w = *in[kW];
  const Tensor* bias = OptionalInput(in, kBias);
  QCAL_ASSIGN_OR_RETURN(IntConvProblem p, MakeIntConvProblem(node, x.shape(), w.shape()));
  const int64_t m = p.out_channels;
  QCAL_ASSIGN_OR_RETURN(auto x_scale, ReadScales(*in[kXScale], 1, "x_scale"));
  QCAL_ASSIGN_OR_RETURN(auto x_zp, ReadZeroPoints(in[kXZp], 1, "x_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto w_scale, ReadScales(*in[kWScale], m, "w_scale"));
  QCAL_ASSIGN_OR_RETURN(auto w_zp, ReadZeroPoints(in[kWZp], m, "w_zero_point"));
  QCAL_ASSIGN_OR_RETURN(
      OutputStage stage,
      MakeOutputStage(node, x_scale[0], w_scale, OptionalInput(in, kYScale), OptionalInput(in, kYZp), m));
  if (bias && (bias->dtype() != DataType::kInt32 || bias->numel() != m)) {
    return InvalidArgument("bias B must be int32 with " + std::to_string(m) + " elements");
  }
  const std::vector<int32_t> acc = IntConv(p, x, x_zp[0], w, w_zp);
  const int64_t spatial = NumElements(p.out_shape) / std::max<int64_t>(1, p.batch * m);
  Tensor& y = PrepareOutput(out, 0, stage.dtype, p.out_shape);
  ApplyOutputStage(stage, acc, bias ? bias->data<int32_t>() : nullptr, p.batch, m, spatial, y);
  if (const Tensor* z = OptionalInput(in, kZ)) {
    QCAL_ASSIGN_OR_RETURN(ResidualActivation act, ReadResidualActivation(node));
    if (stage.quantized() || z->dtype() != DataType::kFloat32 || z->shape() != p.out_shape) {
      return InvalidArgument("Z must be float32 of Y's shape " + ShapeToString(p.out_shape));
    }
    ApplyResidual(act, z->data<float>(), y.numel(), y.data<float>());
  }
  if (node.outputs.size() > 1) return QuantizedCopy(in, y, out);
  return Status::Ok();
}

namespace {

Result<std::unique_ptr<Kernel>> CreateQcalQConv(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunQcalQConv);
}

}  // namespace

QCAL_REGISTER_OP("QcalQConv", InferQcalQConv, 5, 12, 1, 2);
QCAL_REGISTER_KERNEL("QcalQConv", "ref", 0, nullptr, CreateQcalQConv);

}  // namespace qcal::ref
