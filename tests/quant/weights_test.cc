#include "quant/algorithms/weights.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

namespace qcal::quant {
namespace {

// 3 output channels x 3 weights.
const std::vector<float> kWeights = {0.9f,  -2.0f, 0.5f,   // channel 0: max|w| = 2
                                     0.0f,  0.0f,  0.0f,   // channel 1: all zero
                                     -0.3f, 0.1f,  0.2f};  // channel 2: max|w| = 0.3

TEST(ArqTest, PerChannelScalesAreMaxAbsOver127) {
  auto p = ArqCalibrate(kWeights, 3, true, 8);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 3u);
  EXPECT_FLOAT_EQ((*p)[0].scale, 2.0f / 127.0f);
  EXPECT_EQ((*p)[1], (QuantParams{1.0f, 0}));  // zero channel: FLT_EPSILON rule
  EXPECT_FLOAT_EQ((*p)[2].scale, 0.3f / 127.0f);
  for (const QuantParams& q : *p) EXPECT_EQ(q.offset, 0);

  auto q = QuantizeWeights(kWeights, 3, *p, 8);
  ASSERT_TRUE(q.ok());
  // 0.9 * 127 / 2 = 57.15 -> 57; -2 -> -127; 0.5 * 63.5 = 31.75 -> 32.
  // channel 2: -127, 0.1 * 127 / 0.3 = 42.33 -> 42, 84.67 -> 85.
  EXPECT_EQ(*q, (std::vector<int8_t>{57, -127, 32, 0, 0, 0, -127, 42, 85}));
}

TEST(ArqTest, PerTensorUsesGlobalMax) {
  auto p = ArqCalibrate(kWeights, 3, false, 8);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_FLOAT_EQ((*p)[0].scale, 2.0f / 127.0f);
  auto q = QuantizeWeights(kWeights, 3, *p, 8);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)[6], -19);  // -0.3 * 63.5 = -19.05
}

TEST(ArqTest, SevenBitScalesAreMaxAbsOver63) {
  auto p = ArqCalibrate(kWeights, 3, true, 7);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 3u);
  EXPECT_FLOAT_EQ((*p)[0].scale, 2.0f / 63.0f);
  EXPECT_EQ((*p)[1], (QuantParams{1.0f, 0}));
  EXPECT_FLOAT_EQ((*p)[2].scale, 0.3f / 63.0f);
  auto q = QuantizeWeights(kWeights, 3, *p, 7);
  ASSERT_TRUE(q.ok());
  // 0.9 * 63 / 2 = 28.35 -> 28; -2 -> -63; 0.5 * 31.5 = 15.75 -> 16.
  // channel 2: -63, 0.1 * 63 / 0.3 = 21, 0.2 * 210 = 42.
  EXPECT_EQ(*q, (std::vector<int8_t>{28, -63, 16, 0, 0, 0, -63, 21, 42}));
}

TEST(ArqTest, SevenBitRoundTripStaysInRange) {
  // Deterministic pseudo-random weights, 8 channels of 50, spread over 4 decades.
  std::vector<float> w(400);
  uint32_t state = 12345;
  for (float& v : w) {
    state = state * 1664525u + 1013904223u;
    const double u = (state >> 8) / double(1 << 24);  // [0, 1)
    v = static_cast<float>((u - 0.5) * std::pow(10.0, (state % 4)) * 0.01);
  }
  for (bool channel_wise : {true, false}) {
    auto p = ArqCalibrate(w, 8, channel_wise, 7);
    ASSERT_TRUE(p.ok());
    auto q = QuantizeWeights(w, 8, *p, 7);
    ASSERT_TRUE(q.ok());
    std::vector<int> max_abs(p->size(), 0);
    for (size_t i = 0; i < w.size(); ++i) {
      const size_t c = channel_wise ? i / 50 : 0;
      const float s = (*p)[c].scale;
      const int v = (*q)[i];
      ASSERT_GE(v, -63);
      ASSERT_LE(v, 63);
      EXPECT_LE(std::fabs(w[i] - v * s), 0.5f * s * (1 + 1e-5f)) << i;  // round to nearest
      max_abs[c] = std::max(max_abs[c], std::abs(v));
    }
    for (int m : max_abs) EXPECT_EQ(m, 63);  // the largest weight maps to the end of the range
  }
}

TEST(ArqTest, WeightRangesAndClamping) {
  EXPECT_EQ(WeightRange(8).min, -128);
  EXPECT_EQ(WeightRange(8).max, 127);
  EXPECT_EQ(WeightRange(7).min, -63);
  EXPECT_EQ(WeightRange(7).max, 63);
  std::vector<float> w = {-5.0f, 5.0f, 0.5f};
  std::vector<QuantParams> tiny = {{0.01f, 0}};  // 500 steps: clamped
  EXPECT_EQ(*QuantizeWeights(w, 1, tiny, 7), (std::vector<int8_t>{-63, 63, 50}));
  EXPECT_EQ(*QuantizeWeights(w, 1, tiny, 8), (std::vector<int8_t>{-128, 127, 50}));
  for (int bits : {6, 9}) {
    auto r = ArqCalibrate(w, 1, true, bits);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("allowed: 7, 8"), std::string::npos) << r.status().message();
    EXPECT_FALSE(QuantizeWeights(w, 1, tiny, bits).ok());
  }
}

TEST(ArqTest, RecordedScalesMustMatchTheBitWidth) {
  auto p8 = ArqCalibrate(kWeights, 3, true, 8);
  auto p7 = ArqCalibrate(kWeights, 3, true, 7);
  ASSERT_TRUE(p8.ok() && p7.ok());
  EXPECT_TRUE(CheckWeightScales(kWeights, 3, *p8, 8).ok());
  EXPECT_TRUE(CheckWeightScales(kWeights, 3, *p7, 7).ok());
  // An 8-bit record with a 7-bit config clips every channel at 63.
  Status st = CheckWeightScales(kWeights, 3, *p8, 7);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("output channel 0"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[-63, 63]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("8-bit calibration run"), std::string::npos) << st.message();
  // A 7-bit record with an 8-bit config would silently save 7-bit weights.
  st = CheckWeightScales(kWeights, 3, *p7, 8);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("7-bit calibration run"), std::string::npos) << st.message();
  // Per tensor, and a scale that clips an 8-bit weight (max|w| / scale = 200).
  std::vector<QuantParams> clipping = {{0.01f, 0}};
  st = CheckWeightScales(kWeights, 3, clipping, 8);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("the weight tensor"), std::string::npos) << st.message();
  // Larger scales than ARQ's (fewer levels used) are accepted at 8 bits.
  std::vector<QuantParams> coarse = {{0.1f, 0}};
  EXPECT_TRUE(CheckWeightScales(kWeights, 3, coarse, 8).ok());
}

TEST(ArqTest, Errors) {
  EXPECT_FALSE(ArqCalibrate(kWeights, 4, true, 8).ok());  // 9 not divisible by 4
  std::vector<float> bad = kWeights;
  bad[7] = std::nanf("");
  auto r = ArqCalibrate(bad, 3, true, 8);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("output channel 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("element 1"), std::string::npos);
  std::vector<float> huge = {3e9f, 1.0f};
  EXPECT_EQ(ArqCalibrate(huge, 1, true, 8).status().code(), StatusCode::kOutOfRange);
  std::vector<QuantParams> two(2);
  EXPECT_FALSE(QuantizeWeights(kWeights, 3, two, 8).ok());
}

TEST(BiasTest, QuantizesWithActivationTimesWeightScale) {
  std::vector<float> bias = {1.0f, -2.0f, 0.00125f};
  std::vector<float> sw = {0.01f, 0.02f, 0.001f};
  auto q = QuantizeBias(bias, 0.1f, sw, "conv1");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  // 1 / 0.001 = 1000; -2 / 0.002 = -1000; 0.00125 / 0.0001 = 12.5 -> 12 (half even).
  EXPECT_EQ(*q, (std::vector<int32_t>{1000, -1000, 12}));
  std::vector<float> one = {0.5f};
  auto shared = QuantizeBias(bias, 0.1f, one, "fc");
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(*shared, (std::vector<int32_t>{20, -40, 0}));
}

TEST(BiasTest, OverflowNamesLayerAndChannel) {
  std::vector<float> bias = {1.0f, 1e6f};
  std::vector<float> sw = {1e-4f, 1e-4f};
  auto q = QuantizeBias(bias, 1e-4f, sw, "conv7");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(q.status().message().find("layer 'conv7'"), std::string::npos) << q.status().message();
  EXPECT_NE(q.status().message().find("bias channel 1"), std::string::npos);
  EXPECT_NE(q.status().message().find("int32"), std::string::npos);
  std::vector<float> wrong = {1, 2, 3};
  EXPECT_FALSE(QuantizeBias(bias, 0.1f, wrong, "x").ok());
  std::vector<float> zero = {0.0f, 1.0f};
  EXPECT_FALSE(QuantizeBias(bias, 0.1f, zero, "x").ok());
}

}  // namespace
}  // namespace qcal::quant
