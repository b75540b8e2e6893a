#include "quant/algorithms/ifmr.h"

#include <immintrin.h>

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

// Each candidate's scale and clamp bounds (levels lo..hi), padded with copies
// of the last candidate to a multiple of four lanes.
struct Candidates {
  std::vector<double> scale, lo, hi;
  explicit Candidates(const std::vector<QuantParams>& qs) {
    for (size_t k = 0; k < (qs.size() + 3) / 4 * 4; ++k) {
      const QuantParams& q = qs[std::min(k, qs.size() - 1)];
      scale.push_back(q.scale);
      lo.push_back(kInt8Min - q.offset);
      hi.push_back(kInt8Max - q.offset);
    }
  }
};

// The squared error of x under candidate k: level = clamp(round_half_even(x /
// s), lo, hi), e = level * s - x, e * e; both versions below do exactly these
// IEEE double operations (the AVX2 one is not built for FMA, so nothing is
// contracted) and add each candidate's terms in data order, so every sum is the
// same number either way.
void SquaredErrorsScalar(std::span<const float> data, const Candidates& c, size_t count, double* sums) {
  for (float x : data) {
    for (size_t k = 0; k < count; ++k) {
      const double level = std::clamp(RoundHalfEven(x / c.scale[k]), c.lo[k], c.hi[k]);
      const double e = level * c.scale[k] - x;
      sums[k] += e * e;
    }
  }
}

// One element's squared error under four candidates (see SquaredErrorsScalar).
__attribute__((target("avx2"))) inline __m256d Term(__m256d x, __m256d s, __m256d lo, __m256d hi) {
  __m256d level = _mm256_round_pd(_mm256_div_pd(x, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  level = _mm256_min_pd(hi, _mm256_max_pd(lo, level));
  const __m256d e = _mm256_sub_pd(_mm256_mul_pd(level, s), x);
  return _mm256_mul_pd(e, e);
}

// Four candidates per vector, two vectors per pass over an L1-sized chunk of the
// data (two independent sums hide the add latency). round_pd in nearest mode is
// round half to even; max_pd(lo, v) / min_pd(hi, v) are std::clamp's picks.
__attribute__((target("avx2"))) void SquaredErrorsAvx2(std::span<const float> data, const Candidates& c,
                                                       double* sums) {
  constexpr size_t kChunk = 2048;
  const size_t lanes = c.scale.size();
  for (size_t start = 0; start < data.size(); start += kChunk) {
    const size_t end = std::min(data.size(), start + kChunk);
    for (size_t k = 0; k < lanes; k += 8) {
      const bool two = k + 8 <= lanes;
      const size_t k2 = two ? k + 4 : k;
      const __m256d s0 = _mm256_loadu_pd(&c.scale[k]), s1 = _mm256_loadu_pd(&c.scale[k2]);
      const __m256d lo0 = _mm256_loadu_pd(&c.lo[k]), lo1 = _mm256_loadu_pd(&c.lo[k2]);
      const __m256d hi0 = _mm256_loadu_pd(&c.hi[k]), hi1 = _mm256_loadu_pd(&c.hi[k2]);
      __m256d sum0 = _mm256_loadu_pd(sums + k), sum1 = _mm256_loadu_pd(sums + k2);
      for (size_t i = start; i < end; ++i) {
        const __m256d x = _mm256_set1_pd(static_cast<double>(data[i]));
        sum0 = _mm256_add_pd(sum0, Term(x, s0, lo0, hi0));
        if (two) sum1 = _mm256_add_pd(sum1, Term(x, s1, lo1, hi1));
      }
      _mm256_storeu_pd(sums + k, sum0);
      if (two) _mm256_storeu_pd(sums + k2, sum1);
    }
  }
}

bool force_scalar_ifmr = false;  // ScopedScalarIfmr

// Sum over the data of each candidate's squared error.
std::vector<double> SquaredErrors(std::span<const float> data, const std::vector<QuantParams>& qs) {
  const Candidates c(qs);
  std::vector<double> sums(c.scale.size(), 0.0);
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && !force_scalar_ifmr) {
    SquaredErrorsAvx2(data, c, sums.data());
  } else {
    SquaredErrorsScalar(data, c, qs.size(), sums.data());
  }
  sums.resize(qs.size());
  return sums;
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
  const std::vector<double> multipliers = IfmrMultipliers(p);
  std::vector<QuantParams> candidates;
  for (double r : multipliers) {
    Result<QuantParams> q = p.with_offset ? ParamsFromRange(best.min_init, r * best.max_init, true)
                                          : ParamsFromRange(-r * amax, r * amax, false);
    if (!q.ok()) return q.status();
    candidates.push_back(*q);
  }
  const std::vector<double> losses = SquaredErrors(data, candidates);
  for (size_t k = 0; k < candidates.size(); ++k) {  // the first smallest loss wins
    if (k == 0 || losses[k] < best.loss) {
      best.params = candidates[k];
      best.multiplier = multipliers[k];
      best.loss = losses[k];
    }
  }
  return best;
}

ScopedScalarIfmr::ScopedScalarIfmr() : previous_(force_scalar_ifmr) { force_scalar_ifmr = true; }
ScopedScalarIfmr::~ScopedScalarIfmr() { force_scalar_ifmr = previous_; }

Result<QuantParams> IfmrCalibrate(std::span<const float> data, const IfmrParams& p) {
  QCAL_ASSIGN_OR_RETURN(IfmrResult r, IfmrSearch(data, p));
  return r.params;
}

}  // namespace qcal::quant
