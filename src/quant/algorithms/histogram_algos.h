// Histogram-based activation calibrations of the peer tools (calibration-peers.md
// section 2), each a pure function of a Histogram.
//
// percentile (default 99.99)
//   Symmetric, |x| histogram: T = right edge of the first bin where the CDF
//   reaches p/100, clipped to the observed max|x|; scale = T/127.
//   Asymmetric, signed histogram: (100-p)/200 of the mass is cut from each side
//   (ONNX Runtime's rule): clip_min = left edge of the first bin where the CDF
//   exceeds the low tail, clip_max = right edge of the first bin where it reaches
//   1 - tail; both clipped to the observed min/max.
//
// kl (TensorRT / ncnn entropy calibration; symmetric only), |x| histogram of B
// (2048) bins, Q (128) quantized bins:
//   - exact zeros are removed from bin 0 (they quantize exactly; ncnn skips them,
//     TensorRT instead overwrites bin 0 with bin 1, which invents data);
//   - for every i in [Q, B]: P = bins[0, i) with the tail mass added to bin i-1;
//     split [0, i) into Q groups [floor(g*i/Q), floor((g+1)*i/Q)); each group's
//     mass (of P, tail included) is spread evenly over its non-empty bins -> Q.
//     Q is zero exactly where P is, so KL(P||Q) is finite without epsilon hacks
//     (ncnn adds 1e-4 without renormalising, MNN adds a +1 penalty); P and Q
//     have the same mass, so the normalisation is exact (no per-array rounding);
//   - every integer i is a candidate (no coarse 128-step grid as in PPQ);
//   - the last minimum wins (TensorRT); T = i*w (a bin edge, as TensorRT),
//     clipped to the observed max|x|; scale = T/127 (not /128 as PPQ).
//
// mse: the clip range minimising the expected squared quantization error on
//   the histogram (density uniform within each bin; exact piecewise integral
//   over the int8 levels and the clipping, not bin centres).
//   Symmetric (|x| histogram): T over every bin edge, scale = T/127.
//   Asymmetric (signed): (clip_min, clip_max) over bin edges on both sides of 0,
//   searched coarse-to-fine (grid step B/32, then /8 around the best, to 1).
#pragma once

#include "quant/algorithms/quant_params.h"
#include "quant/algorithms/statistics.h"

namespace qcal::quant {

inline constexpr double kDefaultPercentile = 99.99;
inline constexpr int kDefaultHistogramBins = 2048;
inline constexpr int kDefaultQuantizedBins = 128;

Result<QuantParams> PercentileCalibrate(const Histogram& h, double percentile, bool with_offset);

// Relative KL divergence of candidate i (sum P ln(P/Q) over the non-zero-count
// mass); exposed for tests. i in [num_quantized_bins, B].
double KlDivergence(const Histogram& h, int i, int num_quantized_bins);
Result<QuantParams> KlCalibrate(const Histogram& h, int num_quantized_bins = kDefaultQuantizedBins);

// Expected sum of squared errors of fake-quantizing the histogram's data with `p`.
double HistogramQuantError(const Histogram& h, QuantParams p);
Result<QuantParams> MseCalibrate(const Histogram& h, bool with_offset);

}  // namespace qcal::quant
