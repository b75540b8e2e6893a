#include "quant/algorithms/hfmg.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace qcal::quant {

Status ValidateHfmgBins(int num_bins) {
  if (num_bins == 1024 || num_bins == 2048 || num_bins == 4096 || num_bins == 8192) return Status::Ok();
  return InvalidArgument("hfmg num_of_bins must be one of 1024, 2048, 4096, 8192, got " +
                         std::to_string(num_bins));
}

std::vector<BinRange> HfmgCandidates(const Histogram& h) {
  const auto& c = h.counts();
  const int n = h.num_bins();
  const uint64_t step = std::max<uint64_t>((h.total() + 99999) / 100000, 1);
  const int min_bins = (n + 3) / 4;
  BinRange cur{0, n - 1};
  std::vector<BinRange> out{cur};
  while (cur.right - cur.left > min_bins) {
    int tmp_left = cur.left, tmp_right = cur.right;
    for (uint64_t acc = 0; acc < step && tmp_left < cur.right; ++tmp_left) acc += c[tmp_left];
    for (uint64_t acc = 0; acc < step && tmp_right > cur.left; --tmp_right) acc += c[tmp_right];
    if (cur.right - tmp_right >= tmp_left - cur.left) {
      cur.right = tmp_right;
    } else {
      cur.left = tmp_left;
    }
    out.push_back(cur);
  }
  return out;
}

namespace {
// Integral of density * (x - centre)^2 over [b, e] with b, e relative to the centre.
double Norm(double b, double e, double density) { return density * (e * e * e - b * b * b) / 3.0; }

// Error of source bin i ([begin, end] relative to the range start) falling in
// destination bins db..de (centres (d + 0.5) * dst_w).
double BinError(double begin, double end, double db, double de, double dst_w, double half, double density) {
  const double cb = (db + 0.5) * dst_w;
  if (db == de) return Norm(begin - cb, end - cb, density);
  const double ce = (de + 0.5) * dst_w;
  return Norm(begin - cb, half, density) + (de - db - 1) * Norm(-half, half, density) +
         Norm(-half, end - ce, density);
}

bool IsPowerOfTwo(int v) { return v > 0 && (v & (v - 1)) == 0; }
}  // namespace

double HistogramL2ErrorReference(const Histogram& h, BinRange r, int dst_bins) {
  const double dst_w = static_cast<double>(r.right - r.left + 1) / dst_bins;  // source bin width = 1
  const double half = dst_w / 2;
  double error = 0;
  const auto& c = h.counts();
  for (int i = 0; i < h.num_bins(); ++i) {
    if (c[i] == 0) continue;
    const double begin = i - r.left, end = begin + 1;
    const double db = std::clamp(std::floor(begin / dst_w), 0.0, dst_bins - 1.0);
    const double de = std::clamp(std::floor(end / dst_w), 0.0, dst_bins - 1.0);
    error += BinError(begin, end, db, de, dst_w, half, static_cast<double>(c[i]));
  }
  return error;
}

namespace {

// The reference's destination bin of a source-bin edge, floor(begin / dst_w),
// computed exactly in integers: with m = right - left + 1 and dst_bins a power
// of two, dst_w = m / dst_bins is exact, so begin / dst_w is the rational
// dst_bins * begin / m correctly rounded. Its distance to the next integer is
// either 0 or >= 1/m, far above the rounding error (|quotient| * 2^-53 with
// |quotient| <= dst_bins * num_bins), so floor(begin / dst_w) equals the integer
// floor division. The edge index advances by dst_bins / m per source bin with a
// carried remainder: no division, no floor call per bin. Every per-bin term and
// the summation order are the reference's, so the result is bit-identical.
bool FastPathApplies(const Histogram& h, BinRange r, int dst_bins) {
  return r.right >= r.left && IsPowerOfTwo(dst_bins) && dst_bins <= (1 << 16) && h.num_bins() <= (1 << 24);
}

// The error, or (as soon as the running sum reaches `stop_at`) a partial sum
// >= stop_at. Terms are >= 0, so the rounded running sum never decreases: a
// candidate stopped early could not have scored below stop_at.
double FastL2Error(const Histogram& h, BinRange r, int dst_bins, double stop_at) {
  const int64_t m = static_cast<int64_t>(r.right) - r.left + 1;
  const int n = h.num_bins();
  const double dst_w = static_cast<double>(m) / dst_bins;
  const double half = dst_w / 2;
  const int64_t last = dst_bins - 1;
  // Edge i at begin = i - left: quotient q and remainder rem of dst_bins * begin / m (floor division).
  const int64_t num = static_cast<int64_t>(dst_bins) * -static_cast<int64_t>(r.left);
  int64_t q = num / m, rem = num % m;
  if (rem < 0) {
    rem += m;
    --q;
  }
  const int64_t step_q = dst_bins / m, step_r = dst_bins % m;
  auto edge_bin = [&] { return static_cast<double>(std::clamp<int64_t>(q, 0, last)); };
  const uint64_t* c = h.counts().data();
  double error = 0;
  double db = edge_bin();
  for (int i = 0; i < n; ++i) {
    q += step_q;
    rem += step_r;
    if (rem >= m) {
      rem -= m;
      ++q;
    }
    const double de = edge_bin();
    if (c[i] != 0) {
      const double begin = i - r.left;
      error += BinError(begin, begin + 1, db, de, dst_w, half, static_cast<double>(c[i]));
      if (error >= stop_at) return error;
    }
    db = de;
  }
  return error;
}

// Exact integer moments of the counts: any range sum of c_i (i - base)^k, k <= 2,
// in O(1). Usable (ok()) while total * bins^2 < 2^60, so every sum fits int64.
class CountMoments {
 public:
  explicit CountMoments(const Histogram& h) {
    const auto& c = h.counts();
    const double n = static_cast<double>(c.size());
    ok_ = static_cast<double>(h.total()) * (n + 1) * (n + 1) < 0x1p60;
    if (!ok_) return;
    p0_.assign(c.size() + 1, 0);
    p1_.assign(c.size() + 1, 0);
    p2_.assign(c.size() + 1, 0);
    for (size_t i = 0; i < c.size(); ++i) {
      const auto ci = static_cast<int64_t>(c[i]), ii = static_cast<int64_t>(i);
      p0_[i + 1] = p0_[i] + ci;
      p1_[i + 1] = p1_[i] + ci * ii;
      p2_[i + 1] = p2_[i] + ci * ii * ii;
    }
  }
  bool ok() const { return ok_; }
  struct Sums {
    double s0, s1, s2;
  };
  // Sums over bins [lo, hi) of c_i, c_i (i - base), c_i (i - base)^2 (exact, then rounded once);
  // base within [0, bins].
  Sums Around(int64_t lo, int64_t hi, int64_t b) const {
    const int64_t s0 = p0_[hi] - p0_[lo], s1 = p1_[hi] - p1_[lo], s2 = p2_[hi] - p2_[lo];
    return {static_cast<double>(s0), static_cast<double>(s1 - b * s0),
            static_cast<double>(s2 - 2 * b * s1 + b * b * s0)};
  }

 private:
  bool ok_ = false;
  std::vector<int64_t> p0_, p1_, p2_;
};

// Bounds on HistogramL2Error from the exact integrals: every source bin lying
// inside one destination bin k contributes c ((i - left - centre_k + 1/2)^2 +
// 1/12), summed per k from the moments (around the integer nearest the centre,
// so the terms barely cancel); bins straddling destination bins use BinError.
// Rounding of this sum and of HistogramL2Error's is below 1e-12 of the
// magnitudes involved; the bounds allow 1e-7 relative plus 1e-9 of the
// magnitude, so lower <= HistogramL2Error(h, r) <= upper.
L2ErrorBounds BoundsFromMoments(const Histogram& h, const CountMoments& mom, BinRange r, int dst_bins) {
  const int64_t n = h.num_bins();
  const int64_t m = static_cast<int64_t>(r.right) - r.left + 1;
  const double dst_w = static_cast<double>(m) / dst_bins;
  const double half = dst_w / 2;
  const int64_t last = dst_bins - 1;
  const int shift = std::countr_zero(static_cast<unsigned>(dst_bins));
  // first_edge(k): the first source-bin edge whose destination bin (FastL2Error's E) is >= k.
  auto first_edge = [&](int64_t k) -> int64_t {
    if (k == 0) return 0;
    if (k > last) return n + 1;
    return r.left + ((k * m + dst_bins - 1) >> shift);
  };
  const auto& c = h.counts();
  double estimate = 0, magnitude = 0;
  int64_t next = 0;  // first bin not yet counted
  int64_t edge_k = 0, edge_k1 = first_edge(1);
  for (int64_t k = 0; k <= last && next < n; ++k) {
    const int64_t end = edge_k1 - 1;  // whole bins of k: [max(edge_k, next), end)
    const int64_t lo = std::max(edge_k, next), hi = std::min(end, n);
    if (lo < hi) {
      const double centre = (static_cast<double>(k) + 0.5) * dst_w;  // (2k + 1) m / (2 dst_bins), exact
      const int64_t base = r.left + (((2 * k + 1) * m) >> (shift + 1));  // floor(left + centre)
      const double o = static_cast<double>(base - r.left) - centre + 0.5;  // in [-0.5, 0.5]
      const CountMoments::Sums s = mom.Around(lo, hi, base);
      estimate += s.s2 + 2 * o * s.s1 + o * o * s.s0 + s.s0 / 12;
      magnitude += s.s2 + 2 * std::fabs(o * s.s1) + o * o * s.s0 + s.s0 / 12;
      next = hi;
    }
    const int64_t edge_k2 = first_edge(k + 2);
    if (end >= next && end < n) {  // bin `end` runs from destination bin k into a later one
      int64_t de = k + 1;
      for (int64_t e = edge_k2; e <= end + 1; e = first_edge(de + 1)) ++de;
      const double begin = static_cast<double>(end - r.left);
      const double t = c[end] ? BinError(begin, begin + 1, static_cast<double>(k), static_cast<double>(de), dst_w,
                                         half, static_cast<double>(c[end]))
                              : 0.0;
      estimate += t;
      magnitude += t;
      next = end + 1;
    }
    edge_k = edge_k1;
    edge_k1 = edge_k2;
  }
  const double slack = 1e-7 * estimate + 1e-9 * magnitude;
  return {estimate - slack, estimate + slack};
}

constexpr int kHfmgDstBins = 256;

}  // namespace

double HistogramL2Error(const Histogram& h, BinRange r, int dst_bins) {
  if (!FastPathApplies(h, r, dst_bins)) return HistogramL2ErrorReference(h, r, dst_bins);
  return FastL2Error(h, r, dst_bins, std::numeric_limits<double>::infinity());
}

L2ErrorBounds HistogramL2ErrorBounds(const Histogram& h, BinRange r, int dst_bins) {
  if (!FastPathApplies(h, r, dst_bins)) {
    const double e = HistogramL2ErrorReference(h, r, dst_bins);
    return {e, e};
  }
  const CountMoments moments(h);
  if (!moments.ok()) return {0.0, std::numeric_limits<double>::infinity()};
  return BoundsFromMoments(h, moments, r, dst_bins);
}

// Two passes: bounds for every candidate from the moments (O(destination
// bins) each), then the exact error (HistogramL2Error) only for candidates
// whose lower bound does not exceed the smallest upper bound, in candidate
// order, first minimum winning. The winner (the first candidate with the
// minimal exact error) is never dropped, so the result is that of evaluating
// every candidate exactly.
Result<QuantParams> HfmgCalibrate(const Histogram& h, bool with_offset) {
  if (h.mode() != Histogram::Mode::kSigned)
    return InvalidArgument("hfmg needs a signed histogram, got one of |x|");
  if (h.empty()) return FailedPrecondition("hfmg has no calibration data (no batch was collected)");
  if (h.bin_width() <= 0) return ParamsFromRange(0, 0, with_offset);  // all data are 0
  const std::vector<BinRange> candidates = HfmgCandidates(h);
  const CountMoments moments(h);
  std::vector<L2ErrorBounds> bounds(candidates.size(), {0.0, 0.0});
  double smallest_upper = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < candidates.size(); ++k) {
    if (!moments.ok() || !FastPathApplies(h, candidates[k], kHfmgDstBins)) continue;  // lower bound 0: evaluated
    bounds[k] = BoundsFromMoments(h, moments, candidates[k], kHfmgDstBins);
    smallest_upper = std::min(smallest_upper, bounds[k].upper);
  }
  BinRange best;
  double best_error = std::numeric_limits<double>::infinity();
  bool first = true;
  for (size_t k = 0; k < candidates.size(); ++k) {
    if (bounds[k].lower > smallest_upper) continue;
    const double e = FastPathApplies(h, candidates[k], kHfmgDstBins)
                         ? FastL2Error(h, candidates[k], kHfmgDstBins, best_error)
                         : HistogramL2ErrorReference(h, candidates[k], kHfmgDstBins);
    if (first || e < best_error) {
      best = candidates[k];
      best_error = e;
      first = false;
    }
  }
  return ParamsFromRange(h.BinLeft(best.left), h.BinLeft(best.right + 1), with_offset);
}

}  // namespace qcal::quant
