#include "quant/algorithms/hfmg.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
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
  // Each step moves one edge; the other edge's scan is kept while it stays
  // within the new range (a rescan would stop at the same bin). A sparse tail
  // is then walked once, not once per step of the other edge.
  int tmp_left = -1, tmp_right = n;  // invalid: scan
  while (cur.right - cur.left > min_bins) {
    if (tmp_left < 0 || tmp_left > cur.right) {
      tmp_left = cur.left;
      for (uint64_t acc = 0; acc < step && tmp_left < cur.right; ++tmp_left) acc += c[tmp_left];
    }
    if (tmp_right >= n || tmp_right < cur.left) {
      tmp_right = cur.right;
      for (uint64_t acc = 0; acc < step && tmp_right > cur.left; --tmp_right) acc += c[tmp_right];
    }
    if (cur.right - tmp_right >= tmp_left - cur.left) {
      cur.right = tmp_right;
      tmp_right = n;
    } else {
      cur.left = tmp_left;
      tmp_left = -1;
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
//
// Exactness of the slack. Every term of HistogramL2Error (BinError of one
// source bin) and every per-k estimate here is >= 0 as a real number, and each
// is computed with a relative rounding error below 1e-12 of its magnitude
// (|b|^3-sized cubes for a bin at distance |b| <= 2^13 from its centre, moments
// that are exact integers shifted once); their sums of n <= 2^13 nonnegative
// terms add at most n ulps more. So with E the exact real error, the computed
// error F and the computed estimate S of all destination bins satisfy
// |F - E|, |S - E| <= 1e-10 * magnitude, and the slack 1e-7 * S + 1e-9 *
// magnitude covers both: lower <= F <= upper. For a partial estimate over only
// some destination bins (S_p, E_p the exact partial error): E >= E_p because
// the omitted terms are >= 0, so S_p - slack(S_p) <= E_p (1 - 1e-10) <= F, i.e.
// a partial estimate minus its slack is a lower bound too.
struct BoundSum {
  double estimate = 0, magnitude = 0;
  void AddWhole(const CountMoments::Sums& s, double o) {
    if (s.s0 == 0) return;
    estimate += s.s2 + 2 * o * s.s1 + o * o * s.s0 + s.s0 / 12;
    magnitude += s.s2 + 2 * std::fabs(o * s.s1) + o * o * s.s0 + s.s0 / 12;
  }
  void AddTerm(double t) {
    estimate += t;
    magnitude += t;
  }
  double Slack() const { return 1e-7 * estimate + 1e-9 * magnitude; }
  double Lower() const { return estimate - Slack(); }
  L2ErrorBounds Bounds() const { return {estimate - Slack(), estimate + Slack()}; }
};

// Any candidate, any power-of-two dst_bins (a source bin may straddle many
// destination bins when the range is narrower than dst_bins).
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
  BoundSum sum;
  int64_t next = 0;  // first bin not yet counted
  int64_t edge_k = 0, edge_k1 = first_edge(1);
  for (int64_t k = 0; k <= last && next < n; ++k) {
    const int64_t end = edge_k1 - 1;  // whole bins of k: [max(edge_k, next), end)
    const int64_t lo = std::max(edge_k, next), hi = std::min(end, n);
    if (lo < hi) {
      const double centre = (static_cast<double>(k) + 0.5) * dst_w;      // (2k + 1) m / (2 dst_bins), exact
      const int64_t base = r.left + (((2 * k + 1) * m) >> (shift + 1));  // floor(left + centre)
      sum.AddWhole(mom.Around(lo, hi, base), static_cast<double>(base - r.left) - centre + 0.5);
      next = hi;
    }
    const int64_t edge_k2 = first_edge(k + 2);
    if (end >= next && end < n) {  // bin `end` runs from destination bin k into a later one
      int64_t de = k + 1;
      for (int64_t e = edge_k2; e <= end + 1; e = first_edge(de + 1)) ++de;
      const double begin = static_cast<double>(end - r.left);
      if (c[end])
        sum.AddTerm(BinError(begin, begin + 1, static_cast<double>(k), static_cast<double>(de), dst_w, half,
                             static_cast<double>(c[end])));
      next = end + 1;
    }
    edge_k = edge_k1;
    edge_k1 = edge_k2;
  }
  return sum.Bounds();
}

// The same estimate when the range spans at least dst_bins source bins
// (m >= dst_bins, dst_w >= 1): a unit source bin then crosses at most one
// destination edge, so destination bin k holds the whole source bins
// [lo_k, hi_k) with lo_k = left + ceil(k m / D) (0 for k = 0: the left tail
// joins bin 0) and hi_k = left + floor((k + 1) m / D) (n for the last bin: the
// right tail joins it), and bin hi_k straddles k and k + 1 exactly when
// (k + 1) m / D is not an integer; then lo_{k+1} = hi_k + 1. Destination bins
// are added in any order (BoundSum is a plain sum), which lets the search add
// the two edge bins (the clipped tails) first and stop early.
class RegularGrid {
 public:
  RegularGrid(const Histogram& h, const CountMoments& mom, BinRange r, int dst_bins)
      : c_(h.counts().data()),
        mom_(mom),
        n_(h.num_bins()),
        left_(r.left),
        m_(static_cast<int64_t>(r.right) - r.left + 1),
        last_(dst_bins - 1),
        shift_(std::countr_zero(static_cast<unsigned>(dst_bins))),
        dst_w_(static_cast<double>(m_) / dst_bins),
        half_(dst_w_ / 2) {}
  static bool Applies(BinRange r, int dst_bins) {
    return static_cast<int64_t>(r.right) - r.left + 1 >= dst_bins;
  }
  int64_t dst_bins() const { return last_ + 1; }

  // Adds destination bins [k0, k1).
  void Add(int64_t k0, int64_t k1, BoundSum& sum) const {
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t lo = k == 0 ? 0 : left_ + ((k * m_ + last_) >> shift_);
      const int64_t hi = k == last_ ? n_ : left_ + (((k + 1) * m_) >> shift_);
      const int64_t base = left_ + (((2 * k + 1) * m_) >> (shift_ + 1));  // floor(left + centre)
      const double centre = (static_cast<double>(k) + 0.5) * dst_w_;      // (2k + 1) m / (2 D), exact
      sum.AddWhole(mom_.Around(lo, hi, base), static_cast<double>(base - left_) - centre + 0.5);
      if (k < last_ && (((k + 1) * m_) & last_) != 0 && c_[hi] != 0) {  // bin hi straddles k, k + 1
        const double begin = static_cast<double>(hi - left_);
        sum.AddTerm(BinError(begin, begin + 1, static_cast<double>(k), static_cast<double>(k + 1), dst_w_,
                             half_, static_cast<double>(c_[hi])));
      }
    }
  }

 private:
  const uint64_t* c_;
  const CountMoments& mom_;
  int64_t n_, left_, m_, last_;
  int shift_;
  double dst_w_, half_;
};

// Bounds of a candidate on the regular grid, or nullopt as soon as a partial
// lower bound exceeds `prune_above` (the candidate cannot be the minimum). The
// two edge destination bins carry the clipped tails, so they go first; the
// last one alone (the upper tail) prunes most candidates on ResNet-56's
// activations, so it is checked before the first is added (57 layers'
// searches: 1.61 -> 1.33 ms).
std::optional<L2ErrorBounds> RegularBoundsOrPrune(const RegularGrid& grid, double prune_above) {
  constexpr int64_t kChunk = 32;
  const int64_t last = grid.dst_bins() - 1;
  BoundSum sum;
  if (last > 0) {
    grid.Add(last, last + 1, sum);
    if (sum.Lower() > prune_above) return std::nullopt;
  }
  grid.Add(0, 1, sum);
  for (int64_t k = 1; k < last; k += kChunk) {
    if (sum.Lower() > prune_above) return std::nullopt;
    grid.Add(k, std::min(k + kChunk, last), sum);
  }
  if (sum.Lower() > prune_above) return std::nullopt;
  return sum.Bounds();
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
  if (RegularGrid::Applies(r, dst_bins))
    return *RegularBoundsOrPrune(RegularGrid(h, moments, r, dst_bins),
                                 std::numeric_limits<double>::infinity());
  return BoundsFromMoments(h, moments, r, dst_bins);
}

namespace {

// The candidate search. A candidate is pruned when a lower bound of its error
// exceeds the smallest upper bound U found so far (U is >= the exact error of
// the candidate it came from, so the pruned one is not a minimum); the rest are
// evaluated exactly in candidate order, first minimum winning, so the winner is
// that of an exhaustive exact search (HistogramL2Error over every candidate).
// U only decreases, so a candidate pruned against an earlier U stays above the
// final one; a pruned candidate could not have lowered U (its upper >= lower >
// U). To make U small early, every stride-th candidate is bounded first, then
// the neighbours of the best of them, then all the rest; each bound stops as
// soon as its partial lower bound exceeds U (RegularBoundsOrPrune), which for
// most candidates happens after the two edge destination bins (the tails).
class CandidateSearch {
 public:
  CandidateSearch(const Histogram& h, std::vector<BinRange> candidates)
      : h_(h),
        candidates_(std::move(candidates)),
        moments_(h),
        state_(candidates_.size(), State::kOpen),
        bounds_(candidates_.size()) {}

  BinRange Run() {
    const size_t count = candidates_.size();
    const size_t stride = std::max<size_t>(1, count / 64);
    for (size_t k = 0; k < count; k += stride) Bound(k);
    const size_t best = best_bounded_;
    for (size_t k = best >= stride ? best - stride : 0; k < std::min(count, best + stride + 1); ++k) Bound(k);
    for (size_t k = 0; k < count; ++k) Bound(k);
    return ExactMinimum();
  }

 private:
  enum class State : uint8_t { kOpen, kBounded, kPruned };

  void Bound(size_t k) {
    if (state_[k] != State::kOpen) return;
    const BinRange r = candidates_[k];
    L2ErrorBounds b{0.0, std::numeric_limits<double>::infinity()};  // no bound: evaluated exactly
    if (moments_.ok() && FastPathApplies(h_, r, kHfmgDstBins)) {
      if (RegularGrid::Applies(r, kHfmgDstBins)) {
        const auto got = RegularBoundsOrPrune(RegularGrid(h_, moments_, r, kHfmgDstBins), upper_);
        if (!got) {
          state_[k] = State::kPruned;
          return;
        }
        b = *got;
      } else {
        b = BoundsFromMoments(h_, moments_, r, kHfmgDstBins);
      }
    }
    state_[k] = State::kBounded;
    bounds_[k] = b;
    if (b.upper < upper_) {
      upper_ = b.upper;
      best_bounded_ = k;
    }
  }

  BinRange ExactMinimum() const {
    std::vector<size_t> open;
    for (size_t k = 0; k < candidates_.size(); ++k) {
      if (state_[k] == State::kBounded && bounds_[k].lower <= upper_) open.push_back(k);
    }
    // One left (the usual case): it is the candidate whose upper bound is U,
    // and every other error exceeds U, so it is the minimum without its exact
    // error (a 4096-bin pass that would be about half the search).
    if (open.size() == 1) return candidates_[open[0]];
    BinRange best;
    double best_error = std::numeric_limits<double>::infinity();
    bool first = true;
    for (size_t k : open) {
      const BinRange r = candidates_[k];
      const double e = FastPathApplies(h_, r, kHfmgDstBins) ? FastL2Error(h_, r, kHfmgDstBins, best_error)
                                                            : HistogramL2ErrorReference(h_, r, kHfmgDstBins);
      if (first || e < best_error) {
        best = r;
        best_error = e;
        first = false;
      }
    }
    return best;
  }

  const Histogram& h_;
  const std::vector<BinRange> candidates_;
  const CountMoments moments_;
  std::vector<State> state_;
  std::vector<L2ErrorBounds> bounds_;
  double upper_ = std::numeric_limits<double>::infinity();
  size_t best_bounded_ = 0;
};

}  // namespace

Result<QuantParams> HfmgCalibrate(const Histogram& h, bool with_offset) {
  if (h.mode() != Histogram::Mode::kSigned)
    return InvalidArgument("hfmg needs a signed histogram, got one of |x|");
  if (h.empty()) return FailedPrecondition("hfmg has no calibration data (no batch was collected)");
  if (h.bin_width() <= 0) return ParamsFromRange(0, 0, with_offset);  // all data are 0
  const BinRange best = CandidateSearch(h, HfmgCandidates(h)).Run();
  return ParamsFromRange(h.BinLeft(best.left), h.BinLeft(best.right + 1), with_offset);
}

}  // namespace qcal::quant
