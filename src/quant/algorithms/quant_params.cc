#include "quant/algorithms/quant_params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace qcal::quant {

double RoundHalfEven(double v) {
  double r = std::round(v);  // half away from zero
  if (std::fabs(v - std::trunc(v)) == 0.5) r = 2.0 * std::round(v / 2.0);
  return r;
}

int32_t QuantizeValue(float x, QuantParams p) {
  double q = RoundHalfEven(static_cast<double>(x) / p.scale) + p.offset;
  q = std::clamp(q, static_cast<double>(kInt8Min), static_cast<double>(kInt8Max));
  return static_cast<int32_t>(q);
}

float DequantizeValue(int32_t q, QuantParams p) {
  return static_cast<float>((q - p.offset) * static_cast<double>(p.scale));
}

float FakeQuantValue(float x, QuantParams p) { return DequantizeValue(QuantizeValue(x, p), p); }

double ClipMin(QuantParams p) { return (kInt8Min - p.offset) * static_cast<double>(p.scale); }
double ClipMax(QuantParams p) { return (kInt8Max - p.offset) * static_cast<double>(p.scale); }

Result<QuantParams> ProcessScale(double scale, int32_t offset, bool with_offset) {
  if (std::isnan(scale)) return InvalidArgument("scale is NaN; the calibration data contain NaN");
  if (std::isinf(scale)) {
    return InvalidArgument(
        "scale is +inf; the calibration data contain Inf (skip this layer or fix the data)");
  }
  if (scale > kMaxScale) {
    return OutOfRange("scale " + std::to_string(scale) + " is greater than 1/FLT_EPSILON (" +
                      std::to_string(kMaxScale) + "); the data range is too large for int8, skip this layer");
  }
  if (scale < kMinScale) return QuantParams{1.0f, with_offset ? kInt8Min : 0};
  return QuantParams{static_cast<float>(scale), offset};
}

Result<QuantParams> ParamsFromRange(double min, double max, bool with_offset) {
  if (!std::isfinite(min) || !std::isfinite(max)) {
    return InvalidArgument("clip range [" + std::to_string(min) + ", " + std::to_string(max) +
                           "] is not finite; the data contain Inf/NaN");
  }
  min = std::min(min, 0.0);
  max = std::max(max, 0.0);
  if (!with_offset) {
    double a = std::max(-min, max);
    return ProcessScale(a / kInt8Max, 0, false);
  }
  double raw_scale = (max - min) / 255.0;
  QCAL_ASSIGN_OR_RETURN(QuantParams p, ProcessScale(raw_scale, 0, true));
  if (raw_scale < kMinScale) return p;  // degenerate: {1, -128}
  double off = -RoundHalfEven(min / p.scale) - 128.0;
  p.offset =
      static_cast<int32_t>(std::clamp(off, static_cast<double>(kInt8Min), static_cast<double>(kInt8Max)));
  return p;
}

bool AllFinite(std::span<const float> data) {
  // |x| <= FLT_MAX is false exactly for Inf and NaN. Branch-free blocks vectorize;
  // the check between blocks stops early on bad data.
  constexpr size_t kBlock = 1024;
  const float* p = data.data();
  for (size_t start = 0; start < data.size(); start += kBlock) {
    const size_t end = std::min(data.size(), start + kBlock);
    int bad = 0;
    for (size_t i = start; i < end; ++i) bad |= !(std::fabs(p[i]) <= std::numeric_limits<float>::max());
    if (bad) return false;
  }
  return true;
}

std::optional<size_t> FindNonFinite(std::span<const float> data) {
  if (AllFinite(data)) return std::nullopt;
  for (size_t i = 0; i < data.size(); ++i) {
    if (!std::isfinite(data[i])) return i;
  }
  return std::nullopt;
}

Status CheckFinite(std::span<const float> data, std::string_view what) {
  auto bad = FindNonFinite(data);
  if (!bad) return Status::Ok();
  float v = data[*bad];
  return InvalidArgument(
      std::string(what) + " contains " + (std::isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf")) +
      " at element " + std::to_string(*bad) + " of " + std::to_string(data.size()) +
      "; Inf/NaN cannot be quantized (check the input data and preprocessing, or skip the layer)");
}

std::string FloatToString(float v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

}  // namespace qcal::quant
