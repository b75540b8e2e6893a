#include "quant/algorithms/statistics.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <string>

#include "kernels/threads.h"
#include "quant/algorithms/quant_params.h"

namespace qcal::quant {

// ---------------------------------------------------------------- MinMaxStats

namespace {

// Extremes of v(x) = x (or |x|) over data, exactly as a sequential scan keeps
// them: the first minimal element, and the first (or, like
// std::minmax_element, the last) maximal one. Only ±0 can tell equal values
// apart, so lane-wise extremes are exact except for the sign of a zero result,
// which is looked up afterwards. Also counts exact zeros and notes whether any
// value is NaN or Inf (the caller then reports it with CheckFinite), so the
// data are read once for all three.
struct Extremes {
  float min = 0, max = 0;
  uint64_t zeros = 0;
  bool finite = true;
};

// The same code compiled twice: for the baseline ISA and for AVX2 (picked at
// run time). Only "avx2", never "fma": without FMA the compiler cannot contract
// a * b + c, so both builds round every operation identically (IEEE-754
// division, subtraction, comparisons and conversions are exact-rounded at any
// vector width) and give bit-identical results.
#define QCAL_STATS_AVX2 __attribute__((target("avx2")))
// A third copy for AVX-512 (picked before AVX2). Again no "fma" and no
// contractible a * b + c in the bodies (BinIndices divides, then clamps), so
// -ffp-contract cannot fuse anything and this build rounds like the others.
#define QCAL_STATS_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

StatsIsa isa_cap = StatsIsa::kAvx512;                               // ScopedStatsIsaCap
bool compact_enabled = getenv("QCAL_STATS_NO_COMPACT") == nullptr;  // A/B switch for benchmarks

bool HasAvx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 && isa_cap >= StatsIsa::kAvx2;
}

bool HasAvx512() {
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return avx512 && isa_cap >= StatsIsa::kAvx512;
}

// A zero extreme takes the sign a sequential scan would keep: the first zero
// for the minimum, the first (or last) one for the maximum.
void FixZeroSigns(std::span<const float> data, bool abs, bool last_max, Extremes& e) {
  auto value = [abs](float x) { return abs ? std::fabs(x) : x; };
  auto first_zero = [&] {
    for (float x : data) {
      if (value(x) == 0.0f) return value(x);
    }
    return 0.0f;
  };
  auto last_zero = [&] {
    for (size_t j = data.size(); j-- > 0;) {
      if (value(data[j]) == 0.0f) return value(data[j]);
    }
    return 0.0f;
  };
  if (e.min == 0.0f) e.min = first_zero();
  if (e.max == 0.0f) e.max = last_max ? last_zero() : first_zero();
}

__attribute__((always_inline)) inline Extremes ScanExtremesBody(std::span<const float> data, bool abs,
                                                                bool last_max) {
  constexpr int kLanes = 16;
  const float* p = data.data();
  const size_t n = data.size();
  auto value = [abs](float x) { return abs ? std::fabs(x) : x; };
  float lo[kLanes], hi[kLanes];
  uint32_t zeros[kLanes] = {}, bad[kLanes] = {};
  constexpr float kMax = std::numeric_limits<float>::max();
  for (int l = 0; l < kLanes; ++l) lo[l] = hi[l] = value(p[0]);
  Extremes e;
  size_t i = 0;
  // Zero counts per lane stay below 2^32 within a block.
  for (size_t block_end; i + kLanes <= n; i = block_end) {
    block_end = std::min(n - n % kLanes, i + (size_t{1} << 30));
    for (; i < block_end; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const float v = value(p[i + l]);
        lo[l] = v < lo[l] ? v : lo[l];
        hi[l] = v > hi[l] ? v : hi[l];
        zeros[l] += p[i + l] == 0.0f;
        bad[l] |= !(std::fabs(p[i + l]) <= kMax);
      }
    }
    for (int l = 0; l < kLanes; ++l) {
      e.zeros += zeros[l];
      zeros[l] = 0;
    }
  }
  for (; i < n; ++i) {
    const float v = value(p[i]);
    lo[0] = v < lo[0] ? v : lo[0];
    hi[0] = v > hi[0] ? v : hi[0];
    e.zeros += p[i] == 0.0f;
    bad[0] |= !(std::fabs(p[i]) <= kMax);
  }
  e.min = lo[0];
  e.max = hi[0];
  for (int l = 0; l < kLanes; ++l) e.finite &= !bad[l];
  for (int l = 1; l < kLanes; ++l) {
    e.min = lo[l] < e.min ? lo[l] : e.min;
    e.max = hi[l] > e.max ? hi[l] : e.max;
  }
  FixZeroSigns(data, abs, last_max, e);
  return e;
}

QCAL_STATS_AVX2 Extremes ScanExtremesAvx2(std::span<const float> data, bool abs, bool last_max) {
  return ScanExtremesBody(data, abs, last_max);
}

QCAL_STATS_AVX512 Extremes ScanExtremesAvx512(std::span<const float> data, bool abs, bool last_max) {
  return ScanExtremesBody(data, abs, last_max);
}

Extremes ScanExtremes(std::span<const float> data, bool abs, bool last_max) {
  if (HasAvx512()) return ScanExtremesAvx512(data, abs, last_max);
  if (HasAvx2()) return ScanExtremesAvx2(data, abs, last_max);
  return ScanExtremesBody(data, abs, last_max);
}

// Bin index of every value of p[0, len): BinOf's double arithmetic, clamped to
// [0, top] before the truncating conversion, so the loop has no branch or call
// and vectorizes.
__attribute__((always_inline)) inline void BinIndicesBody(const float* p, size_t len, bool abs, double lo,
                                                          double width, int32_t last, int32_t* idx) {
  const double top = last + 1.0;
  for (size_t j = 0; j < len; ++j) {
    double x = (static_cast<double>(abs ? std::fabs(p[j]) : p[j]) - lo) / width;
    x = x > 0.0 ? x : 0.0;
    x = x < top ? x : top;
    const auto k = static_cast<int32_t>(x);
    idx[j] = k < last ? k : last;
  }
}

QCAL_STATS_AVX2 void BinIndicesAvx2(const float* p, size_t len, bool abs, double lo, double width,
                                    int32_t last, int32_t* idx) {
  BinIndicesBody(p, len, abs, lo, width, last, idx);
}

QCAL_STATS_AVX512 void BinIndicesAvx512(const float* p, size_t len, bool abs, double lo, double width,
                                        int32_t last, int32_t* idx) {
  BinIndicesBody(p, len, abs, lo, width, last, idx);
}

void BinIndices(const float* p, size_t len, bool abs, double lo, double width, int32_t last, int32_t* idx) {
  if (HasAvx512()) return BinIndicesAvx512(p, len, abs, lo, width, last, idx);
  if (HasAvx2()) return BinIndicesAvx2(p, len, abs, lo, width, last, idx);
  BinIndicesBody(p, len, abs, lo, width, last, idx);
}

// Large scans and binnings are split into one contiguous piece per thread
// (the executor's --threads, kernels/threads.h); below this many values per
// piece the calling thread does it alone.
constexpr size_t kParallelMinValues = size_t{1} << 16;

int PiecesFor(size_t n) {
  const size_t threads = static_cast<size_t>(std::max(1, ResolvedNumThreads()));
  return static_cast<int>(std::clamp<size_t>(n / kParallelMinValues, 1, threads));
}

std::span<const float> Piece(std::span<const float> data, int i, int pieces) {
  const size_t n = data.size();
  const size_t begin = n * i / pieces, end = n * (i + 1) / pieces;
  return data.subspan(begin, end - begin);
}

// The extremes of a followed by b as one sequential scan keeps them: the first
// minimum and the first (or last) maximum, so the sign of a zero result is the
// one the whole scan would give.
Extremes Concatenate(const Extremes& a, const Extremes& b, bool last_max) {
  Extremes e;
  e.min = b.min < a.min ? b.min : a.min;
  e.max = (last_max ? b.max >= a.max : b.max > a.max) ? b.max : a.max;
  e.zeros = a.zeros + b.zeros;
  e.finite = a.finite && b.finite;
  return e;
}

// scan(piece, i) over one contiguous piece per thread (PiecesFor), the
// extremes concatenated in data order: identical to one sequential scan.
template <typename Scan>
Extremes ScanPieces(std::span<const float> data, bool last_max, Scan scan) {
  const int pieces = PiecesFor(data.size());
  std::vector<Extremes> part(pieces);
#pragma omp parallel for num_threads(pieces) schedule(static) if (pieces > 1)
  for (int i = 0; i < pieces; ++i) part[i] = scan(Piece(data, i, pieces), i);
  Extremes e = part[0];
  for (int i = 1; i < pieces; ++i) e = Concatenate(e, part[i], last_max);
  return e;
}

Extremes ScanExtremesParallel(std::span<const float> data, bool abs, bool last_max) {
  return ScanPieces(data, last_max,
                    [&](std::span<const float> piece, int) { return ScanExtremes(piece, abs, last_max); });
}

// ScanExtremesBody's extremes of data in the same pass that copies the values
// that are not ±0 to out (room for data.size()), in order: e.zeros values are
// left out. Post-ReLU tensors are about half zeros, so the binning then reads
// half the values, and the data are read once instead of twice.
QCAL_STATS_AVX512 Extremes ScanCompactAvx512(std::span<const float> data, bool abs, bool last_max,
                                             float* out) {
  const float* p = data.data();
  const size_t n = data.size();
  auto value = [abs](float x) { return abs ? std::fabs(x) : x; };
  constexpr float kMax = std::numeric_limits<float>::max();
  const __m512 sign = _mm512_set1_ps(-0.0f), vmax = _mm512_set1_ps(kMax);
  __m512 lo = _mm512_set1_ps(value(p[0])), hi = lo;  // min_ps(v, lo) is v < lo ? v : lo, as in the body
  __mmask16 bad = 0;
  size_t m = 0, i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(p + i);
    const __m512 ax = _mm512_andnot_ps(sign, x);
    const __m512 v = abs ? ax : x;
    lo = _mm512_mask_min_ps(lo, 0xffff, v, lo);  // full-mask forms: GCC 12's plain ones warn
    hi = _mm512_mask_max_ps(hi, 0xffff, v, hi);
    bad |= _mm512_cmp_ps_mask(ax, vmax, _CMP_NLE_UQ);  // !(|x| <= max): NaN or Inf
    const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    // Compress in a register, then store all 16 lanes (m + 16 <= i + 16 <= n: inside
    // this piece's part of out): a compress store to memory is microcoded and slow
    // on AMD Zen 4 (it took 2/3 of this loop's samples).
    _mm512_storeu_ps(out + m, _mm512_maskz_compress_ps(keep, x));
    m += static_cast<size_t>(__builtin_popcount(keep));
  }
  alignas(64) float lanes_lo[16], lanes_hi[16];
  _mm512_store_ps(lanes_lo, lo);
  _mm512_store_ps(lanes_hi, hi);
  Extremes e;
  e.min = lanes_lo[0];
  e.max = lanes_hi[0];
  for (int l = 1; l < 16; ++l) {
    e.min = lanes_lo[l] < e.min ? lanes_lo[l] : e.min;
    e.max = lanes_hi[l] > e.max ? lanes_hi[l] : e.max;
  }
  e.finite = bad == 0;
  for (; i < n; ++i) {
    const float v = value(p[i]);
    e.min = v < e.min ? v : e.min;
    e.max = v > e.max ? v : e.max;
    e.finite &= std::fabs(p[i]) <= kMax;
    if (p[i] != 0.0f) out[m++] = p[i];
  }
  e.zeros = n - m;
  FixZeroSigns(data, abs, last_max, e);
  return e;
}

// The calling thread's buffer for compacted values, grown to the largest
// tensor it has observed (so bounded by the model's largest activation) and
// left uninitialized; null if that much cannot be allocated (the caller then
// scans and bins without it). (Transparent huge pages were tried: with the
// kernel's "madvise" defrag policy the first fault could stall for milliseconds.)
float* CompactScratch(size_t floats) {
  thread_local std::unique_ptr<float[]> buffer;
  thread_local size_t capacity = 0;
  if (floats > capacity) {
    buffer.reset(new (std::nothrow) float[floats]);
    capacity = buffer ? floats : 0;
  }
  return buffer.get();
}

// ScanCompactAvx512 over the pieces of ScanPieces: piece i's values go to out
// at the piece's offset, and kept[i] gets them.
Extremes ScanCompactParallel(std::span<const float> data, bool abs, bool last_max, float* out,
                             std::vector<std::span<const float>>& kept) {
  kept.assign(PiecesFor(data.size()), {});
  return ScanPieces(data, last_max, [&](std::span<const float> piece, int i) {
    float* o = out + (piece.data() - data.data());
    const Extremes e = ScanCompactAvx512(piece, abs, last_max, o);
    kept[i] = {o, piece.size() - e.zeros};
    return e;
  });
}

// ++counts[BinOf(v)] for every value (BinIndices, then kWays interleaved
// 32-bit count arrays, so runs of one bin do not serialize on a single
// counter).
void CountBinsInto(std::span<const float> data, bool abs, double lo, double width, uint64_t* counts,
                   size_t n) {
  const auto last = static_cast<int32_t>(n - 1);
  constexpr size_t kWays = 4, kChunk = 512;
  // Small batches count straight into counts (the merge would cost more); the
  // 32-bit lanes cannot overflow while a call has < 2^32 values. The threshold
  // (8 values per lane counter; was 32) matters since compaction halves the
  // post-ReLU batches: on ResNet-56 a third of the counting samples were in
  // the one-way loop.
  const size_t ways = data.size() >= 2 * kWays * n && data.size() < (uint64_t{1} << 32) ? kWays : 1;
  thread_local std::vector<uint32_t> lanes;  // scratch shared by every histogram of the thread
  if (ways > 1) lanes.assign(ways * n, 0);
  uint32_t* lane = lanes.data();
  int32_t idx[kChunk];
  for (size_t start = 0; start < data.size(); start += kChunk) {
    const size_t len = std::min(kChunk, data.size() - start);
    BinIndices(data.data() + start, len, abs, lo, width, last, idx);
    size_t j = 0;
    if (ways == kWays) {
      for (; j + kWays <= len; j += kWays) {
        for (size_t w = 0; w < kWays; ++w) ++lane[w * n + static_cast<size_t>(idx[j + w])];
      }
    }
    for (; j < len; ++j) ++counts[idx[j]];
  }
  if (ways > 1) {
    for (size_t w = 0; w < ways; ++w) {
      for (size_t b = 0; b < n; ++b) counts[b] += lanes[w * n + b];
    }
  }
}

}  // namespace

Status MinMaxStats::Update(std::span<const float> data) {
  if (data.empty()) return Status::Ok();
  const Extremes e = ScanExtremesParallel(data, /*abs=*/false, /*last_max=*/true);
  if (!e.finite) QCAL_RETURN_IF_ERROR(CheckFinite(data, "calibration data"));
  if (count_ == 0) {
    min_ = e.min;
    max_ = e.max;
  } else {
    min_ = std::min(min_, e.min);
    max_ = std::max(max_, e.max);
  }
  count_ += data.size();
  return Status::Ok();
}

void MinMaxStats::Merge(const MinMaxStats& other) {
  if (other.empty()) return;
  if (empty()) {
    *this = other;
    return;
  }
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
}

ScopedStatsIsaCap::ScopedStatsIsaCap(StatsIsa cap) : previous_(isa_cap) { isa_cap = std::min(cap, isa_cap); }
ScopedStatsIsaCap::~ScopedStatsIsaCap() { isa_cap = previous_; }

// ------------------------------------------------------------------ Histogram

namespace {
// Counts given back by Histogram::Release, for the next Create on this thread.
thread_local std::vector<std::vector<uint64_t>> released_counts;
constexpr size_t kMaxReleasedCounts = 4;
}  // namespace

Result<Histogram> Histogram::Create(int num_bins, Mode mode) {
  if (num_bins < 1)
    return InvalidArgument("histogram bin count must be >= 1, got " + std::to_string(num_bins));
  Histogram h(0, mode);
  if (!released_counts.empty()) {
    h.counts_ = std::move(released_counts.back());
    released_counts.pop_back();
  }
  h.counts_.assign(static_cast<size_t>(num_bins), 0);
  return h;
}

void Histogram::Release(Histogram&& h) {
  if (h.counts_.capacity() == 0 || released_counts.size() >= kMaxReleasedCounts) return;
  released_counts.push_back(std::move(h.counts_));
  h = Histogram(0, h.mode_);
}

Result<Histogram> Histogram::FromCounts(Mode mode, double lo, double width, std::vector<uint64_t> counts) {
  if (counts.empty() || !(width >= 0) || !std::isfinite(lo) || !std::isfinite(width))
    return InvalidArgument("histogram from counts needs >= 1 bin and a finite lo and width >= 0, got " +
                           std::to_string(counts.size()) + " bins, lo " + std::to_string(lo) + ", width " +
                           std::to_string(width));
  Histogram h(static_cast<int>(counts.size()), mode);
  h.counts_ = std::move(counts);
  h.lo_ = lo;
  h.width_ = width;
  h.initialized_ = true;
  for (uint64_t c : h.counts_) h.total_ += c;
  h.min_ = static_cast<float>(h.lo());
  h.max_ = static_cast<float>(h.hi());
  return h;
}

int Histogram::BinOf(double v) const {
  if (width_ <= 0) return 0;
  double idx = std::floor((v - lo_) / width_);
  if (!(idx >= 0)) return 0;
  if (idx >= num_bins()) return num_bins() - 1;
  return static_cast<int>(idx);
}

void Histogram::Init(double lo, double hi) {
  lo_ = lo;
  width_ = (hi - lo) / num_bins();
  initialized_ = true;
}

void Histogram::GrowToCover(double need_lo, double need_hi) {
  const int n = num_bins();
  need_lo = std::min(need_lo, lo_);
  need_hi = std::max(need_hi, hi());
  if (width_ <= 0) {  // all mass so far sits at lo_ (== 0)
    uint64_t mass = counts_[0];
    counts_[0] = 0;
    Init(std::min(need_lo, 0.0), std::max(need_hi, 0.0));
    counts_[BinOf(0.0)] += mass;
    return;
  }
  // New grid: lo' = lo - m*w, w' = k*w (m, k integers) so old bins nest in new ones.
  double m = need_lo < lo_ ? std::ceil((lo_ - need_lo) / width_) : 0.0;
  double new_lo = lo_ - m * width_;
  double k = std::max(1.0, std::ceil((need_hi - new_lo) / (width_ * n)));
  while (new_lo + k * width_ * n < need_hi) k += std::max(1.0, std::ceil(k * 1e-9));  // rounding guard
  double new_width = k * width_;
  std::vector<uint64_t> grown(n, 0);
  for (int i = 0; i < n; ++i) {
    if (counts_[i] == 0) continue;
    double centre = lo_ + (i + 0.5) * width_;
    double j = std::floor((centre - new_lo) / new_width);
    grown[static_cast<int>(std::clamp(j, 0.0, n - 1.0))] += counts_[i];
  }
  counts_ = std::move(grown);
  lo_ = new_lo;
  width_ = new_width;
}

// Counts per piece (one per thread) are integers, so their sum equals the
// single-threaded count. `zeros` ±0 values left out of the pieces (compacted)
// go to BinOf(0)'s bin in one add: ±0 and |±0| all give (0 - lo) / width.
void Histogram::CountBins(const std::vector<std::span<const float>>& pieces, uint64_t zeros) {
  if (width_ <= 0) {  // BinOf's rule: everything in bin 0
    for (const auto& piece : pieces) counts_[0] += piece.size();
    counts_[0] += zeros;
    return;
  }
  const bool abs = mode_ == Mode::kAbsolute;
  const size_t n = counts_.size();
  const int count = static_cast<int>(pieces.size());
  if (count == 1) {
    CountBinsInto(pieces[0], abs, lo_, width_, counts_.data(), n);
  } else {
    std::vector<uint64_t> part(count * n, 0);
#pragma omp parallel for num_threads(count) schedule(static)
    for (int i = 0; i < count; ++i) CountBinsInto(pieces[i], abs, lo_, width_, &part[i * n], n);
    for (int i = 0; i < count; ++i) {
      for (size_t b = 0; b < n; ++b) counts_[b] += part[i * n + b];
    }
  }
  if (zeros > 0) {
    const float zero = 0.0f;
    int32_t idx = 0;
    BinIndices(&zero, 1, abs, lo_, width_, static_cast<int32_t>(n - 1), &idx);
    counts_[idx] += zeros;
  }
}

Status Histogram::Add(std::span<const float> data) {
  if (data.empty()) return Status::Ok();
  const bool abs = mode_ == Mode::kAbsolute;
  // On AVX-512 one pass finds the extremes and compacts the values that are
  // not ±0 (ScanCompactAvx512); the binning reads those. Otherwise the data
  // are scanned, then binned in full.
  float* scratch = HasAvx512() && compact_enabled ? CompactScratch(data.size()) : nullptr;
  std::vector<std::span<const float>> pieces;
  const Extremes e = scratch ? ScanCompactParallel(data, abs, /*last_max=*/false, scratch, pieces)
                             : ScanExtremesParallel(data, abs, /*last_max=*/false);
  if (!e.finite) QCAL_RETURN_IF_ERROR(CheckFinite(data, "calibration data"));
  const float bmin = e.min, bmax = e.max;
  if (!initialized_) {
    Init(abs ? 0.0 : std::min<double>(bmin, 0.0), std::max<double>(bmax, 0.0));
  } else if (bmin < lo_ || bmax > hi() || (width_ <= 0 && (bmin != 0 || bmax != 0))) {
    GrowToCover(bmin, bmax);
  }
  if (scratch) {
    CountBins(pieces, e.zeros);
  } else {
    const int count = PiecesFor(data.size());
    for (int i = 0; i < count; ++i) pieces.push_back(Piece(data, i, count));
    CountBins(pieces, 0);
  }
  min_ = total_ == 0 ? bmin : std::min(min_, bmin);
  max_ = total_ == 0 ? bmax : std::max(max_, bmax);
  total_ += data.size();
  zeros_ += e.zeros;
  return Status::Ok();
}

void Histogram::AddSpread(double a, double b, uint64_t count) {
  if (count == 0) return;
  if (!(b > a)) {
    counts_[BinOf(a)] += count;
    return;
  }
  int j0 = BinOf(a), j1 = BinOf(b);
  uint64_t assigned = 0;
  for (int j = j0; j <= j1; ++j) {
    double f = j == j1 ? 1.0 : std::clamp((BinLeft(j + 1) - a) / (b - a), 0.0, 1.0);
    auto cumulative = static_cast<uint64_t>(std::llround(static_cast<long double>(count) * f));
    cumulative = std::clamp(cumulative, assigned, count);
    counts_[j] += cumulative - assigned;
    assigned = cumulative;
  }
}

Status Histogram::Merge(const Histogram& other) {
  if (other.num_bins() != num_bins() || other.mode_ != mode_) {
    auto describe = [](const Histogram& h) {
      return std::to_string(h.num_bins()) + (h.mode_ == Mode::kAbsolute ? " bins of |x|" : " signed bins");
    };
    return InvalidArgument("cannot merge a histogram of " + describe(other) + " into one of " +
                           describe(*this));
  }
  if (other.empty()) return Status::Ok();
  if (empty()) {
    *this = other;
    return Status::Ok();
  }
  if (other.width_ <= 0) {
    AddSpread(0.0, 0.0, other.counts_[0]);
  } else {
    if (width_ <= 0 || other.lo_ < lo_ || other.hi() > hi()) GrowToCover(other.lo_, other.hi());
    for (int i = 0; i < other.num_bins(); ++i)
      AddSpread(other.BinLeft(i), other.BinLeft(i + 1), other.counts_[i]);
  }
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  total_ += other.total_;
  zeros_ += other.zeros_;
  return Status::Ok();
}

// -------------------------------------------------------------- RawValueStore

Result<uint64_t> RequiredRawBytes(uint64_t elements_per_batch, uint64_t batch_num) {
  uint64_t values = 0, bytes = 0;
  if (__builtin_mul_overflow(elements_per_batch, batch_num, &values) ||
      __builtin_mul_overflow(values, sizeof(float), &bytes)) {
    return OutOfRange("raw calibration data of " + std::to_string(elements_per_batch) + " elements x " +
                      std::to_string(batch_num) + " batches overflows a 64-bit byte count");
  }
  return bytes;
}

Result<RawValueStore> RawValueStore::Create(uint64_t elements_per_batch, uint64_t batch_num,
                                            uint64_t limit_bytes) {
  QCAL_ASSIGN_OR_RETURN(uint64_t bytes, RequiredRawBytes(elements_per_batch, batch_num));
  std::string what = std::to_string(elements_per_batch) + " elements x " + std::to_string(batch_num) +
                     " batches x 4 bytes = " + std::to_string(bytes) + " bytes";
  if (bytes > limit_bytes) {
    return OutOfRange("ifmr keeps every calibration value: " + what + ", above the limit of " +
                      std::to_string(limit_bytes) +
                      " bytes; lower batch_num or the batch size, raise the memory limit, or use a histogram "
                      "algorithm (hfmg) for this layer");
  }
  RawValueStore store;
  store.capacity_ = elements_per_batch * batch_num;
  try {
    store.values_.reserve(store.capacity_);
    store.batch_ends_.reserve(batch_num);
  } catch (const std::bad_alloc&) {
    return OutOfRange("cannot allocate " + what + " for ifmr; lower batch_num or the batch size");
  }
  return store;
}

Status RawValueStore::Append(std::span<const float> batch) {
  std::string name = "batch " + std::to_string(batches());
  QCAL_RETURN_IF_ERROR(CheckFinite(batch, name));
  if (values_.size() + batch.size() > capacity_) {
    return OutOfRange(name + " has " + std::to_string(batch.size()) + " values but only " +
                      std::to_string(capacity_ - values_.size()) + " of the " + std::to_string(capacity_) +
                      " reserved remain; more or larger batches than declared");
  }
  values_.insert(values_.end(), batch.begin(), batch.end());
  batch_ends_.push_back(values_.size());
  return Status::Ok();
}

int64_t RawValueStore::BatchOf(uint64_t i) const {
  auto it = std::upper_bound(batch_ends_.begin(), batch_ends_.end(), i);
  if (it == batch_ends_.end()) return -1;
  return it - batch_ends_.begin();
}

}  // namespace qcal::quant
