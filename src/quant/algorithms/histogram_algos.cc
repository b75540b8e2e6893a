#include "quant/algorithms/histogram_algos.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace qcal::quant {
namespace {

Status CheckHistogram(const Histogram& h, Histogram::Mode want, const char* algo, bool with_offset) {
  if (h.empty())
    return FailedPrecondition(std::string(algo) + " has no calibration data (no batch was collected)");
  if (h.mode() != want) {
    return InvalidArgument(std::string(algo) + (with_offset ? " with offset" : " without offset") +
                           " needs a " +
                           (want == Histogram::Mode::kAbsolute ? "histogram of |x|" : "signed histogram"));
  }
  return Status::Ok();
}

Result<QuantParams> Symmetric(double t) { return ParamsFromRange(-t, t, false); }

}  // namespace

// ----------------------------------------------------------------- percentile

Result<QuantParams> PercentileCalibrate(const Histogram& h, double percentile, bool with_offset) {
  if (!(percentile > 0 && percentile <= 100)) {
    return InvalidArgument("percentile must be in (0, 100], got " + std::to_string(percentile));
  }
  const auto mode = with_offset ? Histogram::Mode::kSigned : Histogram::Mode::kAbsolute;
  QCAL_RETURN_IF_ERROR(CheckHistogram(h, mode, "percentile", with_offset));
  const auto& c = h.counts();
  const double total = static_cast<double>(h.total());
  const int n = h.num_bins();
  if (!with_offset) {
    const double target = percentile / 100.0 * total;
    double cum = 0;
    int j = 0;
    for (; j < n - 1; ++j) {
      cum += c[j];
      if (cum >= target) break;
    }
    return Symmetric(std::min<double>(h.BinLeft(j + 1), h.max_value()));
  }
  const double tail = (100.0 - percentile) / 200.0 * total;
  double cum = 0;
  int lo_bin = 0;
  for (; lo_bin < n - 1; ++lo_bin) {
    cum += c[lo_bin];
    if (cum > tail) break;
  }
  cum = 0;
  int hi_bin = 0;
  for (; hi_bin < n - 1; ++hi_bin) {
    cum += c[hi_bin];
    if (cum >= total - tail) break;
  }
  double clip_min = std::max<double>(h.BinLeft(lo_bin), h.min_value());
  double clip_max = std::min<double>(h.BinLeft(hi_bin + 1), h.max_value());
  return ParamsFromRange(clip_min, clip_max, true);
}

// ------------------------------------------------------------------------- kl

namespace {

std::vector<double> NonZeroCounts(const Histogram& h) {
  std::vector<double> p(h.counts().begin(), h.counts().end());
  p[h.BinOf(0.0)] -= static_cast<double>(h.zero_count());
  return p;
}

// KL(P || Q) as TensorRT's entropy calibration computes it: P = bins[0, i) with
// the clipped tail added to bin i-1; Q = the *unclipped* bins[0, i) merged into
// q_bins groups, each group's mass spread over its non-empty bins. Both are
// normalized. (Building Q from P instead makes i = q_bins always score 0, so
// every layer would clip at 128/2048 of its range.) Infinite when P has mass
// where Q has none.
double Divergence(const std::vector<double>& bins, const std::vector<double>& suffix, int i, int q_bins) {
  const double p_total = suffix[0], q_total = suffix[0] - suffix[static_cast<size_t>(i)];
  if (q_total <= 0) return std::numeric_limits<double>::infinity();
  std::vector<double> q(static_cast<size_t>(i), 0.0);
  for (int g = 0; g < q_bins; ++g) {
    const int b = static_cast<int>(static_cast<int64_t>(g) * i / q_bins);
    const int e = static_cast<int>(static_cast<int64_t>(g + 1) * i / q_bins);
    double mass = 0;
    int nonzero = 0;
    for (int j = b; j < e; ++j) {
      mass += bins[j];
      nonzero += bins[j] > 0;
    }
    for (int j = b; j < e; ++j) q[j] = bins[j] > 0 ? mass / nonzero : 0.0;
  }
  double kl = 0;
  for (int j = 0; j < i; ++j) {
    const double p = (j == i - 1 ? bins[j] + suffix[static_cast<size_t>(i)] : bins[j]) / p_total;
    if (p <= 0) continue;
    if (q[j] <= 0) return std::numeric_limits<double>::infinity();
    kl += p * std::log(p / (q[j] / q_total));
  }
  return kl;
}

std::vector<double> SuffixSums(const std::vector<double>& bins) {
  std::vector<double> s(bins.size() + 1, 0.0);
  for (size_t j = bins.size(); j-- > 0;) s[j] = s[j + 1] + bins[j];
  return s;
}

}  // namespace

double KlDivergence(const Histogram& h, int i, int num_quantized_bins) {
  std::vector<double> bins = NonZeroCounts(h);
  std::vector<double> suffix = SuffixSums(bins);
  const double total = suffix[0];
  return total > 0 ? Divergence(bins, suffix, i, num_quantized_bins) : 0.0;
}

Result<QuantParams> KlCalibrate(const Histogram& h, int num_quantized_bins) {
  QCAL_RETURN_IF_ERROR(CheckHistogram(h, Histogram::Mode::kAbsolute, "kl", false));
  const int n = h.num_bins();
  if (num_quantized_bins < 2 || num_quantized_bins > n) {
    return InvalidArgument("kl needs 2 <= quantized bins (" + std::to_string(num_quantized_bins) +
                           ") <= histogram bins (" + std::to_string(n) + ")");
  }
  std::vector<double> bins = NonZeroCounts(h);
  std::vector<double> suffix = SuffixSums(bins);
  if (suffix[0] <= 0 || h.bin_width() <= 0) return Symmetric(h.max_value());  // all zeros
  int best_i = n;
  double best = std::numeric_limits<double>::infinity();
  for (int i = num_quantized_bins; i <= n; ++i) {
    double kl = Divergence(bins, suffix, i, num_quantized_bins);
    if (kl <= best) {  // last minimum wins
      best = kl;
      best_i = i;
    }
  }
  return Symmetric(std::min<double>(h.BinLeft(best_i), h.max_value()));
}

// ------------------------------------------------------------------------ mse

double HistogramQuantError(const Histogram& h, QuantParams p) {
  const double s = p.scale;
  const auto& c = h.counts();
  const double w = h.bin_width();
  double error = 0;
  for (int i = 0; i < h.num_bins(); ++i) {
    if (c[i] == 0) continue;
    if (w <= 0) {  // point mass at 0
      double e = FakeQuantValue(0.0f, p);
      error += c[i] * e * e;
      continue;
    }
    const double a = h.BinLeft(i), b = h.BinLeft(i + 1), density = c[i] / w;
    double cur = a;
    // Level index in [-128, 127] holding x, ignoring ties (measure zero).
    double q = std::clamp(std::floor(cur / s + 0.5) + p.offset, static_cast<double>(kInt8Min),
                          static_cast<double>(kInt8Max));
    while (cur < b) {
      const double boundary =
          q < kInt8Max ? (q - p.offset + 0.5) * s : std::numeric_limits<double>::infinity();
      const double end = std::min(b, boundary);
      const double level = (q - p.offset) * s;
      const double e0 = cur - level, e1 = end - level;
      error += density * (e1 * e1 * e1 - e0 * e0 * e0) / 3.0;
      cur = end;
      q += 1;
    }
  }
  return error;
}

namespace {

struct Best {
  QuantParams params;
  double error = std::numeric_limits<double>::infinity();
  int a = 0, b = 0;
};

// Tries clip range [edge(a), edge(b)] (clamped to the observed data).
Status TryRange(const Histogram& h, int a, int b, Best* best) {
  double lo = std::max<double>(h.BinLeft(a), h.min_value());
  double hi = std::min<double>(h.BinLeft(b), h.max_value());
  QCAL_ASSIGN_OR_RETURN(QuantParams p, ParamsFromRange(lo, hi, true));
  double e = HistogramQuantError(h, p);
  if (e < best->error) *best = Best{p, e, a, b};
  return Status::Ok();
}

// lo, lo+step, ... and always hi.
std::vector<int> GridPoints(int lo, int hi, int step) {
  std::vector<int> g;
  for (int v = lo; v < hi; v += step) g.push_back(v);
  g.push_back(hi);
  return g;
}

}  // namespace

Result<QuantParams> MseCalibrate(const Histogram& h, bool with_offset) {
  const auto mode = with_offset ? Histogram::Mode::kSigned : Histogram::Mode::kAbsolute;
  QCAL_RETURN_IF_ERROR(CheckHistogram(h, mode, "mse", with_offset));
  const int n = h.num_bins();
  if (h.bin_width() <= 0) return ParamsFromRange(0, 0, with_offset);  // all data are 0
  if (!with_offset) {
    QuantParams best_p;
    double best_e = std::numeric_limits<double>::infinity();
    for (int j = 1; j <= n; ++j) {
      QCAL_ASSIGN_OR_RETURN(QuantParams p, Symmetric(std::min<double>(h.BinLeft(j), h.max_value())));
      double e = HistogramQuantError(h, p);
      if (e < best_e) {
        best_e = e;
        best_p = p;
      }
    }
    return best_p;
  }
  // Bin edge at (or nearest) 0 splits the two searches.
  const int zero =
      static_cast<int>(std::clamp(std::round(-h.lo() / h.bin_width()), 0.0, static_cast<double>(n)));
  Best best;
  int a_lo = 0, a_hi = zero, b_lo = zero, b_hi = n;
  for (int step = std::max(1, n / 32);; step = std::max(1, step / 8)) {
    for (int a : GridPoints(a_lo, a_hi, step)) {
      for (int b : GridPoints(b_lo, b_hi, step)) QCAL_RETURN_IF_ERROR(TryRange(h, a, b, &best));
    }
    if (step == 1) break;
    a_lo = std::max(0, best.a - step);
    a_hi = std::min(zero, best.a + step);
    b_lo = std::max(zero, best.b - step);
    b_hi = std::min(n, best.b + step);
  }
  return best.params;
}

}  // namespace qcal::quant
