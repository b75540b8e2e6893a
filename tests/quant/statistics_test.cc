#include "quant/algorithms/statistics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/threads.h"

namespace qcal::quant {
namespace {

Histogram Make(int bins, Histogram::Mode mode) {
  auto h = Histogram::Create(bins, mode);
  EXPECT_TRUE(h.ok());
  return std::move(h).value();
}

uint64_t Sum(const std::vector<uint64_t>& v) { return std::accumulate(v.begin(), v.end(), uint64_t{0}); }

TEST(MinMaxStatsTest, StreamsAndMerges) {
  MinMaxStats a, b;
  ASSERT_TRUE(a.Update(std::vector<float>{1, -2, 3}).ok());
  ASSERT_TRUE(a.Update(std::vector<float>{0.5f}).ok());
  EXPECT_EQ(a.min(), -2);
  EXPECT_EQ(a.max(), 3);
  EXPECT_EQ(a.count(), 4u);
  ASSERT_TRUE(b.Update(std::vector<float>{7, -1}).ok());
  a.Merge(b);
  EXPECT_EQ(a.max(), 7);
  EXPECT_EQ(a.count(), 6u);
  Status bad = a.Update(std::vector<float>{100, std::nanf("")});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("element 1"), std::string::npos);
  EXPECT_EQ(a.max(), 7);  // unchanged
}

// A released histogram's counts go to the next one created on the thread,
// zeroed and sized for it.
TEST(HistogramTest, ReleasedCountsAreReusedZeroed) {
  Histogram a = Make(4096, Histogram::Mode::kSigned);
  ASSERT_TRUE(a.Add(std::vector<float>{1, 2, 3, -4}).ok());
  const uint64_t* storage = a.counts().data();
  Histogram::Release(std::move(a));
  Histogram b = Make(1024, Histogram::Mode::kAbsolute);
  EXPECT_EQ(b.counts().data(), storage);
  EXPECT_EQ(b.num_bins(), 1024);
  EXPECT_EQ(Sum(b.counts()), 0u);
  EXPECT_TRUE(b.empty());
  Histogram c = Make(16, Histogram::Mode::kSigned);  // nothing released since: fresh memory
  EXPECT_NE(c.counts().data(), storage);
}

TEST(HistogramTest, FirstBatchSetsRangeIncludingZero) {
  Histogram h = Make(4, Histogram::Mode::kSigned);
  ASSERT_TRUE(h.Add(std::vector<float>{-1, 0, 1, 3}).ok());
  EXPECT_DOUBLE_EQ(h.lo(), -1);
  EXPECT_DOUBLE_EQ(h.bin_width(), 1);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{1, 1, 1, 1}));
  EXPECT_EQ(h.zero_count(), 1u);
  Histogram p = Make(4, Histogram::Mode::kSigned);
  ASSERT_TRUE(p.Add(std::vector<float>{2, 4}).ok());  // positive data: range [0, 4]
  EXPECT_DOUBLE_EQ(p.lo(), 0);
  EXPECT_EQ(p.counts(), (std::vector<uint64_t>{0, 0, 1, 1}));
}

TEST(HistogramTest, GrowsRightByWholeBins) {
  Histogram h = Make(4, Histogram::Mode::kSigned);
  ASSERT_TRUE(h.Add(std::vector<float>{-1, 0, 1, 3}).ok());
  ASSERT_TRUE(h.Add(std::vector<float>{7}).ok());
  // k = ceil((7+1)/4) = 2: bins [-1,1) [1,3) [3,5) [5,7]; old bins nest pairwise.
  EXPECT_DOUBLE_EQ(h.lo(), -1);
  EXPECT_DOUBLE_EQ(h.bin_width(), 2);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{2, 2, 0, 1}));
  EXPECT_EQ(h.total(), 5u);
  EXPECT_EQ(h.max_value(), 7);
}

TEST(HistogramTest, GrowsLeftByWholeBins) {
  Histogram h = Make(4, Histogram::Mode::kSigned);
  ASSERT_TRUE(h.Add(std::vector<float>{-1, 0, 1, 3}).ok());
  ASSERT_TRUE(h.Add(std::vector<float>{-2.5f}).ok());
  // m = 2 old bins to the left (lo = -3), k = ceil(6/4) = 2.
  EXPECT_DOUBLE_EQ(h.lo(), -3);
  EXPECT_DOUBLE_EQ(h.bin_width(), 2);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{1, 2, 2, 0}));
  EXPECT_EQ(h.min_value(), -2.5f);
}

TEST(HistogramTest, AbsoluteModeAndAllZeroStart) {
  Histogram h = Make(8, Histogram::Mode::kAbsolute);
  ASSERT_TRUE(h.Add(std::vector<float>{0, 0, 0}).ok());
  EXPECT_EQ(h.bin_width(), 0);
  ASSERT_TRUE(h.Add(std::vector<float>{-2, 1}).ok());
  EXPECT_DOUBLE_EQ(h.lo(), 0);
  EXPECT_DOUBLE_EQ(h.bin_width(), 0.25);
  EXPECT_EQ(h.counts()[0], 3u);
  EXPECT_EQ(h.counts()[4], 1u);
  EXPECT_EQ(h.counts()[7], 1u);
  EXPECT_EQ(h.zero_count(), 3u);
  EXPECT_EQ(h.max_value(), 2);
}

// After many growing batches the counts equal a direct histogram of all the
// data on the final grid, up to values sitting exactly on an old upper edge.
TEST(HistogramTest, RebinningPreservesCountsAndPlacement) {
  std::mt19937 rng(7);
  Histogram h = Make(64, Histogram::Mode::kSigned);
  std::vector<float> all;
  int growths = 0;
  for (int b = 0; b < 20; ++b) {
    std::normal_distribution<float> d(0.3f * b, 1.0f + b);
    std::vector<float> batch(500);
    for (float& x : batch) x = d(rng);
    double old_hi = h.hi(), old_lo = h.lo();
    ASSERT_TRUE(h.Add(batch).ok());
    growths += (h.hi() != old_hi || h.lo() != old_lo);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  ASSERT_EQ(h.total(), all.size());
  EXPECT_EQ(Sum(h.counts()), all.size());
  std::vector<uint64_t> direct(64, 0);
  for (float x : all) ++direct[h.BinOf(x)];
  uint64_t l1 = 0;
  for (int i = 0; i < 64; ++i)
    l1 += direct[i] > h.counts()[i] ? direct[i] - h.counts()[i] : h.counts()[i] - direct[i];
  EXPECT_LE(l1, 2u * growths);
  EXPECT_GT(growths, 3);
}

TEST(HistogramTest, MergePreservesCountsAndShape) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> d1(-1, 2), d2(-3, 5);
  std::vector<float> x1(4000), x2(3000);
  for (float& x : x1) x = d1(rng);
  for (float& x : x2) x = d2(rng);
  Histogram a = Make(32, Histogram::Mode::kSigned), b = Make(32, Histogram::Mode::kSigned);
  ASSERT_TRUE(a.Add(x1).ok());
  ASSERT_TRUE(b.Add(x2).ok());
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.total(), 7000u);
  EXPECT_EQ(Sum(a.counts()), 7000u);
  EXPECT_LE(a.lo(), -3);
  EXPECT_GE(a.hi(), 5);
  EXPECT_EQ(a.min_value(),
            std::min(*std::min_element(x1.begin(), x1.end()), *std::min_element(x2.begin(), x2.end())));
  // Compare with a direct histogram on the merged grid: splitting b's bins
  // proportionally moves at most about one bin's worth of mass per bin.
  std::vector<double> direct(32, 0);
  for (float x : x1) direct[a.BinOf(x)] += 1;
  for (float x : x2) direct[a.BinOf(x)] += 1;
  double l1 = 0;
  for (int i = 0; i < 32; ++i) l1 += std::fabs(direct[i] - static_cast<double>(a.counts()[i]));
  EXPECT_LT(l1 / 7000, 0.08);

  Histogram abs = Make(32, Histogram::Mode::kAbsolute);
  Status mismatch = a.Merge(abs);
  EXPECT_FALSE(mismatch.ok());
  Histogram empty = Make(32, Histogram::Mode::kSigned);
  ASSERT_TRUE(empty.Merge(a).ok());
  EXPECT_EQ(empty.counts(), a.counts());
}

TEST(HistogramTest, RejectsNonFiniteAndBadBinCount) {
  Histogram h = Make(4, Histogram::Mode::kSigned);
  Status s = h.Add(std::vector<float>{1, -std::numeric_limits<float>::infinity()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("-inf at element 1"), std::string::npos);
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(Histogram::Create(0, Histogram::Mode::kSigned).ok());
}

// Scalar reference of one Histogram::Add on an already-initialized grid (the
// textbook loop: floor((v - lo) / w) clamped to the bins) and of the extremes a
// sequential std::min / std::max scan keeps.
std::vector<uint64_t> ReferenceCounts(const Histogram& h, const std::vector<float>& x) {
  std::vector<uint64_t> c(h.num_bins(), 0);
  for (float f : x) {
    const double v = h.mode() == Histogram::Mode::kAbsolute ? std::fabs(f) : f;
    double idx = h.bin_width() > 0 ? std::floor((v - h.lo()) / h.bin_width()) : 0.0;
    idx = std::clamp(idx, 0.0, h.num_bins() - 1.0);
    ++c[static_cast<size_t>(idx)];
  }
  return c;
}

// Odd sizes (vector tails), signed zeros, values on bin edges and beyond the
// grid: the vectorized Add gives the reference's counts, extremes (including
// the sign of a zero extreme) and zero count.
void CheckVectorizedAddMatchesScalarReference() {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 3.0f);
  for (auto mode : {Histogram::Mode::kSigned, Histogram::Mode::kAbsolute}) {
    for (size_t n : {1, 2, 15, 17, 33, 1023, 4097, 40001}) {
      Histogram h = Make(257, mode);
      std::vector<uint64_t> want(257, 0);
      ASSERT_TRUE(h.Add(std::vector<float>{-4.0f, 4.0f}).ok());  // grid [-4, 4] (|x|: [0, 4])
      want = h.counts();
      std::vector<float> x(n);
      for (size_t i = 0; i < n; ++i) {
        const float v = d(rng);
        x[i] = i % 5 == 0 ? std::copysign(0.0f, v) : std::clamp(i % 7 == 0 ? std::round(v) : v, -4.0f, 4.0f);
      }
      const std::vector<uint64_t> add = ReferenceCounts(h, x);
      for (size_t b = 0; b < want.size(); ++b) want[b] += add[b];
      Histogram fresh = Make(257, mode);
      ASSERT_TRUE(h.Add(x).ok());
      EXPECT_EQ(h.counts(), want) << n;
      ASSERT_TRUE(fresh.Add(x).ok());
      float lo = mode == Histogram::Mode::kAbsolute ? std::fabs(x[0]) : x[0], hi = lo;
      uint64_t zeros = 0;
      for (float f : x) {
        const float v = mode == Histogram::Mode::kAbsolute ? std::fabs(f) : f;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        zeros += f == 0.0f;
      }
      EXPECT_EQ(fresh.min_value(), lo) << n;
      EXPECT_EQ(std::signbit(fresh.min_value()), std::signbit(lo)) << n;
      EXPECT_EQ(fresh.max_value(), hi) << n;
      EXPECT_EQ(std::signbit(fresh.max_value()), std::signbit(hi)) << n;
      EXPECT_EQ(fresh.zero_count(), zeros) << n;
      EXPECT_EQ(fresh.counts(), ReferenceCounts(fresh, x)) << n;
    }
  }
}

// Values on and next to every bin edge (the float nearest lo + k * w and its
// neighbours), denormals, signed zeros and the grid ends, for grids with exact
// and inexact widths, tiny (denormal) and huge ranges: Add's vectorized
// binning gives exactly the counts of the division formula. The set includes
// values where floor((v - lo) * (1 / w)) != floor((v - lo) / w), so binning by
// a reciprocal multiply (a tempting speed-up) would fail it.
void CheckBinsEqualTheDivisionOnAdversarialValues() {
  struct Grid {
    float lo, hi;
    int bins;
    Histogram::Mode mode;
  };
  const float tiny = std::numeric_limits<float>::denorm_min(), big = 3e38f;
  const std::vector<Grid> grids = {
      {0.0f, 3.0f, 2048, Histogram::Mode::kSigned},
      {-4.0f, 4.0f, 257, Histogram::Mode::kSigned},
      {-0.1f, 7.3f, 8192, Histogram::Mode::kSigned},
      {0.0f, 6.0f, 1024, Histogram::Mode::kAbsolute},
      {-big, big, 4096, Histogram::Mode::kSigned},
      {0.0f, 1000 * tiny, 1024, Histogram::Mode::kSigned},
      {-5 * tiny, 3 * tiny, 2048, Histogram::Mode::kSigned},
      {0.0f, 1e-3f, 2048, Histogram::Mode::kAbsolute},
      // A grid where the product's floor is one below the quotient's at several edges (found by search).
      {-0.7374512553215027f, 0.9679033160209656f, 1024, Histogram::Mode::kSigned},
  };
  bool correction_needed = false;
  for (const Grid& g : grids) {
    Histogram h = Make(g.bins, g.mode);
    ASSERT_TRUE(h.Add(std::vector<float>{g.lo, g.hi}).ok());
    const double lo = h.lo(), w = h.bin_width(), hi = h.hi();
    const bool abs = g.mode == Histogram::Mode::kAbsolute;
    std::vector<float> x = {0.0f, -0.0f, tiny, -tiny, g.lo, g.hi};
    for (int k = 0; k <= g.bins; ++k) {
      const float e = static_cast<float>(lo + k * w);
      for (float v : {e, std::nextafter(e, -INFINITY), std::nextafter(e, INFINITY),
                      std::nextafter(std::nextafter(e, INFINITY), INFINITY)}) {
        x.push_back(v);
        if (abs) x.push_back(-v);
        const double d = (abs ? std::fabs(v) : v) - lo;
        correction_needed |= d >= 0 && d / w < g.bins && std::floor(d * (1.0 / w)) != std::floor(d / w);
      }
    }
    // Only values inside the grid (the range must not grow for this comparison).
    std::erase_if(x, [&](float v) {
      const double a = abs ? std::fabs(v) : v;
      return a < lo || a > hi;
    });
    for (size_t repeat : {size_t{1}, size_t{40}}) {  // small (direct counts) and large (interleaved counters)
      std::vector<float> data;
      for (size_t r = 0; r < repeat; ++r) data.insert(data.end(), x.begin(), x.end());
      Histogram fresh = h;
      ASSERT_TRUE(fresh.Add(data).ok());
      ASSERT_EQ(fresh.lo(), lo);
      ASSERT_EQ(fresh.bin_width(), w);
      std::vector<uint64_t> want = ReferenceCounts(h, data);
      for (size_t b = 0; b < want.size(); ++b) want[b] += h.counts()[b];
      EXPECT_EQ(fresh.counts(), want) << g.lo << " .. " << g.hi << ", " << g.bins << " bins, x" << repeat;
    }
  }
  EXPECT_TRUE(correction_needed);
}

// Both functions above run on the AVX-512 and AVX2 builds (when the CPU has
// them) and on the baseline build, which must agree bit for bit with the same
// reference.
constexpr StatsIsa kAllStatsIsas[] = {StatsIsa::kAvx512, StatsIsa::kAvx2, StatsIsa::kBaseline};

TEST(HistogramTest, VectorizedAddMatchesScalarReference) {
  for (StatsIsa isa : kAllStatsIsas) {
    ScopedStatsIsaCap cap(isa);
    CheckVectorizedAddMatchesScalarReference();
  }
}

TEST(HistogramTest, BinsEqualTheDivisionOnAdversarialValues) {
  for (StatsIsa isa : kAllStatsIsas) {
    ScopedStatsIsaCap cap(isa);
    CheckBinsEqualTheDivisionOnAdversarialValues();
  }
}

// Every ISA build, at 1 and 3 threads, gives the same counts, extremes (with
// the sign of zero extremes), zero count and total on adversarial batches,
// added once (the range may grow) and again (inside the range).
TEST(HistogramTest, EveryIsaBuildAgreesBitForBit) {
  const size_t n = 2 * (size_t{1} << 16) + 333;
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 1.5f);
  std::vector<std::vector<float>> batches;
  std::vector<float> relu(n);
  for (float& v : relu) v = std::max(d(rng), 0.0f);
  for (size_t i = 0; i < n; i += 7) relu[i] = -0.0f;
  batches.push_back(relu);
  batches.push_back(std::vector<float>(n, 0.0f));
  batches.push_back(std::vector<float>(n, -0.0f));
  std::vector<float> no_zeros(n);
  for (float& v : no_zeros) v = std::nextafter(std::fabs(d(rng)), 1.0f) * (rng() % 2 ? 1.0f : -1.0f);
  batches.push_back(no_zeros);
  std::vector<float> runs(n);  // runs of one value, on and between bin edges (edges of [-4, 4) / 2048)
  for (size_t i = 0; i < n; ++i)
    runs[i] = static_cast<float>(static_cast<int>(i / 1000) % 9 - 4) * (1.0f / 256);
  batches.push_back(runs);
  batches.push_back(std::vector<float>(relu.begin(), relu.begin() + 1001));  // odd length
  for (auto mode : {Histogram::Mode::kSigned, Histogram::Mode::kAbsolute}) {
    for (const auto& batch : batches) {
      for (int threads : {1, 3}) {
        ScopedNumThreads t(threads);
        std::vector<Histogram> h;
        for (StatsIsa isa : kAllStatsIsas) {
          ScopedStatsIsaCap cap(isa);
          h.push_back(Make(2048, mode));
          ASSERT_TRUE(h.back().Add(runs).ok());
          ASSERT_TRUE(h.back().Add(batch).ok());
          ASSERT_TRUE(h.back().Add(batch).ok());  // inside the range by now: AVX-512's one-pass add
        }
        for (size_t k = 1; k < h.size(); ++k) {
          EXPECT_EQ(h[k].counts(), h[0].counts());
          EXPECT_EQ(h[k].lo(), h[0].lo());
          EXPECT_EQ(h[k].bin_width(), h[0].bin_width());
          EXPECT_EQ(std::signbit(h[k].min_value()), std::signbit(h[0].min_value()));
          EXPECT_EQ(h[k].min_value(), h[0].min_value());
          EXPECT_EQ(std::signbit(h[k].max_value()), std::signbit(h[0].max_value()));
          EXPECT_EQ(h[k].max_value(), h[0].max_value());
          EXPECT_EQ(h[k].zero_count(), h[0].zero_count());
          EXPECT_EQ(h[k].total(), h[0].total());
        }
      }
    }
  }
}

// NaN / Inf anywhere in a batch (first lane block, later blocks, the tail) is
// reported at its index and leaves the histogram as it was.
TEST(HistogramTest, NonFiniteAnywhereLeavesHistogramUnchanged) {
  for (auto mode : {Histogram::Mode::kSigned, Histogram::Mode::kAbsolute}) {
    Histogram h = Make(64, mode);
    ASSERT_TRUE(h.Add(std::vector<float>{-1.0f, 2.0f, 0.5f}).ok());
    const std::vector<uint64_t> before = h.counts();
    for (size_t at : {size_t{0}, size_t{15}, size_t{16}, size_t{3000}, size_t{3002}}) {
      std::vector<float> x(3003, 1.0f);
      x[at] = at % 2 ? -std::numeric_limits<float>::infinity() : std::nanf("");
      Status st = h.Add(x);
      ASSERT_FALSE(st.ok());
      EXPECT_NE(
          st.message().find((at % 2 ? "-inf at element " : "NaN at element ") + std::to_string(at) + " "),
          std::string::npos)
          << st.message();
      EXPECT_EQ(h.counts(), before);
      EXPECT_EQ(h.total(), 3u);
      EXPECT_EQ(h.lo(), mode == Histogram::Mode::kAbsolute ? 0.0 : -1.0);
    }
  }
}

// Extremes of all-zero data keep the sign std::minmax_element would report
// (first smallest, last largest); NaN/Inf anywhere (also past the first
// vector block and in the tail) is found at its index.
TEST(MinMaxStatsTest, SignedZerosAndNonFiniteAnywhere) {
  MinMaxStats s;
  std::vector<float> zeros = {0.0f, -0.0f, 0.0f, -0.0f};
  ASSERT_TRUE(s.Update(zeros).ok());
  auto [lo, hi] = std::minmax_element(zeros.begin(), zeros.end());
  EXPECT_EQ(std::signbit(s.min()), std::signbit(*lo));
  EXPECT_EQ(std::signbit(s.max()), std::signbit(*hi));
  for (size_t at : {size_t{0}, size_t{1000}, size_t{1025}, size_t{3000}, size_t{3002}}) {
    std::vector<float> x(3003, 1.0f);
    x[at] = at % 2 ? std::numeric_limits<float>::infinity() : std::nanf("");
    MinMaxStats m;
    Status st = m.Update(x);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("element " + std::to_string(at) + " "), std::string::npos) << st.message();
    EXPECT_TRUE(m.empty());
  }
}

// Batches large enough to be split over threads (one piece per thread, 64 Ki
// values or more each) give the single thread's counts, extremes (with the
// sign of a zero extreme: zeros of both signs placed so that the first or last
// one lies in different pieces) and zero count, and report a NaN at its index.
TEST(HistogramTest, SplittingOverThreadsChangesNothing) {
  const size_t n = 3 * (size_t{1} << 16) + 777;
  std::mt19937 rng(11);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<std::vector<float>> batches;
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  batches.push_back(x);
  std::vector<float> zeros(n, 0.0f);  // every extreme a zero: +0 first, -0 in the middle, +0 last
  for (size_t i = n / 3; i < 2 * n / 3; ++i) zeros[i] = -0.0f;
  batches.push_back(zeros);
  std::vector<float> relu(n, -0.0f);  // post-ReLU-like: zeros then positives in the last piece
  for (size_t i = n - 1000; i < n; ++i) relu[i] = std::fabs(d(rng));
  relu[n / 2] = 0.0f;
  batches.push_back(relu);
  for (auto mode : {Histogram::Mode::kSigned, Histogram::Mode::kAbsolute}) {
    for (const auto& batch : batches) {
      Histogram one = Make(2048, mode), three = Make(2048, mode);
      MinMaxStats m1, m3;
      {
        ScopedNumThreads t(1);
        ASSERT_TRUE(one.Add(batch).ok());
        ASSERT_TRUE(one.Add(x).ok());
        ASSERT_TRUE(m1.Update(batch).ok());
      }
      {
        ScopedNumThreads t(3);
        ASSERT_TRUE(three.Add(batch).ok());
        ASSERT_TRUE(three.Add(x).ok());
        ASSERT_TRUE(m3.Update(batch).ok());
      }
      EXPECT_EQ(three.counts(), one.counts());
      EXPECT_EQ(three.lo(), one.lo());
      EXPECT_EQ(three.bin_width(), one.bin_width());
      EXPECT_EQ(std::signbit(three.min_value()), std::signbit(one.min_value()));
      EXPECT_EQ(three.min_value(), one.min_value());
      EXPECT_EQ(std::signbit(three.max_value()), std::signbit(one.max_value()));
      EXPECT_EQ(three.max_value(), one.max_value());
      EXPECT_EQ(three.zero_count(), one.zero_count());
      EXPECT_EQ(three.total(), 2 * n);
      EXPECT_EQ(std::signbit(m3.min()), std::signbit(m1.min()));
      EXPECT_EQ(std::signbit(m3.max()), std::signbit(m1.max()));
      EXPECT_EQ(m3.min(), m1.min());
      EXPECT_EQ(m3.max(), m1.max());
    }
  }
  // The zero batch's extremes as std::minmax_element reports them (first smallest, last largest).
  MinMaxStats z;
  ScopedNumThreads t(3);
  ASSERT_TRUE(z.Update(zeros).ok());
  EXPECT_FALSE(std::signbit(z.min()));
  EXPECT_FALSE(std::signbit(z.max()));
  std::vector<float> bad = x;
  bad[n - 5] = std::nanf("");
  Histogram h = Make(64, Histogram::Mode::kSigned);
  Status st = h.Add(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("NaN at element " + std::to_string(n - 5) + " "), std::string::npos)
      << st.message();
  EXPECT_TRUE(h.empty());
}

TEST(RawValueStoreTest, RequiredBytesAndRefusal) {
  auto bytes = RequiredRawBytes(1000, 10);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, 40000u);
  EXPECT_FALSE(RequiredRawBytes(uint64_t{1} << 62, 8).ok());
  auto refused = RawValueStore::Create(1000, 10, 39999);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kOutOfRange);
  const std::string& m = refused.status().message();
  EXPECT_NE(m.find("1000 elements x 10 batches"), std::string::npos) << m;
  EXPECT_NE(m.find("40000 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("39999"), std::string::npos) << m;
}

TEST(RawValueStoreTest, AppendsBatchesUpToCapacity) {
  auto store = RawValueStore::Create(3, 2, 24);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->capacity_bytes(), 24u);
  ASSERT_TRUE(store->Append(std::vector<float>{1, 2, 3}).ok());
  Status nan = store->Append(std::vector<float>{4, std::nanf(""), 6});
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.message().find("batch 1 contains NaN at element 1"), std::string::npos) << nan.message();
  ASSERT_TRUE(store->Append(std::vector<float>{4, 5}).ok());
  EXPECT_EQ(store->bytes_held(), 20u);
  EXPECT_EQ(store->batches(), 2);
  EXPECT_EQ(store->BatchOf(2), 0);
  EXPECT_EQ(store->BatchOf(3), 1);
  EXPECT_EQ(store->BatchOf(5), -1);
  Status over = store->Append(std::vector<float>{7, 8});
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.message().find("only 1 of the 6 reserved"), std::string::npos) << over.message();
}

}  // namespace
}  // namespace qcal::quant
