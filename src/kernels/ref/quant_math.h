// Scalar arithmetic of linear (affine) quantization, shared by the reference
// kernels (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearConv,
// QLinearMatMul), the quantization tools and the exporters, so that every part
// of qcal rounds and saturates the same way.
//
//   quantize:    q = saturate(round_half_even(x / scale) + zero_point)
//   dequantize:  x = float(q - zero_point) * scale
//   requantize:  q = saturate(round_half_even(float(acc) * multiplier) + zero_point)
//                multiplier = (in_scale * w_scale) / out_scale, computed in float
//
// These match ONNX Runtime's reference (MLAS) arithmetic bit for bit: division
// (not multiplication by a reciprocal) for quantize, float32 products for the
// requantize multiplier, round half to even. Rounding does not depend on the
// floating-point environment (no std::nearbyint / fesetround reliance).
// NaN quantizes to the zero point; +-inf saturate.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "ir/dtype.h"
#include "qcal/status.h"

namespace qcal::quant {

// Round to nearest integer, ties to even (2.5 -> 2, 3.5 -> 4, -2.5 -> -2).
inline float RoundHalfToEven(float x) {
  float r = std::round(x);  // ties away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5f) r = 2.0f * std::round(x * 0.5f);
  return r;
}

// Round half to even and convert to int32, saturating at the int32 limits; NaN -> 0.
inline int32_t RoundHalfToEvenInt32(float x) {
  if (std::isnan(x)) return 0;
  float r = RoundHalfToEven(x);
  // 2147483648.0f is the first float above INT32_MAX.
  if (r >= 2147483648.0f) return std::numeric_limits<int32_t>::max();
  if (r < -2147483648.0f) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(r);
}

// Integer range of a quantized type Q (int8_t, uint8_t, int32_t).
template <typename Q>
constexpr int32_t QMin() {
  return static_cast<int32_t>(std::numeric_limits<Q>::min());
}
template <typename Q>
constexpr int32_t QMax() {
  return static_cast<int32_t>(std::numeric_limits<Q>::max());
}

// Clamps an integer to Q's range.
template <typename Q>
inline Q Saturate(int64_t v) {
  return static_cast<Q>(std::clamp<int64_t>(v, QMin<Q>(), QMax<Q>()));
}

// Clamps an already-rounded float (integral value) to Q's range; NaN -> nan_value.
template <typename Q>
inline Q SaturateRounded(float r, Q nan_value) {
  if (std::isnan(r)) return nan_value;
  if (r <= static_cast<float>(QMin<Q>())) return std::numeric_limits<Q>::min();
  if (r >= static_cast<float>(QMax<Q>())) return std::numeric_limits<Q>::max();
  return static_cast<Q>(r);
}

// q = saturate(round_half_even(x / scale) + zero_point). NaN -> zero_point.
template <typename Q>
inline Q QuantizeValue(float x, float scale, int32_t zero_point) {
  float r = RoundHalfToEven(x / scale) + static_cast<float>(zero_point);
  return SaturateRounded<Q>(r, Saturate<Q>(zero_point));
}

// x = float(q - zero_point) * scale (the difference is exact in int64).
template <typename Q>
inline float DequantizeValue(Q q, float scale, int32_t zero_point) {
  return static_cast<float>(static_cast<int64_t>(q) - zero_point) * scale;
}

// The float multiplier that maps an int32 accumulator of (in * w) products to the
// output scale, exactly as ONNX Runtime computes it: (in_scale * w_scale) / out_scale.
inline float RequantMultiplier(float in_scale, float w_scale, float out_scale) {
  return (in_scale * w_scale) / out_scale;
}

// q = saturate(round_half_even(float(acc) * multiplier) + zero_point).
template <typename Q>
inline Q Requantize(int32_t acc, float multiplier, int32_t zero_point) {
  float r = RoundHalfToEven(static_cast<float>(acc) * multiplier) + static_cast<float>(zero_point);
  return SaturateRounded<Q>(r, Saturate<Q>(zero_point));
}

struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Asymmetric parameters covering [min(lo, 0), max(hi, 0)] with Q's full range,
// as DynamicQuantizeLinear defines them:
//   scale = (hi - lo) / (qmax - qmin)   (1.0 when hi == lo, as ONNX Runtime does)
//   zero_point = saturate(round_half_even(qmin - lo / scale))
template <typename Q>
inline QuantParams ChooseAsymmetricParams(float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  QuantParams p;
  p.scale = hi == lo ? 1.0f : (hi - lo) / static_cast<float>(QMax<Q>() - QMin<Q>());
  float zp = RoundHalfToEven(static_cast<float>(QMin<Q>()) - lo / p.scale);
  p.zero_point = SaturateRounded<Q>(zp, Q(0));
  return p;
}

// Calls f.template operator()<Q>() for a quantized dtype (int8 or uint8).
template <typename F>
Status DispatchQuantType(DataType t, const std::string& where, F&& f) {
  switch (t) {
    case DataType::kInt8:
      f.template operator()<int8_t>();
      return Status::Ok();
    case DataType::kUint8:
      f.template operator()<uint8_t>();
      return Status::Ok();
    default:
      return Unsupported(where + ": quantized data type " + std::string(DataTypeName(t)) +
                         " is not supported (int8 and uint8 are)");
  }
}

}  // namespace qcal::quant
