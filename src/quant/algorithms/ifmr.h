// IFMR (Input Feature Map Reconstruction), AMCT's default activation
// calibration, on the raw values of all calibration batches.
//
// 1. Seeds: k_max = N - floor(max_percentile * N) (k = 1 when 1 - p < FLT_EPSILON),
//    max_init = max(k_max-th largest value, 0); min_init = min(k_min-th smallest, 0).
// 2. Candidates r = start + i * step, i = 0..floor((end - start) / step) (the end is
//    included when it is on the grid: 0.7..1.3 by 0.01 gives 61 candidates, as
//    numpy.arange does in AMCT's implementation).
//    Symmetric: A = max(|min_init|, |max_init|), range [-r*A, r*A] -> scale r*A/127.
//    Asymmetric: only the upper bound is searched (as in both public
//    implementations): range [min_init, r*max_init] -> scale/offset per quant_params.h.
// 3. Loss = sum over all values of (fake_quant(x) - x)^2; the first minimum wins.
//
// Memory: the k-th order statistics are found by a two-pass radix select, so
// no copy of the data is made (the caller's RawValueStore is all IFMR holds).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "quant/algorithms/quant_params.h"

namespace qcal::quant {

struct IfmrParams {
  double max_percentile = 0.999999;  // (0.5, 1]
  double min_percentile = 0.999999;  // (0.5, 1]
  double search_start = 0.7;         // 0 < start < end
  double search_end = 1.3;
  double search_step = 0.01;  // (0, end - start]
  bool with_offset = true;
};

// At most this many candidates (AMCT warns that tiny steps look like a hang).
inline constexpr int64_t kIfmrMaxCandidates = 100000;

Status ValidateIfmrParams(const IfmrParams& p);
std::vector<double> IfmrMultipliers(const IfmrParams& p);
// 1-based rank from a percentile, per step 1 above.
uint64_t IfmrRank(double percentile, uint64_t n);

// k-th smallest / largest (1-based, k in [1, N]) without copying `data`.
float KthSmallest(std::span<const float> data, uint64_t k);
float KthLargest(std::span<const float> data, uint64_t k);

struct IfmrResult {
  QuantParams params;
  double multiplier = 1;  // the winning r
  double loss = 0;        // its sum of squared errors
  double min_init = 0, max_init = 0;
};

// Errors: empty data (FailedPrecondition), NaN/Inf (naming the element),
// invalid params, scale > 1/FLT_EPSILON.
Result<IfmrResult> IfmrSearch(std::span<const float> data, const IfmrParams& p);
Result<QuantParams> IfmrCalibrate(std::span<const float> data, const IfmrParams& p);

// Test hook: while alive, IfmrSearch uses its scalar loss loop instead of the
// AVX2 one (both give the same sums, bit for bit).
class ScopedScalarIfmr {
 public:
  ScopedScalarIfmr();
  ~ScopedScalarIfmr();
  ScopedScalarIfmr(const ScopedScalarIfmr&) = delete;
  ScopedScalarIfmr& operator=(const ScopedScalarIfmr&) = delete;

 private:
  bool previous_;
};

}  // namespace qcal::quant
