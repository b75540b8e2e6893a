#include "quant/algorithms/ifmr.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

namespace qcal::quant {
namespace {

// Order-preserving map float -> uint32 (ascending keys = ascending floats).
uint32_t Key(float v) {
  uint32_t u = std::bit_cast<uint32_t>(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
float FromKey(uint32_t k) { return std::bit_cast<float>((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k); }

double SquaredError(std::span<const float> data, QuantParams q) {
  const double s = q.scale;
  const double lo = kInt8Min - q.offset, hi = kInt8Max - q.offset;
  double sum = 0;
  for (float x : data) {
    double level = std::clamp(RoundHalfEven(x / s), lo, hi);
    double e = level * s - x;
    sum += e * e;
  }
  return sum;
}

std::string Num(double v) { return std::to_string(v); }

}  // namespace

Status ValidateIfmrParams(const IfmrParams& p) {
  auto percentile_ok = [](double v) { return v > 0.5 && v <= 1.0; };
  if (!percentile_ok(p.max_percentile)) {
    return InvalidArgument("ifmr max_percentile must be in (0.5, 1], got " + Num(p.max_percentile));
  }
  if (!percentile_ok(p.min_percentile)) {
    return InvalidArgument("ifmr min_percentile must be in (0.5, 1], got " + Num(p.min_percentile));
  }
  if (!(p.search_start > 0 && p.search_start < p.search_end) || !std::isfinite(p.search_end)) {
    return InvalidArgument("ifmr search_range must satisfy 0 < start < end, got [" + Num(p.search_start) +
                           ", " + Num(p.search_end) + "]");
  }
  if (!(p.search_step > 0 && p.search_step <= p.search_end - p.search_start + 1e-12)) {
    return InvalidArgument("ifmr search_step must be in (0, end - start], got " + Num(p.search_step));
  }
  if ((p.search_end - p.search_start) / p.search_step >= kIfmrMaxCandidates) {
    return InvalidArgument("ifmr search_step " + Num(p.search_step) + " gives more than " +
                           std::to_string(kIfmrMaxCandidates) + " candidates; use a larger step");
  }
  return Status::Ok();
}

std::vector<double> IfmrMultipliers(const IfmrParams& p) {
  auto n = static_cast<int64_t>(std::floor((p.search_end - p.search_start) / p.search_step + 1e-9));
  std::vector<double> r;
  r.reserve(n + 1);
  for (int64_t i = 0; i <= n; ++i) r.push_back(p.search_start + i * p.search_step);
  return r;
}

uint64_t IfmrRank(double percentile, uint64_t n) {
  if (n == 0) return 0;
  if (1.0 - percentile < FLT_EPSILON) return 1;
  auto kept = static_cast<uint64_t>(std::floor(percentile * static_cast<double>(n)));
  return std::clamp<uint64_t>(n - std::min(kept, n), 1, n);
}

float KthSmallest(std::span<const float> data, uint64_t k) {
  // Radix select: the high 16 bits of the key pick a bucket, the low 16 bits finish.
  std::vector<uint64_t> count(1u << 16);
  for (float v : data) ++count[Key(v) >> 16];
  uint32_t high = 0;
  while (k > count[high]) k -= count[high++];
  std::fill(count.begin(), count.end(), 0);
  for (float v : data) {
    uint32_t key = Key(v);
    if ((key >> 16) == high) ++count[key & 0xffffu];
  }
  uint32_t low = 0;
  while (k > count[low]) k -= count[low++];
  return FromKey((high << 16) | low);
}

float KthLargest(std::span<const float> data, uint64_t k) { return KthSmallest(data, data.size() - k + 1); }

Result<IfmrResult> IfmrSearch(std::span<const float> data, const IfmrParams& p) {
  QCAL_RETURN_IF_ERROR(ValidateIfmrParams(p));
  if (data.empty()) return FailedPrecondition("ifmr has no calibration data (no batch was collected)");
  QCAL_RETURN_IF_ERROR(CheckFinite(data, "calibration data"));
  IfmrResult best;
  best.max_init = std::max(0.0f, KthLargest(data, IfmrRank(p.max_percentile, data.size())));
  best.min_init = std::min(0.0f, KthSmallest(data, IfmrRank(p.min_percentile, data.size())));
  const double amax = std::max(-best.min_init, best.max_init);
  bool first = true;
  for (double r : IfmrMultipliers(p)) {
    Result<QuantParams> q = p.with_offset ? ParamsFromRange(best.min_init, r * best.max_init, true)
                                          : ParamsFromRange(-r * amax, r * amax, false);
    if (!q.ok()) return q.status();
    double loss = SquaredError(data, *q);
    if (first || loss < best.loss) {
      best.params = *q;
      best.multiplier = r;
      best.loss = loss;
      first = false;
    }
  }
  return best;
}

Result<QuantParams> IfmrCalibrate(std::span<const float> data, const IfmrParams& p) {
  QCAL_ASSIGN_OR_RETURN(IfmrResult r, IfmrSearch(data, p));
  return r.params;
}

}  // namespace qcal::quant
