#include "quant/algorithms/hfmg.h"

#include <algorithm>
#include <cmath>
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
}  // namespace

double HistogramL2Error(const Histogram& h, BinRange r, int dst_bins) {
  const double dst_w = static_cast<double>(r.right - r.left + 1) / dst_bins;  // source bin width = 1
  const double half = dst_w / 2;
  double error = 0;
  const auto& c = h.counts();
  for (int i = 0; i < h.num_bins(); ++i) {
    if (c[i] == 0) continue;
    const double density = static_cast<double>(c[i]);
    const double begin = i - r.left, end = begin + 1;
    const double db = std::clamp(std::floor(begin / dst_w), 0.0, dst_bins - 1.0);
    const double de = std::clamp(std::floor(end / dst_w), 0.0, dst_bins - 1.0);
    const double cb = (db + 0.5) * dst_w, ce = (de + 0.5) * dst_w;
    if (db == de) {
      error += Norm(begin - cb, end - cb, density);
    } else {
      error += Norm(begin - cb, half, density) + (de - db - 1) * Norm(-half, half, density) +
               Norm(-half, end - ce, density);
    }
  }
  return error;
}

Result<QuantParams> HfmgCalibrate(const Histogram& h, bool with_offset) {
  if (h.mode() != Histogram::Mode::kSigned)
    return InvalidArgument("hfmg needs a signed histogram, got one of |x|");
  if (h.empty()) return FailedPrecondition("hfmg has no calibration data (no batch was collected)");
  if (h.bin_width() <= 0) return ParamsFromRange(0, 0, with_offset);  // all data are 0
  BinRange best;
  double best_error = 0;
  bool first = true;
  for (BinRange r : HfmgCandidates(h)) {
    double e = HistogramL2Error(h, r);
    if (first || e < best_error) {
      best = r;
      best_error = e;
      first = false;
    }
  }
  return ParamsFromRange(h.BinLeft(best.left), h.BinLeft(best.right + 1), with_offset);
}

}  // namespace qcal::quant
