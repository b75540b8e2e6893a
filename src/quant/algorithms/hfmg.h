// HFMG (Histogram Feature Map Glutton): AMCT's histogram activation calibration.
//
// On a signed Histogram (merged over all batches):
// 1. Candidate bin ranges [left, right] (inclusive): start at [0, B-1] (also a
//    candidate); step = max(ceil(total / 100000), 1), min_bins = ceil(B / 4);
//    while right - left > min_bins: from the left absorb bins until they hold
//    >= step counts (-> tmp_left), from the right likewise (-> tmp_right); if
//    (right - tmp_right) >= (tmp_left - left) move right, else move left; record.
// 2. For each candidate, the L2 error of re-quantizing the histogram into
//    dst_bins (2^8) equal bins spanning [left, right] (density uniform within a
//    source bin; error measured to the destination-bin centre; mass outside the
//    range goes to the edge bins, so clipping error counts). First minimum wins.
// 3. clip_min = lo + left*w, clip_max = lo + (right+1)*w -> ParamsFromRange.
#pragma once

#include <vector>

#include "quant/algorithms/quant_params.h"
#include "quant/algorithms/statistics.h"

namespace qcal::quant {

struct BinRange {
  int left = 0, right = 0;  // inclusive bin indices
  bool operator==(const BinRange&) const = default;
};

// AMCT allows num_of_bins in {1024, 2048, 4096, 8192}; default 4096.
inline constexpr int kHfmgDefaultBins = 4096;
Status ValidateHfmgBins(int num_bins);

std::vector<BinRange> HfmgCandidates(const Histogram& h);
// L2 error in units of (bin width)^2 (the argmin does not depend on the unit).
double HistogramL2Error(const Histogram& h, BinRange r, int dst_bins = 256);
// The same error by its plain per-bin definition (a floating division and floor
// per bin edge); HistogramL2Error is bit-identical to it, only faster (tests).
double HistogramL2ErrorReference(const Histogram& h, BinRange r, int dst_bins = 256);
// Cheap bounds lower <= HistogramL2Error(h, r, dst_bins) <= upper from exact
// integer moments of the counts (HfmgCalibrate uses them to skip candidates
// that cannot win; exposed for tests).
struct L2ErrorBounds {
  double lower = 0, upper = 0;
};
L2ErrorBounds HistogramL2ErrorBounds(const Histogram& h, BinRange r, int dst_bins = 256);
// Errors: empty or |x| histogram, scale out of range.
Result<QuantParams> HfmgCalibrate(const Histogram& h, bool with_offset);

}  // namespace qcal::quant
