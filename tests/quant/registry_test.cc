#include "quant/algorithms/registry.h"

#include <gtest/gtest.h>

#include <vector>

namespace qcal::quant {
namespace {

TEST(RegistryTest, AllAlgorithmsAreRegistered) {
  for (const char* name : {"ifmr", "hfmg", "minmax", "percentile", "kl", "mse"}) {
    const ActivationAlgorithm* a = FindActivationAlgorithm(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->name, name);
  }
  EXPECT_EQ(FindActivationAlgorithm("entropy"), nullptr);
  EXPECT_EQ(ActivationAlgorithmNames(), "ifmr, hfmg, minmax, percentile, kl, mse");
  ASSERT_NE(FindWeightAlgorithm("arq_quantize"), nullptr);
  EXPECT_EQ(FindWeightAlgorithm("nuq_quantize"), nullptr);
}

TEST(RegistryTest, DefaultsFollowAmctAndPeers) {
  const ActivationAlgorithm& ifmr = *FindActivationAlgorithm("ifmr");
  EXPECT_DOUBLE_EQ(ifmr.defaults.max_percentile, 0.999999);
  EXPECT_DOUBLE_EQ(ifmr.defaults.min_percentile, 0.999999);
  EXPECT_DOUBLE_EQ(ifmr.defaults.search_start, 0.7);
  EXPECT_DOUBLE_EQ(ifmr.defaults.search_end, 1.3);
  EXPECT_DOUBLE_EQ(ifmr.defaults.search_step, 0.01);
  EXPECT_EQ(FindActivationAlgorithm("hfmg")->defaults.num_bins, 4096);
  EXPECT_EQ(FindActivationAlgorithm("kl")->defaults.num_bins, 2048);
  EXPECT_DOUBLE_EQ(FindActivationAlgorithm("percentile")->defaults.percentile, 99.99);
  for (const ActivationAlgorithm& a : ActivationAlgorithms()) {
    EXPECT_TRUE(a.validate(a.defaults).ok()) << a.name << ": " << a.validate(a.defaults).ToString();
  }
}

TEST(RegistryTest, RequiredStatisticDependsOnSymmetry) {
  const ActivationAlgorithm& pct = *FindActivationAlgorithm("percentile");
  ActivationParams p = pct.defaults;
  p.with_offset = false;
  EXPECT_EQ(RequiredStatistic(pct, p).kind, Statistic::kAbsHistogram);
  EXPECT_EQ(RequiredStatistic(pct, p).num_bins, 2048);
  p.with_offset = true;
  EXPECT_EQ(RequiredStatistic(pct, p).kind, Statistic::kHistogram);
  EXPECT_EQ(RequiredStatistic(*FindActivationAlgorithm("ifmr"), p).kind, Statistic::kRawValues);
  EXPECT_EQ(RequiredStatistic(*FindActivationAlgorithm("minmax"), p).kind, Statistic::kMinMax);
}

TEST(RegistryTest, ValidationRejectsBadParams) {
  const ActivationAlgorithm& kl = *FindActivationAlgorithm("kl");
  ActivationParams p = kl.defaults;
  p.with_offset = true;
  EXPECT_NE(kl.validate(p).message().find("symmetric"), std::string::npos);
  const ActivationAlgorithm& hfmg = *FindActivationAlgorithm("hfmg");
  p = hfmg.defaults;
  p.num_bins = 3000;
  EXPECT_FALSE(hfmg.validate(p).ok());
  const ActivationAlgorithm& ifmr = *FindActivationAlgorithm("ifmr");
  p = ifmr.defaults;
  p.search_end = 0.5;
  EXPECT_FALSE(ifmr.validate(p).ok());
}

TEST(RegistryTest, CalibrateThroughTheTable) {
  MinMaxStats mm;
  ASSERT_TRUE(mm.Update(std::vector<float>{-1, 0.5f, 2}).ok());
  const ActivationAlgorithm& minmax = *FindActivationAlgorithm("minmax");
  CollectedStatistics stats;
  stats.minmax = &mm;
  auto q = minmax.calibrate(stats, minmax.defaults);
  ASSERT_TRUE(q.ok());
  EXPECT_FLOAT_EQ(q->scale, 3.0f / 255.0f);
  EXPECT_EQ(q->offset, -43);

  std::vector<float> raw = {-1, 0.5f, 2};
  CollectedStatistics raw_stats;
  raw_stats.raw = raw;
  raw_stats.has_raw = true;
  const ActivationAlgorithm& ifmr = *FindActivationAlgorithm("ifmr");
  EXPECT_EQ(*ifmr.calibrate(raw_stats, ifmr.defaults), *IfmrCalibrate(raw, ToIfmrParams(ifmr.defaults)));
  // A missing statistic is reported, not dereferenced.
  EXPECT_EQ(ifmr.calibrate(stats, ifmr.defaults).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(FindActivationAlgorithm("kl")
                ->calibrate(stats, FindActivationAlgorithm("kl")->defaults)
                .status()
                .code(),
            StatusCode::kFailedPrecondition);

  const WeightAlgorithm& arq = *FindWeightAlgorithm("arq_quantize");
  std::vector<float> w = {1, -2, 3, 4};
  auto wq = arq.calibrate(w, 2, true, 8);
  ASSERT_TRUE(wq.ok());
  EXPECT_FLOAT_EQ((*wq)[1].scale, 4.0f / 127.0f);
}

}  // namespace
}  // namespace qcal::quant
