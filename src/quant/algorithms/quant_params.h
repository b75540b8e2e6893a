// Quantization parameters in AMCT's convention and the int8 arithmetic that
// every calibration algorithm shares.
//
//   q  = clamp(round(x / scale) + offset, -128, 127)      (int8)
//   x' = (q - offset) * scale                             (dequantized)
//
// `round` is round-half-to-even (ONNX Round / QuantizeLinear, numpy round).
// Asymmetric ("with offset"): the clip range [min, max] is first widened to
// include 0, then scale = (max - min) / 255 and offset = -round(min / scale) - 128,
// so offset lies in [-128, 127] (all-positive data gives -128). Symmetric:
// scale = max(|min|, |max|) / 127 and offset = 0.
// Degenerate scales follow AMCT's ProcessScale: a scale below FLT_EPSILON
// becomes 1 (offset -128 when asymmetric, 0 when symmetric); a scale above
// 1 / FLT_EPSILON, or a range containing Inf/NaN, is an error.
#pragma once

#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "qcal/status.h"

namespace qcal::quant {

inline constexpr int32_t kInt8Min = -128;
inline constexpr int32_t kInt8Max = 127;
inline constexpr double kMinScale = FLT_EPSILON;        // below: replaced by 1
inline constexpr double kMaxScale = 1.0 / FLT_EPSILON;  // above: error

struct QuantParams {
  float scale = 1.0f;
  int32_t offset = 0;  // int8 zero-point offset; 0 for symmetric quantization
  bool operator==(const QuantParams&) const = default;
};

// Round half to even (2.5 -> 2, 3.5 -> 4, -2.5 -> -2).
double RoundHalfEven(double v);

int32_t QuantizeValue(float x, QuantParams p);
float DequantizeValue(int32_t q, QuantParams p);
// Quantize then dequantize.
float FakeQuantValue(float x, QuantParams p);
// The float range representable by `p`: [(-128 - offset) * scale, (127 - offset) * scale].
double ClipMin(QuantParams p);
double ClipMax(QuantParams p);

// Applies the degenerate-scale rule to a computed (scale, offset).
// Errors (OutOfRange) name the scale and say what to do.
Result<QuantParams> ProcessScale(double scale, int32_t offset, bool with_offset);

// Scale/offset from a clip range (see the file comment). The range is forced to
// include 0. Errors: non-finite bounds, scale > 1/FLT_EPSILON.
Result<QuantParams> ParamsFromRange(double min, double max, bool with_offset);

// True when `data` has no NaN/Inf (a vectorized scan).
bool AllFinite(std::span<const float> data);
// Index of the first NaN/Inf in `data`, if any.
std::optional<size_t> FindNonFinite(std::span<const float> data);
// OK, or InvalidArgument "<what> contains inf at element 12 of 100 ...".
// Callers add the layer name and batch index with Status::WithContext.
Status CheckFinite(std::span<const float> data, std::string_view what);

// Shortest decimal text that parses back to exactly `v` (std::to_chars).
std::string FloatToString(float v);

}  // namespace qcal::quant
