// The pure pieces of the accuracy tools against hand-computed values: the
// streaming error accumulator, top-k scoring and the fallback binary search.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "accuracy/auto_calibration.h"
#include "accuracy/error_metrics.h"
#include "accuracy/topk.h"

namespace qcal::accuracy {
namespace {

TEST(ErrorAccumulatorTest, HandComputedCosineSqnrMaxAbs) {
  // ref (1,2,3), test (1,2,2): dot 11, |ref|^2 14, |test|^2 9, |err|^2 1.
  const float ref[] = {1, 2, 3}, test[] = {1, 2, 2};
  ErrorAccumulator a;
  a.Add(ref, test, 3);
  EXPECT_EQ(a.count(), 3);
  EXPECT_NEAR(a.Cosine(), 11.0 / std::sqrt(14.0 * 9.0), 1e-12);
  EXPECT_NEAR(a.SqnrDb(), 10.0 * std::log10(14.0), 1e-12);
  EXPECT_DOUBLE_EQ(a.MaxAbsError(), 1.0);
}

TEST(ErrorAccumulatorTest, BatchesAccumulateLikeOneVector) {
  // ref (3,-4 | 0,2), test (2.5,-4 | 1,2): dot 7.5+16+0+4 = 27.5, |ref|^2 29, |test|^2 6.25+16+1+4 = 27.25,
  // |err|^2 0.25+1 = 1.25, max |err| 1.
  const float r1[] = {3, -4}, t1[] = {2.5f, -4}, r2[] = {0, 2}, t2[] = {1, 2};
  ErrorAccumulator a;
  a.Add(r1, t1, 2);
  a.Add(r2, t2, 2);
  EXPECT_EQ(a.count(), 4);
  EXPECT_NEAR(a.Cosine(), 27.5 / std::sqrt(29.0 * 27.25), 1e-12);
  EXPECT_NEAR(a.SqnrDb(), 10.0 * std::log10(29.0 / 1.25), 1e-12);
  EXPECT_DOUBLE_EQ(a.MaxAbsError(), 1.0);
}

TEST(ErrorAccumulatorTest, DegenerateSignals) {
  const float zero[] = {0, 0}, x[] = {1, -1};
  ErrorAccumulator same, both_zero, ref_zero, test_zero;
  same.Add(x, x, 2);
  both_zero.Add(zero, zero, 2);
  ref_zero.Add(zero, x, 2);
  test_zero.Add(x, zero, 2);
  EXPECT_DOUBLE_EQ(same.Cosine(), 1.0);
  EXPECT_EQ(same.SqnrDb(), std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(both_zero.Cosine(), 1.0);
  EXPECT_DOUBLE_EQ(ref_zero.Cosine(), 0.0);
  EXPECT_EQ(ref_zero.SqnrDb(), -std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(test_zero.Cosine(), 0.0);
  EXPECT_DOUBLE_EQ(test_zero.SqnrDb(), 0.0);  // noise power equals signal power
}

TEST(ScoreLogitsTest, TopOneTopFiveWithTies) {
  // 3 samples x 6 classes.
  Tensor logits = Tensor::FromVector<float>({0, 1, 2, 3, 4, 5,    // label 5: best -> top1, top5
                                             5, 4, 3, 2, 1, 0,    // label 5: worst of 6 -> neither
                                             1, 1, 0, 0, 0, 0},   // label 1: tie with class 0 -> lower index wins
                                            {3, 6});
  TopKAccuracy acc;
  ScoreLogits(logits, {5, 5, 1}, &acc);
  EXPECT_EQ(acc.images, 3);
  EXPECT_EQ(acc.top1, 1);
  EXPECT_EQ(acc.top5, 2);  // sample 3: one class ranks above -> within top 5
}

// Top-1 as a function of k: monotone, meets a 1-point limit from k = first_ok on.
struct StepModel {
  int first_ok;
  std::vector<int> calls;
  Result<double> operator()(int k) {
    calls.push_back(k);
    return k >= first_ok ? 0.90 : 0.80;
  }
};

TEST(BinarySearchFallbackTest, FindsSmallestSatisfyingK) {
  for (int n : {2, 3, 5, 8, 13}) {
    for (int first_ok = 1; first_ok < n; ++first_ok) {
      StepModel m{first_ok, {}};
      auto r = BinarySearchFallback(n, 0.905, 1.0, std::ref(m));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_TRUE(r->k.has_value()) << "n=" << n << " first_ok=" << first_ok;
      EXPECT_EQ(*r->k, first_ok) << "n=" << n;
      ASSERT_EQ(r->history.size(), m.calls.size());
      EXPECT_EQ(m.calls[0], 0);
      // ceil(log2(n - 1 + 1)) + 1 evaluations at most (k = 0 plus the search).
      EXPECT_LE(static_cast<int>(m.calls.size()), 1 + static_cast<int>(std::ceil(std::log2(n))) + 1);
      for (const auto& s : r->history) EXPECT_EQ(s.satisfied, s.k >= first_ok);
    }
  }
}

TEST(BinarySearchFallbackTest, StopsAtZeroWhenFullQuantizationIsGoodEnough) {
  StepModel m{0, {}};
  auto r = BinarySearchFallback(10, 0.90, 0.0, std::ref(m));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->k, 0);
  EXPECT_EQ(m.calls, std::vector<int>{0});
}

TEST(BinarySearchFallbackTest, NoResultWhenEvenAllButOneLayerFails) {
  StepModel m{4, {}};  // only k = 4 = n (the FP32 model) would satisfy
  auto r = BinarySearchFallback(4, 0.90, 0.5, std::ref(m));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->k.has_value());
  for (int k : m.calls) EXPECT_LT(k, 4);
  EXPECT_EQ(m.calls.back(), 3);
}

}  // namespace
}  // namespace qcal::accuracy
