#include "quant/algorithms/histogram_algos.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "quant/algorithms/hfmg.h"

namespace qcal::quant {
namespace {

Histogram Build(int bins, Histogram::Mode mode, const std::vector<float>& x) {
  auto h = Histogram::Create(bins, mode);
  EXPECT_TRUE(h.ok());
  EXPECT_TRUE(h->Add(x).ok());
  return std::move(h).value();
}

std::vector<float> Repeat(std::initializer_list<std::pair<float, int>> spec) {
  std::vector<float> x;
  for (auto [v, n] : spec) x.insert(x.end(), n, v);
  return x;
}

std::vector<float> Gaussian(int n, unsigned seed, float mean = 0, float sd = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, sd);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

// Numerical integral of the squared quantization error, density uniform per bin.
double NumericError(const Histogram& h, QuantParams p) {
  const int m = 4000;
  double e = 0;
  for (int i = 0; i < h.num_bins(); ++i) {
    const double c = static_cast<double>(h.counts()[i]);
    if (c == 0) continue;
    for (int k = 0; k < m; ++k) {
      double x = h.BinLeft(i) + (k + 0.5) / m * h.bin_width();
      double q = std::min(127.0, std::max(-128.0, std::floor(x / p.scale + 0.5) + p.offset));
      double d = (q - p.offset) * p.scale - x;
      e += c / m * d * d;
    }
  }
  return e;
}

// ------------------------------------------------------------------ percentile

TEST(PercentileTest, SymmetricHandComputed) {
  // Values 1..1000 over [0, 1000] in 1000 bins: bin j holds value j (1000 -> bin 999).
  std::vector<float> x;
  for (int i = 1; i <= 1000; ++i) x.push_back(static_cast<float>(i));
  Histogram h = Build(1000, Histogram::Mode::kAbsolute, x);
  // 99%: CDF reaches 990 at bin 990 -> T = its right edge 991.
  auto p = PercentileCalibrate(h, 99.0, false);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FLOAT_EQ(p->scale, 991.0f / 127.0f);
  // 100% is the observed max.
  EXPECT_FLOAT_EQ(PercentileCalibrate(h, 100.0, false)->scale, 1000.0f / 127.0f);
}

TEST(PercentileTest, AsymmetricCutsHalfTheTailEachSide) {
  std::vector<float> x;
  for (int i = -500; i <= 500; ++i) x.push_back(static_cast<float>(i));  // 1001 values, bins of width 1
  Histogram h = Build(1000, Histogram::Mode::kSigned, x);
  // tail = 0.5% of 1001 = 5.005: low side first exceeded at bin 5 (left edge -495),
  // high side CDF >= 995.995 at bin 995 (right edge 496).
  auto p = PercentileCalibrate(h, 99.0, true);
  ASSERT_TRUE(p.ok());
  float s = static_cast<float>(991.0 / 255.0);
  EXPECT_FLOAT_EQ(p->scale, s);
  EXPECT_EQ(p->offset, static_cast<int>(-std::nearbyint(-495.0 / s) - 128));
  EXPECT_FALSE(PercentileCalibrate(h, 99.0, false).ok());  // wrong histogram kind
  EXPECT_FALSE(PercentileCalibrate(h, 0.0, true).ok());
}

// ------------------------------------------------------------------------- kl

TEST(KlTest, HandComputedFourBinsTwoLevels) {
  // |x| bins of width 1 over [0, 4]: H = [8, 4, 0, 1]; Q = 2 levels.
  Histogram h = Build(4, Histogram::Mode::kAbsolute, Repeat({{0.5f, 8}, {1.5f, 4}, {4.0f, 1}}));
  ASSERT_EQ(h.counts(), (std::vector<uint64_t>{8, 4, 0, 1}));
  // P = bins[0,i) + tail in bin i-1, Q = unclipped bins[0,i) merged into 2 groups (spread over
  // non-empty bins), each normalized (TensorRT's entropy calibration).
  // i=2: P = [8, 5]/13, Q = [8, 4]/12.
  EXPECT_NEAR(KlDivergence(h, 2, 2), 8.0 / 13 * std::log(12.0 / 13) + 5.0 / 13 * std::log(15.0 / 13), 1e-12);
  // i=3: P = [8, 4, 1]/13; groups {0} {1,2}: Q = [8, 4, 0] -> P has mass where Q has none.
  EXPECT_TRUE(std::isinf(KlDivergence(h, 3, 2)));
  // i=4: P = [8, 4, 0, 1]/13, groups {0,1} {2,3}: Q = [6, 6, 0, 1]/13.
  EXPECT_NEAR(KlDivergence(h, 4, 2), (8 * std::log(8 / 6.0) + 4 * std::log(4 / 6.0)) / 13, 1e-12);
  auto p = KlCalibrate(h, 2);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FLOAT_EQ(p->scale, 2.0f / 127.0f);
  EXPECT_EQ(p->offset, 0);
}

TEST(KlTest, PicksTheMinimumAndIgnoresZeros) {
  // H = [4, 2, 1, 1], 2 levels: i=2: P = [4,4]/8, Q = [4,2]/6 -> 0.0589; i=3: P = [4,2,2]/8,
  // Q = [4,1.5,1.5]/7 -> 0.0103; i=4: P = [4,2,1,1]/8, Q = [3,3,1,1]/8 -> 0.0425. Best: 3.
  EXPECT_NEAR(
      KlDivergence(Build(4, Histogram::Mode::kAbsolute, Repeat({{0.5f, 4}, {1.5f, 2}, {2.5f, 1}, {4.0f, 1}})),
                   3, 2),
      0.5 * std::log(0.875) + 0.5 * std::log(0.25 / (1.5 / 7)), 1e-12);
  std::vector<float> x = Repeat({{0.5f, 4}, {1.5f, 2}, {2.5f, 1}, {4.0f, 1}});
  Histogram h = Build(4, Histogram::Mode::kAbsolute, x);
  EXPECT_FLOAT_EQ(KlCalibrate(h, 2)->scale, 3.0f / 127.0f);
  // 100 exact zeros (a ReLU spike) do not change the answer.
  std::vector<float> with_zeros = x;
  with_zeros.insert(with_zeros.end(), 100, 0.0f);
  Histogram hz = Build(4, Histogram::Mode::kAbsolute, with_zeros);
  EXPECT_EQ(hz.counts()[0], 104u);
  EXPECT_FLOAT_EQ(KlCalibrate(hz, 2)->scale, 3.0f / 127.0f);
}

TEST(KlTest, ClipsAClearOutlier) {
  std::vector<float> x = Gaussian(20000, 3);
  x.push_back(50.0f);
  Histogram h = Build(2048, Histogram::Mode::kAbsolute, x);
  auto p = KlCalibrate(h);
  ASSERT_TRUE(p.ok());
  double t = p->scale * 127.0;
  EXPECT_GE(t, 128 * 50.0 / 2048 - 1e-6);  // not below the smallest candidate
  EXPECT_LT(t, 8.0);                       // far below the outlier (minmax would give 50)
}

TEST(KlTest, ErrorsAndDegenerate) {
  Histogram signed_h = Build(256, Histogram::Mode::kSigned, {1, 2});
  EXPECT_FALSE(KlCalibrate(signed_h).ok());
  Histogram small = Build(64, Histogram::Mode::kAbsolute, {1, 2});
  EXPECT_FALSE(KlCalibrate(small, 128).ok());
  auto empty = Histogram::Create(2048, Histogram::Mode::kAbsolute);
  EXPECT_EQ(KlCalibrate(*empty).status().code(), StatusCode::kFailedPrecondition);
  Histogram zeros = Build(2048, Histogram::Mode::kAbsolute, {0, 0, 0});
  EXPECT_EQ(*KlCalibrate(zeros), (QuantParams{1.0f, 0}));
}

// ------------------------------------------------------------------------ mse

TEST(MseTest, ErrorIntegralMatchesNumericIntegration) {
  Histogram h = Build(16, Histogram::Mode::kSigned, Gaussian(3000, 4, 0.5f, 2.0f));
  for (QuantParams p : {QuantParams{0.05f, -10}, QuantParams{0.01f, 3}, QuantParams{0.2f, 100}}) {
    double want = NumericError(h, p);
    EXPECT_NEAR(HistogramQuantError(h, p), want, 1e-4 * want + 1e-9) << p.scale;
  }
}

TEST(MseTest, SymmetricMatchesBruteForceOverEdges) {
  std::vector<float> x = Gaussian(5000, 5);
  x.push_back(30.0f);
  Histogram h = Build(64, Histogram::Mode::kAbsolute, x);
  double best_e = std::numeric_limits<double>::infinity();
  float best_s = 0;
  for (int j = 1; j <= 64; ++j) {
    double t = std::min<double>(h.BinLeft(j), h.max_value());
    QuantParams p{static_cast<float>(t / 127), 0};
    double e = NumericError(h, p);
    if (e < best_e) {
      best_e = e;
      best_s = p.scale;
    }
  }
  auto got = MseCalibrate(h, false);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FLOAT_EQ(got->scale, best_s);
  // A single far outlier costs more clipped than its granular noise over 5000
  // values, so MSE (unlike KL) keeps it: T is in the outlier's bin.
  EXPECT_GT(got->scale * 127, 29.0);
}

TEST(MseTest, AsymmetricIsNearExhaustiveSearch) {
  std::vector<float> x = Gaussian(5000, 6, 1.0f, 1.0f);
  x.push_back(40.0f);
  x.push_back(-6.0f);
  for (int i = 0; i < 40; ++i) x.push_back(-3.0f - 0.05f * i);  // a heavy left tail
  Histogram h = Build(64, Histogram::Mode::kSigned, x);
  auto got = MseCalibrate(h, true);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  double got_e = HistogramQuantError(h, *got);
  // Exhaustive search over every pair of edges (error integral checked above).
  const int zero = static_cast<int>(std::round(-h.lo() / h.bin_width()));
  double best = std::numeric_limits<double>::infinity();
  for (int a = 0; a <= zero; ++a) {
    for (int b = zero; b <= 64; ++b) {
      auto p = ParamsFromRange(std::max<double>(h.BinLeft(a), h.min_value()),
                               std::min<double>(h.BinLeft(b), h.max_value()), true);
      ASSERT_TRUE(p.ok());
      best = std::min(best, HistogramQuantError(h, *p));
    }
  }
  EXPECT_LE(got_e, best * 1.01);
  auto minmax = ParamsFromRange(h.min_value(), h.max_value(), true);
  EXPECT_LE(got_e, HistogramQuantError(h, *minmax));
}

// ----------------------------------------------------------------------- hfmg

TEST(HfmgTest, CandidatesHandComputed) {
  // 8 signed bins of width 1 over [-1, 7]: counts [1,0,0,5,5,0,0,1]; step 1, min_bins 2.
  Histogram h = Build(8, Histogram::Mode::kSigned, Repeat({{-0.5f, 1}, {2.5f, 5}, {3.5f, 5}, {7.0f, 1}}));
  ASSERT_EQ(h.counts(), (std::vector<uint64_t>{1, 0, 0, 5, 5, 0, 0, 1}));
  std::vector<BinRange> want = {{0, 7}, {0, 6}, {0, 3}, {0, 2}};
  EXPECT_EQ(HfmgCandidates(h), want);
}

// HfmgCandidates by its definition: both edges rescanned at every step.
std::vector<BinRange> CandidatesByDefinition(const Histogram& h) {
  const auto& c = h.counts();
  const int n = h.num_bins();
  const uint64_t step = std::max<uint64_t>((h.total() + 99999) / 100000, 1);
  BinRange cur{0, n - 1};
  std::vector<BinRange> out{cur};
  while (cur.right - cur.left > (n + 3) / 4) {
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

// The kept scan of the edge that did not move gives the definition's candidates
// on dense, sparse, spiked and empty-tailed histograms and on huge counts (step > 1).
TEST(HfmgTest, CandidatesMatchTheDefinition) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    const int bins = trial % 3 == 0 ? 64 : trial % 3 == 1 ? 1024 : 4096;
    std::vector<uint64_t> counts(bins, 0);
    const int shape = trial % 5;
    for (int i = 0; i < bins; ++i) {
      const uint64_t r = rng();
      if (shape == 0) counts[i] = r % 50;                                        // dense
      if (shape == 1) counts[i] = r % 7 == 0 ? r % 300 : 0;                      // sparse
      if (shape == 2) counts[i] = i < bins / 8 ? r % 100000 : r % 3;             // heavy head, thin tail
      if (shape == 3) counts[i] = (i == 0 || i == bins - 1) ? 1u << 30 : r % 2;  // spikes at the ends
      if (shape == 4) counts[i] = i > bins / 2 ? 0 : (r % 1000) * (uint64_t{1} << 20);  // step > 1
    }
    auto h = Histogram::FromCounts(Histogram::Mode::kSigned, -1.0, 0.01, counts);
    ASSERT_TRUE(h.ok());
    SCOPED_TRACE("trial " + std::to_string(trial));
    EXPECT_EQ(HfmgCandidates(*h), CandidatesByDefinition(*h));
  }
}

// Numerical version of the HFMG error model: every x maps to the centre of the
// destination bin holding clamp(x) (edge bins for x outside the range).
double NumericL2(const Histogram& h, BinRange r, int dst) {
  const int m = 2000;
  const double dst_w = (r.right - r.left + 1.0) / dst;
  double e = 0;
  for (int i = 0; i < h.num_bins(); ++i) {
    for (int k = 0; k < m; ++k) {
      double x = i - r.left + (k + 0.5) / m;  // in bin-width units from the range start
      double d = std::min<double>(dst - 1, std::max(0.0, std::floor(x / dst_w)));
      double c = (d + 0.5) * dst_w;
      e += static_cast<double>(h.counts()[i]) / m * (x - c) * (x - c);
    }
  }
  return e;
}

TEST(HfmgTest, L2ErrorMatchesNumericIntegration) {
  Histogram h = Build(32, Histogram::Mode::kSigned, Gaussian(2000, 8, 0.0f, 1.0f));
  for (BinRange r : {BinRange{0, 31}, BinRange{5, 20}, BinRange{10, 12}}) {
    for (int dst : {4, 256}) {
      double want = NumericL2(h, r, dst);
      EXPECT_NEAR(HistogramL2Error(h, r, dst), want, 1e-3 * want + 1e-9)
          << r.left << "," << r.right << " " << dst;
    }
  }
}

// The division-free error equals the per-bin definition bit for bit, on odd bin
// counts, ranges starting anywhere (incl. past the data) and ranges narrower
// than the destination bin count; non-power-of-two destinations use the reference.
TEST(HfmgTest, FastL2ErrorIsBitIdenticalToReference) {
  std::vector<float> x = Gaussian(30000, 21, 1.0f, 2.0f);
  x.push_back(40.0f);
  for (int bins : {1, 7, 255, 1023, 4096}) {
    Histogram h = Build(bins, Histogram::Mode::kSigned, x);
    std::mt19937 rng(static_cast<unsigned>(bins));
    std::vector<BinRange> ranges = {{0, bins - 1}, {bins - 1, bins - 1}, {0, 0}};
    for (int k = 0; k < 40; ++k) {
      std::uniform_int_distribution<int> pick(0, bins - 1);
      int a = pick(rng), b = pick(rng);
      ranges.push_back({std::min(a, b), std::max(a, b)});
    }
    for (BinRange r : ranges) {
      for (int dst : {1, 4, 256, 1024, 3, 255}) {
        const double want = HistogramL2ErrorReference(h, r, dst);
        EXPECT_EQ(HistogramL2Error(h, r, dst), want)
            << bins << " bins, [" << r.left << ", " << r.right << "], " << dst << " destination bins";
        // The moment-based bounds bracket it and are tight (the same integral computed per destination bin).
        const L2ErrorBounds b = HistogramL2ErrorBounds(h, r, dst);
        EXPECT_LE(b.lower, want) << bins << " bins, [" << r.left << ", " << r.right << "], " << dst;
        EXPECT_GE(b.upper, want) << bins << " bins, [" << r.left << ", " << r.right << "], " << dst;
        EXPECT_LE(b.upper - b.lower, 1e-6 * want + 1e-9)
            << bins << " bins, [" << r.left << ", " << r.right << "], " << dst;
      }
    }
  }
}

// Exhaustive search with the per-bin reference error, first minimum winning.
QuantParams BruteForceHfmg(const Histogram& h) {
  BinRange best;
  double best_e = std::numeric_limits<double>::infinity();
  for (BinRange r : HfmgCandidates(h)) {
    const double e = HistogramL2ErrorReference(h, r);
    if (e < best_e) {
      best_e = e;
      best = r;
    }
  }
  return *ParamsFromRange(h.BinLeft(best.left), h.BinLeft(best.right + 1), true);
}

// HfmgCalibrate prunes candidates; its pick must equal the exhaustive search
// with the reference error (first minimum wins), on shapes where the optimum
// clips a long right tail, a left tail, or nothing.
TEST(HfmgTest, PrunedSearchMatchesExhaustiveReference) {
  std::vector<std::vector<float>> cases;
  std::vector<float> relu = Gaussian(60000, 31, 0.0f, 1.0f);
  for (float& v : relu) v = std::max(v, 0.0f);
  relu.push_back(25.0f);
  cases.push_back(relu);
  std::vector<float> left = Gaussian(40000, 32, 3.0f, 0.5f);
  left.push_back(-30.0f);
  cases.push_back(left);
  cases.push_back(Gaussian(5000, 33, 0.0f, 1.0f));
  std::vector<float> uniform;
  for (int i = 0; i < 7001; ++i) uniform.push_back(static_cast<float>(i % 97) / 10.0f);
  cases.push_back(uniform);
  for (const auto& x : cases) {
    for (int bins : {1024, 4096}) {
      Histogram h = Build(bins, Histogram::Mode::kSigned, x);
      auto p = HfmgCalibrate(h, true);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_EQ(*p, BruteForceHfmg(h)) << bins;
    }
  }
}

// Adversarial histograms (built from counts): the pruned search must pick the
// exhaustive search's range. Spikes at the edges and inside, empty tails, one
// nonzero bin, counts so large the moment bounds are unusable or every
// candidate is a single-bin step, sparse far outliers, and symmetric shapes
// where candidates tie closely.
TEST(HfmgTest, PrunedSearchMatchesBruteForceOnAdversarialHistograms) {
  std::mt19937_64 rng(77);
  std::vector<std::vector<uint64_t>> shapes;
  auto zeros = [](int n) { return std::vector<uint64_t>(n, 0); };
  {  // i.i.d. random counts
    std::vector<uint64_t> c = zeros(1024);
    std::uniform_int_distribution<uint64_t> d(0, 1000);
    for (auto& v : c) v = d(rng);
    shapes.push_back(c);
  }
  {  // ReLU-like: a huge spike in bin 0 (exact zeros), a decaying body, a sparse far tail
    std::vector<uint64_t> c = zeros(4096);
    c[0] = 3'000'000;
    for (int i = 1; i < 900; ++i) c[i] = static_cast<uint64_t>(20000.0 * std::exp(-i / 120.0));
    for (int i = 900; i < 4096; i += 97) c[i] = 1;
    c[4095] = 2;
    shapes.push_back(c);
  }
  {  // empty tails on both sides, body in the middle
    std::vector<uint64_t> c = zeros(2048);
    std::uniform_int_distribution<uint64_t> d(1, 50);
    for (int i = 700; i < 1300; ++i) c[i] = d(rng);
    shapes.push_back(c);
  }
  {  // one nonzero bin, at the left edge, inside, and at the right edge
    for (int at : {0, 1500, 4095}) {
      std::vector<uint64_t> c = zeros(4096);
      c[at] = 12345;
      shapes.push_back(c);
    }
  }
  {  // two equal spikes symmetric about the centre (near ties), and a flat histogram
    std::vector<uint64_t> c = zeros(1024);
    c[100] = c[923] = 500;
    shapes.push_back(c);
    shapes.push_back(std::vector<uint64_t>(1024, 7));
  }
  {  // interior spikes over noise: the bound must not prune the candidate that centres them
    std::vector<uint64_t> c = zeros(4096);
    std::uniform_int_distribution<uint64_t> d(0, 3);
    for (auto& v : c) v = d(rng);
    for (int at : {37, 1111, 2047, 3000}) c[at] = 1'000'000;
    shapes.push_back(c);
  }
  {  // huge counts: the integer moments would overflow (bounds unusable, every candidate exact)
    std::vector<uint64_t> c = zeros(1024);
    std::uniform_int_distribution<uint64_t> d(uint64_t{1} << 40, uint64_t{1} << 41);
    for (int i = 0; i < 1024; i += 3) c[i] = d(rng);
    shapes.push_back(c);
  }
  {  // huge counts and one far outlier: no usable bounds, so several candidates stay open, and the
     // minimum (which clips the outlier) is not the first of them
    std::vector<uint64_t> c = zeros(1024);
    for (int i = 0; i < 300; ++i) c[i] = static_cast<uint64_t>(std::ldexp(std::exp(-i / 40.0), 44));
    c[1023] = 1;
    shapes.push_back(c);
  }
  {  // counts just below the moments' limit (total * (n + 1)^2 < 2^60), decaying both ways
    std::vector<uint64_t> c = zeros(1024);
    for (int i = 0; i < 1024; ++i) c[i] = static_cast<uint64_t>(2e6 * std::exp(-std::abs(i - 300) / 90.0));
    shapes.push_back(c);
  }
  {  // tiny total: step 1, many candidates that each move one bin
    std::vector<uint64_t> c = zeros(8192);
    std::uniform_int_distribution<int> at(0, 8191);
    for (int k = 0; k < 60; ++k) c[at(rng)] += 1;
    shapes.push_back(c);
  }
  for (size_t k = 0; k < shapes.size(); ++k) {
    auto h = Histogram::FromCounts(Histogram::Mode::kSigned, -0.75, 0.01, shapes[k]);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    auto p = HfmgCalibrate(*h, true);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(*p, BruteForceHfmg(*h)) << "shape " << k;
  }
}

// Random shapes (mixtures of a zero spike, a Laplace-like body and outliers):
// the pruned search equals the exhaustive one on every draw.
TEST(HfmgTest, PrunedSearchMatchesBruteForceOnRandomHistograms) {
  std::mt19937_64 rng(4242);
  for (int trial = 0; trial < 12; ++trial) {
    const int n = trial % 3 == 0 ? 4096 : 1024;
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<uint64_t> c(n, 0);
    const int centre = static_cast<int>(u(rng) * n), spread = 1 + static_cast<int>(u(rng) * n / 8);
    const double height = std::pow(10.0, 1 + 4 * u(rng));
    for (int i = 0; i < n; ++i)
      c[i] = static_cast<uint64_t>(height * std::exp(-std::abs(i - centre) / static_cast<double>(spread)));
    if (u(rng) < 0.5) c[static_cast<int>(u(rng) * n)] += static_cast<uint64_t>(height * 50);
    for (int k = 0; k < 5; ++k) c[static_cast<int>(u(rng) * n)] += 1;
    auto h = Histogram::FromCounts(Histogram::Mode::kSigned, -1.0, 0.5, c);
    ASSERT_TRUE(h.ok());
    auto p = HfmgCalibrate(*h, true);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(*p, BruteForceHfmg(*h)) << "trial " << trial;
  }
}

TEST(HfmgTest, HistogramFromCountsRejectsBadGrids) {
  EXPECT_FALSE(Histogram::FromCounts(Histogram::Mode::kSigned, 0, 1, {}).ok());
  EXPECT_FALSE(Histogram::FromCounts(Histogram::Mode::kSigned, 0, -1, {1}).ok());
  EXPECT_FALSE(Histogram::FromCounts(Histogram::Mode::kSigned, std::nan(""), 1, {1}).ok());
  auto h = Histogram::FromCounts(Histogram::Mode::kSigned, -1, 0.5, {1, 0, 2, 3});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->total(), 6u);
  EXPECT_DOUBLE_EQ(h->hi(), 1.0);
  EXPECT_EQ(h->BinOf(0.1), 2);
}

TEST(HfmgTest, CalibratePicksTheBestCandidate) {
  std::vector<float> x = Gaussian(20000, 9, 0.5f, 1.0f);
  x.push_back(60.0f);
  Histogram h = Build(1024, Histogram::Mode::kSigned, x);
  BinRange best;
  double best_e = std::numeric_limits<double>::infinity();
  for (BinRange r : HfmgCandidates(h)) {
    double e = HistogramL2Error(h, r);
    if (e < best_e) {
      best_e = e;
      best = r;
    }
  }
  auto p = HfmgCalibrate(h, true);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto want = ParamsFromRange(h.BinLeft(best.left), h.BinLeft(best.right + 1), true);
  EXPECT_EQ(*p, *want);
  auto sym = HfmgCalibrate(h, false);
  ASSERT_TRUE(sym.ok());
  EXPECT_EQ(sym->offset, 0);
  EXPECT_FALSE(HfmgCalibrate(Build(1024, Histogram::Mode::kAbsolute, x), true).ok());
  EXPECT_TRUE(ValidateHfmgBins(4096).ok());
  EXPECT_FALSE(ValidateHfmgBins(1000).ok());
}

}  // namespace
}  // namespace qcal::quant
