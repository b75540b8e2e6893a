// DequantizeLinear: y = float(x - x_zero_point) * x_scale, float32 output.
//
// x: int8, uint8 or int32 (int32 is used for biases; its zero point, if given,
// is int32 and normally 0). x_scale: float32, per-tensor or per-axis (1-D of
// x.shape[axis], `axis` attribute default 1, may be negative). x_zero_point:
// optional, x's dtype and x_scale's shape. Blocked quantization is Unsupported.
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::ref {
namespace {

Status InferDequantizeLinear(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kInt8, DataType::kUint8, DataType::kInt32}));
  QCAL_RETURN_IF_ERROR(CheckLinearQuantParams(ctx, {ctx.inputs[0].dtype}));
  outputs[0] = TensorType{DataType::kFloat32, ctx.inputs[0].shape};
  return Status::Ok();
}

Status RunDequantizeLinear(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(LinearQuantArgs args, ReadDequantizeArgs(node, in));
  const AxisSplit& split = args.split;
  Tensor& y = PrepareOutput(out, 0, DataType::kFloat32, x.shape());
  auto run = [&]<typename Q>() {
    const Q* src = x.data<Q>();
    float* dst = y.data<float>();
    int64_t i = 0;
    for (int64_t o = 0; o < split.outer; ++o) {
      for (int64_t c = 0; c < split.channels; ++c) {
        float s = ParamAt(args.scales, c);
        int32_t z = ParamAt(args.zero_points, c);
        for (int64_t k = 0; k < split.inner; ++k, ++i) dst[i] = qmath::DequantizeValue<Q>(src[i], s, z);
      }
    }
  };
  if (x.dtype() == DataType::kInt32) {
    run.template operator()<int32_t>();
    return Status::Ok();
  }
  return qmath::DispatchQuantType(x.dtype(), node.Describe(), run);
}

Result<std::unique_ptr<Kernel>> CreateDequantizeLinear(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunDequantizeLinear);
}

}  // namespace

QCAL_REGISTER_OP("DequantizeLinear", InferDequantizeLinear, 2, 3, 1, 1);
QCAL_REGISTER_KERNEL("DequantizeLinear", "ref", 0, nullptr, CreateDequantizeLinear);

}  // namespace qcal::ref
