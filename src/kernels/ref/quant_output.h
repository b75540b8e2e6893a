// Output stage of the integer conv / matmul ops qcal executes (QcalQConv,
// QcalQMatMul, and the dnnl kernels of QLinearConv / QLinearMatMul): an int32
// accumulator `acc` (bias already added, wrapping mod 2^32) becomes the output
// value of output channel m. This is the specification the optimized kernels
// reproduce bit for bit.
//
// Quantized output (y_scale given; Q = y_zero_point's type, int8 or uint8):
//   mult[m] = (x_scale * w_scale[m]) / y_scale            float32 (qmath::RequantMultiplier)
//   r       = round_half_even(float(acc) * mult[m]) + float(y_zp)     float32 arithmetic
//   y       = Q(min(max(r, lo), hi))
//   lo = max(qmin(Q), Quantize(activation_min)), hi = min(qmax(Q), Quantize(activation_max))
//   (Quantize = qmath::QuantizeValue with y_scale / y_zp; an absent bound is the type's limit).
//   Without activation bounds this equals QLinearConv's requantization
//   (qmath::Requantize): saturation is the same clamp.
// Float output (no y_scale):
//   scale[m] = x_scale * w_scale[m]                        float32
//   y        = min(max(float(acc) * scale[m], activation_min), activation_max)
//
// activation_min / activation_max are optional float attributes of the node
// (Relu: min 0; Clip: its bounds), applied in the output domain as above. The
// multipliers must be finite (MakeOutputStage rejects others).
//
// Residual (QcalQConv with float output and input Z, float32 of Y's shape; made
// from QcalQConv -> Add(Z) [-> Relu] by FuseQuantizedOps):
//   y = residual_act(y_float + z)     y_float: the float output above, clamp included
// residual_act (string attribute residual_activation): absent: identity;
// "Relu": v > 0 ? v : 0 (kernels/ref/relu.cc: NaN and -0 give +0). The same IEEE
// operations as the unfused Add and Relu nodes, so the fused node is bit-identical.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/ref/common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::ref {

struct OutputStage {
  DataType dtype = DataType::kFloat32;  // int8, uint8 or float32
  std::vector<float> mult;              // 1 (per-tensor) or one per output channel
  float zero_point = 0;                 // quantized outputs only
  float lo = 0, hi = 0;                 // clamp bounds (integral for quantized outputs)
  bool quantized() const { return dtype != DataType::kFloat32; }
  float mult_at(int64_t m) const { return mult.size() == 1 ? mult[0] : mult[static_cast<size_t>(m)]; }
};

// The stage for x_scale (per-tensor), w_scale (1 or `channels` entries) and,
// for quantized outputs, y_scale / y_zero_point (per-tensor; y_scale nullptr: float
// output). Reads activation_min / activation_max from `node`. Errors without op prefix.
Result<OutputStage> MakeOutputStage(const Node& node, float x_scale, const std::vector<float>& w_scale,
                                    const Tensor* y_scale, const Tensor* y_zero_point, int64_t channels);

// The output value (before the final conversion to Q) of one accumulator.
inline float QuantizedOutputValue(int32_t acc, float mult, float zero_point, float lo, float hi) {
  const float r = qmath::RoundHalfToEven(static_cast<float>(acc) * mult) + zero_point;
  return std::min(std::max(r, lo), hi);
}
inline float FloatOutputValue(int32_t acc, float scale, float lo, float hi) {
  return std::min(std::max(static_cast<float>(acc) * scale, lo), hi);
}

// int32 addition with wrap-around, like the accumulation.
inline int32_t WrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// Writes y (dtype stage.dtype) from acc laid out as [outer, channels, inner]
// (NCHW conv output: inner = spatial; matmul rows: outer = rows, inner = 1),
// adding bias[channel] (nullptr: none) first.
void ApplyOutputStage(const OutputStage& stage, const std::vector<int32_t>& acc, const int32_t* bias,
                      int64_t outer, int64_t channels, int64_t inner, Tensor& y);

enum class ResidualActivation { kNone, kRelu };

// The node's residual_activation attribute (absent: kNone). Errors without op prefix.
Result<ResidualActivation> ReadResidualActivation(const Node& node);

inline float ResidualOutputValue(float y, float z, ResidualActivation act) {
  const float v = y + z;
  return act == ResidualActivation::kRelu ? (v > 0.0f ? v : 0.0f) : v;
}

// y[i] = ResidualOutputValue(y[i], z[i], act) for i < n.
void ApplyResidual(ResidualActivation act, const float* z, int64_t n, float* y);

// Validation shared by the QcalQConv / QcalQMatMul inference functions: the
// activation attributes, and y_scale / y_zero_point both present (quantized
// output, y_zero_point int8/uint8) or both absent (float output). Returns the output dtype.
Result<DataType> InferOutputStageType(const OpContext& ctx, size_t y_scale_idx, size_t y_zp_idx);

}  // namespace qcal::ref
