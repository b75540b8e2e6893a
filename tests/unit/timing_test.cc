// base/timing.h: percentiles, the run loop and the JSON every benchmark prints.
#include "base/timing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace qcal {
namespace {

TEST(TimingTest, PercentileInterpolatesBetweenOrderStatistics) {
  // numpy.percentile([1..11] shuffled, q): q/100 * 10 is the (0-based) rank.
  std::vector<double> v = {7, 3, 11, 1, 9, 5, 2, 10, 4, 8, 6};
  EXPECT_DOUBLE_EQ(Percentile(v, 0.5), 6.0);
  EXPECT_DOUBLE_EQ(Percentile(v, 0.1), 2.0);
  EXPECT_DOUBLE_EQ(Percentile(v, 0.9), 10.0);
  EXPECT_DOUBLE_EQ(Percentile(v, 0.25), 3.5);
  EXPECT_DOUBLE_EQ(Percentile({4, 1}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Percentile({5}, 0.9), 5.0);
  EXPECT_DOUBLE_EQ(Percentile({}, 0.5), 0.0);
}

TEST(TimingTest, SummaryHasMinMaxMean) {
  LatencySummary s = SummarizeLatencies({2, 8, 4, 6});
  EXPECT_DOUBLE_EQ(s.median_ms, 5.0);
  EXPECT_DOUBLE_EQ(s.min_ms, 2.0);
  EXPECT_DOUBLE_EQ(s.max_ms, 8.0);
  EXPECT_DOUBLE_EQ(s.mean_ms, 5.0);
  EXPECT_DOUBLE_EQ(s.p10_ms, 2.6);  // rank 0.3 between 2 and 4
}

TEST(TimingTest, TimeRunsCallsWarmupPlusRunsAndStopsAtTheFirstError) {
  int calls = 0;
  auto ok = TimeRuns(3, 4, [&] {
    ++calls;
    return Status::Ok();
  });
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(calls, 7);
  EXPECT_EQ(ok->size(), 4u);
  for (double ms : *ok) EXPECT_GE(ms, 0.0);

  calls = 0;
  auto bad = TimeRuns(1, 5, [&] { return ++calls == 3 ? InvalidArgument("boom") : Status::Ok(); });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(calls, 3);
  EXPECT_NE(bad.status().message().find("timed run 2"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("boom"), std::string::npos);
}

TEST(TimingTest, TimeBudgetEndsTheLoopAfterAtLeastThreeRuns) {
  int calls = 0;
  auto slow = [&] {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return Status::Ok();
  };
  auto r = TimeRuns(0, 1000, slow, 1e-6);  // budget spent after the first run
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(calls, 3);
  r = TimeRuns(0, 2, slow, 1e-6);  // never more than `runs`
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);
}

TEST(TimingTest, RandomFloatsAreSeededAndInRange) {
  auto a = RandomUniformFloats(1000, 7), b = RandomUniformFloats(1000, 7), c = RandomUniformFloats(1000, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (float x : a) {
    EXPECT_GE(x, -1.0f);
    EXPECT_LT(x, 1.0f);
  }
}

TEST(TimingTest, ReportJsonParsesWithStatsAndExtras) {
  BenchReport r;
  r.runtime = "qcal";
  r.model = "dir/\"odd\" name.onnx";
  r.batch = 4;
  r.threads = 2;
  r.warmup = 1;
  r.times_ms = {10, 30, 20, 40, 50};
  r.extra = {{"providers", JsonString("dnnl:3")}, {"optimized", "true"}};
  auto j = nlohmann::json::parse(BenchReportJson(r));
  EXPECT_EQ(j["runtime"], "qcal");
  EXPECT_EQ(j["model"], r.model);
  EXPECT_EQ(j["batch"], 4);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["runs"], 5);
  EXPECT_DOUBLE_EQ(j["median_ms"].get<double>(), 30.0);
  EXPECT_DOUBLE_EQ(j["p10_ms"].get<double>(), 14.0);
  EXPECT_DOUBLE_EQ(j["p90_ms"].get<double>(), 46.0);
  EXPECT_NEAR(j["images_per_s"].get<double>(), 4 * 1000.0 / 30.0, 1e-3);
  EXPECT_GT(j["peak_rss_mib"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["load_avg_1m_before"].get<double>(), -1.0);  // not measured
  EXPECT_EQ(j["times_ms"], nlohmann::json({10.0, 30.0, 20.0, 40.0, 50.0}));
  EXPECT_EQ(j["providers"], "dnnl:3");
  EXPECT_EQ(j["optimized"], true);
}

}  // namespace
}  // namespace qcal
