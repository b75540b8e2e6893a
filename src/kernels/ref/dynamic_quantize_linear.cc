// DynamicQuantizeLinear: uint8 asymmetric quantization with parameters computed
// from the data, as ONNX defines it:
//   lo = min(0, min(x)), hi = max(0, max(x))
//   y_scale = (hi - lo) / 255            (1.0 when hi == lo, as ONNX Runtime)
//   y_zero_point = saturate(round_half_even(0 - lo / y_scale))
//   y = saturate(round_half_even(x / y_scale) + y_zero_point)
// Outputs: y (uint8, x's shape), y_scale (float32 scalar), y_zero_point (uint8 scalar).
// NaN elements are ignored when computing the range.
#include "kernels/ref/common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::ref {
namespace {

Status InferDynamicQuantizeLinear(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32}));
  outputs[0] = TensorType{DataType::kUint8, ctx.inputs[0].shape};
  outputs[1] = TensorType{DataType::kFloat32, {}};
  outputs[2] = TensorType{DataType::kUint8, {}};
  return Status::Ok();
}

Status RunDynamicQuantizeLinear(const Node& node, const std::vector<const Tensor*>& in,
                                std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const float* src = x.data<float>();
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (src[i] < lo) lo = src[i];
    if (src[i] > hi) hi = src[i];
  }
  quant::QuantParams p = quant::ChooseAsymmetricParams<uint8_t>(lo, hi);
  Tensor& y = PrepareOutput(out, 0, DataType::kUint8, x.shape());
  uint8_t* dst = y.data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i)
    dst[i] = quant::QuantizeValue<uint8_t>(src[i], p.scale, p.zero_point);
  PrepareOutput(out, 1, DataType::kFloat32, {}).data<float>()[0] = p.scale;
  PrepareOutput(out, 2, DataType::kUint8, {}).data<uint8_t>()[0] = static_cast<uint8_t>(p.zero_point);
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateDynamicQuantizeLinear(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunDynamicQuantizeLinear);
}

}  // namespace

QCAL_REGISTER_OP("DynamicQuantizeLinear", InferDynamicQuantizeLinear, 1, 1, 3, 3);
QCAL_REGISTER_KERNEL("DynamicQuantizeLinear", "ref", 0, nullptr, CreateDynamicQuantizeLinear);

}  // namespace qcal::ref
