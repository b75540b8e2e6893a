#include "quant/algorithms/ifmr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace qcal::quant {
namespace {

// Independent reference: sort-based seeds, explicit candidate list, plain loss.
struct Reference {
  float scale;
  int offset;
  double r;
};

double RefLoss(const std::vector<float>& x, double s, int o) {
  double sum = 0;
  for (float v : x) {
    double q = std::nearbyint(v / s) + o;  // default rounding mode: half to even
    q = std::min(127.0, std::max(-128.0, q));
    double e = (q - o) * s - v;
    sum += e * e;
  }
  return sum;
}

Reference BruteForceIfmr(std::vector<float> x, bool with_offset) {
  std::sort(x.begin(), x.end());
  const size_t n = x.size();
  const size_t k = n - static_cast<size_t>(0.999999 * n);  // AMCT rule, k >= 1 here
  double mx = std::max(0.0f, x[n - k]), mn = std::min(0.0f, x[k - 1]);
  Reference best{0, 0, 0};
  double best_loss = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= 60; ++i) {
    double r = 0.7 + 0.01 * i;
    float s;
    int o;
    if (with_offset) {
      s = static_cast<float>((r * mx - mn) / 255.0);
      o = static_cast<int>(-std::nearbyint(mn / s) - 128);
    } else {
      s = static_cast<float>(r * std::max(mx, -mn) / 127.0);
      o = 0;
    }
    double loss = RefLoss(x, s, o);
    if (loss < best_loss) {
      best_loss = loss;
      best = {s, o, r};
    }
  }
  return best;
}

std::vector<float> Activations(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.5f, 1.5f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  x[n / 3] = 25.0f;  // outliers the clip search should cut
  x[n / 2] = -9.0f;
  return x;
}

TEST(IfmrTest, RankFromPercentile) {
  EXPECT_EQ(IfmrRank(0.8, 10), 2u);
  EXPECT_EQ(IfmrRank(0.999999, 100), 1u);
  EXPECT_EQ(IfmrRank(0.999999, 10000000), 10u);
  EXPECT_EQ(IfmrRank(1.0, 10), 1u);
  EXPECT_EQ(IfmrRank(0.51, 100), 49u);
}

TEST(IfmrTest, RadixSelectMatchesSort) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-5, 5);
  std::vector<float> x(3001);
  for (float& v : x) v = std::round(d(rng) * 4) / 4;  // many duplicates
  x[5] = -0.0f;
  x[6] = 1e-40f;  // denormal
  std::vector<float> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  for (uint64_t k : {1ul, 2ul, 17ul, 1500ul, 2999ul, 3001ul}) {
    EXPECT_EQ(KthSmallest(x, k), sorted[k - 1]) << k;
    EXPECT_EQ(KthLargest(x, k), sorted[x.size() - k]) << k;
  }
}

TEST(IfmrTest, DefaultCandidatesAre61From0p7To1p3) {
  std::vector<double> r = IfmrMultipliers(IfmrParams{});
  ASSERT_EQ(r.size(), 61u);
  EXPECT_DOUBLE_EQ(r.front(), 0.7);
  EXPECT_NEAR(r.back(), 1.3, 1e-12);
}

TEST(IfmrTest, SeedsFollowPercentiles) {
  std::vector<float> x = {-2, -1, 0, 1, 2, 3, 4, 5, 6, 100};
  IfmrParams p;
  p.max_percentile = 0.8;  // k = 10 - 8 = 2 -> second largest
  p.min_percentile = 0.8;  // second smallest
  auto r = IfmrSearch(x, p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_init, 6);
  EXPECT_EQ(r->min_init, -1);
}

TEST(IfmrTest, SymmetricMatchesBruteForce) {
  std::vector<float> x = Activations(3000, 1);
  IfmrParams p;
  p.with_offset = false;
  auto got = IfmrSearch(x, p);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Reference want = BruteForceIfmr(x, false);
  EXPECT_FLOAT_EQ(got->params.scale, want.scale);
  EXPECT_EQ(got->params.offset, 0);
  EXPECT_NEAR(got->multiplier, want.r, 1e-9);
  EXPECT_NEAR(got->loss, RefLoss(x, want.scale, 0), 1e-6 * got->loss);
  // The search did something: the winner is not the plain max (r = 1).
  EXPECT_NE(want.r, 1.0);
}

TEST(IfmrTest, AsymmetricMatchesBruteForce) {
  for (unsigned seed : {2u, 5u}) {
    std::vector<float> x = Activations(2500, seed);
    auto got = IfmrCalibrate(x, IfmrParams{});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    Reference want = BruteForceIfmr(x, true);
    EXPECT_FLOAT_EQ(got->scale, want.scale) << seed;
    EXPECT_EQ(got->offset, want.offset) << seed;
  }
}

// The AVX2 loss loop (all candidates per pass over the data) and the scalar one
// give the same result and the same loss bit for bit, and that loss is the
// candidate-by-candidate sum in data order (the reference's order). Data with
// exact .5 ties at the winning scale, values beyond the clamp, signed zeros,
// and sizes that leave partial chunks and a partial candidate vector.
TEST(IfmrTest, VectorLossesEqualScalarBitForBit) {
  for (const bool with_offset : {false, true}) {
    for (const int n : {1, 7, 2049, 5003}) {
      SCOPED_TRACE("offset " + std::to_string(with_offset) + ", n " + std::to_string(n));
      std::vector<float> x = Activations(std::max(n, 3), static_cast<unsigned>(n));
      x.resize(static_cast<size_t>(n));
      for (int i = 0; i < n; i += 5) x[static_cast<size_t>(i)] = i % 2 ? -0.0f : 0.0f;
      IfmrParams p;
      p.with_offset = with_offset;
      p.search_step = 0.013;  // 47 candidates: not a multiple of 4 or 8
      auto scalar_seed = IfmrSearch(x, p);
      ASSERT_TRUE(scalar_seed.ok()) << scalar_seed.status().ToString();
      const float s = scalar_seed->params.scale;
      for (int i = 1; i < n; i += 7) x[static_cast<size_t>(i)] = (i % 11 - 5 + 0.5f) * s;  // ties
      auto vec = IfmrSearch(x, p);
      Result<IfmrResult> scalar = FailedPrecondition("not run");
      {
        const ScopedScalarIfmr force;
        scalar = IfmrSearch(x, p);
      }
      ASSERT_TRUE(vec.ok() && scalar.ok());
      EXPECT_EQ(vec->params, scalar->params);
      EXPECT_EQ(vec->multiplier, scalar->multiplier);
      EXPECT_EQ(std::memcmp(&vec->loss, &scalar->loss, sizeof(double)), 0)
          << vec->loss << " " << scalar->loss;
      EXPECT_EQ(vec->loss, RefLoss(x, vec->params.scale, vec->params.offset));
    }
  }
}

TEST(IfmrTest, HandComputedTwoCandidates) {
  // Candidates r = 0.5 and 1.0, symmetric, seeds = exact max|x| = A.
  // x = {0.3 x4, 127}: A = 127, scale 1 or 0.5.
  //   r=1: 0.3 -> 0, loss 4 * 0.09 = 0.36; r=0.5: 0.3 -> 0.5 (0.16) + 127 -> 63.5 (4032.25).
  IfmrParams p;
  p.with_offset = false;
  p.max_percentile = p.min_percentile = 1.0;
  p.search_start = 0.5;
  p.search_end = 1.0;
  p.search_step = 0.5;
  std::vector<float> a = {0.3f, 0.3f, 0.3f, 0.3f, 127};
  auto ra = IfmrSearch(a, p);
  ASSERT_TRUE(ra.ok());
  EXPECT_FLOAT_EQ(ra->params.scale, 1.0f);
  EXPECT_NEAR(ra->loss, 0.36, 1e-6);
  std::vector<float> b = {0.3f, 0.3f, 0.3f, 0.3f, 127, 63};
  // A = 127 still: r=1 loss 0.36 (63 exact); r=0.5 clips 127 to 63.5 -> r = 1 again.
  auto rb = IfmrSearch(b, p);
  ASSERT_TRUE(rb.ok());
  EXPECT_FLOAT_EQ(rb->params.scale, 1.0f);
  std::vector<float> c = {0.3f, 0.3f, 0.3f, 0.3f, 63.5f};  // A = 63.5
  auto rc = IfmrSearch(c, p);
  ASSERT_TRUE(rc.ok());
  // r=1: s = 0.5: 0.3 -> 0.5 (0.04 each) => 0.16; r=0.5: s=0.25: 0.3 -> 0.25 (0.0025 each) + (63.5-31.75)^2.
  EXPECT_FLOAT_EQ(rc->params.scale, 0.5f);
  EXPECT_NEAR(rc->loss, 0.16, 1e-6);
}

TEST(IfmrTest, DegenerateAndErrors) {
  std::vector<float> zeros(10, 0.0f);
  auto z = IfmrCalibrate(zeros, IfmrParams{});
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(*z, (QuantParams{1.0f, -128}));
  IfmrParams sym;
  sym.with_offset = false;
  EXPECT_EQ(*IfmrCalibrate(zeros, sym), (QuantParams{1.0f, 0}));

  EXPECT_EQ(IfmrCalibrate({}, IfmrParams{}).status().code(), StatusCode::kFailedPrecondition);
  std::vector<float> bad = {1, 2, std::numeric_limits<float>::infinity()};
  auto inf = IfmrCalibrate(bad, IfmrParams{});
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.status().message().find("element 2"), std::string::npos);
  std::vector<float> huge = {-3e9f, 3e9f};
  EXPECT_EQ(IfmrCalibrate(huge, IfmrParams{}).status().code(), StatusCode::kOutOfRange);

  IfmrParams p;
  p.max_percentile = 0.4;
  EXPECT_NE(ValidateIfmrParams(p).message().find("max_percentile"), std::string::npos);
  p = IfmrParams{};
  p.search_start = 1.5;
  EXPECT_NE(ValidateIfmrParams(p).message().find("search_range"), std::string::npos);
  p = IfmrParams{};
  p.search_step = 0.0;
  EXPECT_NE(ValidateIfmrParams(p).message().find("search_step"), std::string::npos);
  p.search_step = 1e-9;
  EXPECT_FALSE(ValidateIfmrParams(p).ok());
  EXPECT_TRUE(ValidateIfmrParams(IfmrParams{}).ok());
}

}  // namespace
}  // namespace qcal::quant
