// Statistics collected from calibration batches; the algorithms are pure
// functions of these.
//
// - MinMaxStats: streaming min/max (minmax).
// - Histogram: fixed bin count over a range that grows with the data, signed
//   (hfmg, asymmetric percentile/mse) or of |x| (kl, symmetric percentile/mse).
// - RawValueStore: every value, in a buffer allocated once under a byte limit
//   (ifmr, which needs exact order statistics and per-value losses).
//
// Update functions reject NaN/Inf naming the element; the caller adds the
// layer name and batch index (Status::WithContext). A rejected batch leaves the
// statistic unchanged.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "qcal/status.h"

namespace qcal::quant {

class MinMaxStats {
 public:
  Status Update(std::span<const float> data);
  void Merge(const MinMaxStats& other);
  bool empty() const { return count_ == 0; }
  uint64_t count() const { return count_; }
  float min() const { return min_; }  // 0 when empty
  float max() const { return max_; }

 private:
  float min_ = 0, max_ = 0;
  uint64_t count_ = 0;
};

// Histogram with `num_bins` equal bins over [lo, hi].
//
// Range: the first batch sets [min(data, 0), max(data, 0)] (kAbsolute: [0, max|x|]);
// 0 is always inside because quantization ranges must include it. When later
// data fall outside, the range grows to lo' = lo - m*w, width w' = k*w for
// integers m >= 0, k >= 1, so every old bin lies inside exactly one new bin and
// re-binning moves whole counts: no interpolation, no blur, counts preserved
// exactly (unlike HistogramObserver's upsample-and-interpolate or HFMG's
// int(count*fraction) split, which loses counts). Bounds are kept as doubles
// (never truncated to integers).
// Merge() of histograms over unaligned grids splits each foreign bin over the
// bins it overlaps in proportion to the overlap, rounding cumulatively so the
// total is exact.
// Exact zeros are also counted separately (zero_count) so KL can ignore the
// zero spike after ReLU instead of editing bin 0.
// On AVX-512, Add finds the extremes and copies the values that are not ±0 in
// one pass, then bins the copy: each calling thread keeps one scratch buffer
// as large as the largest batch it has added (4 bytes per value).
class Histogram {
 public:
  enum class Mode { kSigned, kAbsolute };

  // num_bins >= 1, else InvalidArgument.
  static Result<Histogram> Create(int num_bins, Mode mode);
  // Hands h's bin counts to the next histogram Create makes on this thread:
  // memory whose pages are already faulted in (calibration's observers finish
  // one tensor's histogram before the next tensor's is created; a fresh
  // 4096-bin histogram costs 8 page faults, ~1.5 us each on this machine).
  static void Release(Histogram&& h);

  Status Add(std::span<const float> data);
  // `other` must have the same bin count and mode.
  Status Merge(const Histogram& other);
  // A histogram with the given counts over [lo, lo + width * counts.size()] (tests and tools:
  // adversarial shapes and huge counts without adding every value). min/max are the range ends,
  // zero_count 0. InvalidArgument for no bins, width < 0 or a non-finite lo/width.
  static Result<Histogram> FromCounts(Mode mode, double lo, double width, std::vector<uint64_t> counts);

  int num_bins() const { return static_cast<int>(counts_.size()); }
  Mode mode() const { return mode_; }
  bool empty() const { return total_ == 0; }
  double lo() const { return lo_; }
  double hi() const { return lo_ + width_ * num_bins(); }
  double bin_width() const { return width_; }  // 0 while all data are 0
  double BinLeft(int i) const { return lo_ + width_ * i; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t total() const { return total_; }
  uint64_t zero_count() const { return zeros_; }
  // Observed extremes of the data added (of |x| for kAbsolute).
  float min_value() const { return min_; }
  float max_value() const { return max_; }

  // Bin holding value v (clamped to [0, num_bins-1]).
  int BinOf(double v) const;

 private:
  Histogram(int num_bins, Mode mode) : mode_(mode), counts_(num_bins, 0) {}
  void Init(double lo, double hi);
  void GrowToCover(double need_lo, double need_hi);
  void AddSpread(double a, double b, uint64_t count);
  // ++ the bin of every value of the pieces (BinOf), plus `zeros` ±0 values left out of them.
  void CountBins(const std::vector<std::span<const float>>& pieces, uint64_t zeros);

  Mode mode_;
  std::vector<uint64_t> counts_;
  double lo_ = 0, width_ = 0;
  bool initialized_ = false;
  uint64_t total_ = 0, zeros_ = 0;
  float min_ = 0, max_ = 0;
};

// The instruction sets the histogram binning and extreme scans may use.
enum class StatsIsa { kBaseline, kAvx2, kAvx512 };

// While alive, histogram binning and the extreme scans use at most `cap`
// (tests compare every build bit for bit; not thread-safe, tests only).
class ScopedStatsIsaCap {
 public:
  explicit ScopedStatsIsaCap(StatsIsa cap);
  ~ScopedStatsIsaCap();
  ScopedStatsIsaCap(const ScopedStatsIsaCap&) = delete;
  ScopedStatsIsaCap& operator=(const ScopedStatsIsaCap&) = delete;

 private:
  StatsIsa previous_;
};

// Bytes needed to keep `elements_per_batch * batch_num` float32 values.
// OutOfRange if the product overflows.
Result<uint64_t> RequiredRawBytes(uint64_t elements_per_batch, uint64_t batch_num);

// Keeps every calibration value of one tensor for IFMR, in one buffer
// allocated up front. Create() refuses (OutOfRange, naming the numbers) when
// the data would exceed `limit_bytes`, before anything is collected.
class RawValueStore {
 public:
  static Result<RawValueStore> Create(uint64_t elements_per_batch, uint64_t batch_num, uint64_t limit_bytes);

  // Appends one batch. Errors: NaN/Inf (naming element and batch index),
  // more values than reserved (naming the counts).
  Status Append(std::span<const float> batch);

  std::span<const float> values() const { return values_; }
  int64_t batches() const { return static_cast<int64_t>(batch_ends_.size()); }
  uint64_t bytes_held() const { return values_.size() * sizeof(float); }
  uint64_t capacity_bytes() const { return capacity_ * sizeof(float); }
  // Batch index holding flat element `i` (-1 if out of range).
  int64_t BatchOf(uint64_t i) const;

 private:
  RawValueStore() = default;
  std::vector<float> values_;
  std::vector<uint64_t> batch_ends_;
  uint64_t capacity_ = 0;
};

}  // namespace qcal::quant
