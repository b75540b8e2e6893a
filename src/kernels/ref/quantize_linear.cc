// QuantizeLinear: y = saturate(round_half_even(x / y_scale) + y_zero_point).
//
// x: float32 (or int32). y_scale: float32, per-tensor or per-axis (1-D of
// x.shape[axis], `axis` attribute default 1). y_zero_point: optional int8/uint8
// with y_scale's shape; its dtype is the output dtype. Without it the output is
// the `output_dtype` attribute (opset 21; int8/uint8) or uint8, zero point 0.
// Blocked quantization (block_size != 0) and float8/int4/int16 are Unsupported.
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::ref {
namespace {

Status InferQuantizeLinear(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32, DataType::kInt32}));
  QCAL_RETURN_IF_ERROR(CheckLinearQuantParams(ctx, {DataType::kInt8, DataType::kUint8}));
  DataType zp = ctx.has_input(2) ? ctx.inputs[2].dtype : DataType::kUndefined;
  QCAL_ASSIGN_OR_RETURN(DataType out, QuantizeOutputType(ctx.node, zp));
  outputs[0] = TensorType{out, ctx.inputs[0].shape};
  return Status::Ok();
}

std::vector<float> InputAsFloat(const Tensor& x) {
  if (x.dtype() == DataType::kFloat32)
    return std::vector<float>(x.data<float>(), x.data<float>() + x.numel());
  return x.ToFloatVector();
}

Status RunQuantizeLinear(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(LinearQuantArgs args, ReadQuantizeArgs(node, in));
  const AxisSplit& split = args.split;
  std::vector<float> xf = InputAsFloat(x);
  Tensor& y = PrepareOutput(out, 0, args.q_type, x.shape());
  return qmath::DispatchQuantType(args.q_type, node.Describe(), [&]<typename Q>() {
    Q* dst = y.data<Q>();
    int64_t i = 0;
    for (int64_t o = 0; o < split.outer; ++o) {
      for (int64_t c = 0; c < split.channels; ++c) {
        float s = ParamAt(args.scales, c);
        int32_t z = ParamAt(args.zero_points, c);
        for (int64_t k = 0; k < split.inner; ++k, ++i) {
          dst[i] = qmath::QuantizeValue<Q>(xf[static_cast<size_t>(i)], s, z);
        }
      }
    }
  });
}

Result<std::unique_ptr<Kernel>> CreateQuantizeLinear(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunQuantizeLinear);
}

}  // namespace

QCAL_REGISTER_OP("QuantizeLinear", InferQuantizeLinear, 2, 3, 1, 1);
QCAL_REGISTER_KERNEL("QuantizeLinear", "ref", 0, nullptr, CreateQuantizeLinear);

}  // namespace qcal::ref
