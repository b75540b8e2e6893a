#include "quant/algorithms/weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace qcal::quant {
namespace {

// 3 output channels x 3 weights.
const std::vector<float> kWeights = {0.9f,  -2.0f, 0.5f,   // channel 0: max|w| = 2
                                     0.0f,  0.0f,  0.0f,   // channel 1: all zero
                                     -0.3f, 0.1f,  0.2f};  // channel 2: max|w| = 0.3

TEST(ArqTest, PerChannelScalesAreMaxAbsOver127) {
  auto p = ArqCalibrate(kWeights, 3, true);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 3u);
  EXPECT_FLOAT_EQ((*p)[0].scale, 2.0f / 127.0f);
  EXPECT_EQ((*p)[1], (QuantParams{1.0f, 0}));  // zero channel: FLT_EPSILON rule
  EXPECT_FLOAT_EQ((*p)[2].scale, 0.3f / 127.0f);
  for (const QuantParams& q : *p) EXPECT_EQ(q.offset, 0);

  auto q = QuantizeWeights(kWeights, 3, *p);
  ASSERT_TRUE(q.ok());
  // 0.9 * 127 / 2 = 57.15 -> 57; -2 -> -127; 0.5 * 63.5 = 31.75 -> 32.
  // channel 2: -127, 0.1 * 127 / 0.3 = 42.33 -> 42, 84.67 -> 85.
  EXPECT_EQ(*q, (std::vector<int8_t>{57, -127, 32, 0, 0, 0, -127, 42, 85}));
}

TEST(ArqTest, PerTensorUsesGlobalMax) {
  auto p = ArqCalibrate(kWeights, 3, false);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_FLOAT_EQ((*p)[0].scale, 2.0f / 127.0f);
  auto q = QuantizeWeights(kWeights, 3, *p);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)[6], -19);  // -0.3 * 63.5 = -19.05
}

TEST(ArqTest, Errors) {
  EXPECT_FALSE(ArqCalibrate(kWeights, 4, true).ok());  // 9 not divisible by 4
  std::vector<float> bad = kWeights;
  bad[7] = std::nanf("");
  auto r = ArqCalibrate(bad, 3, true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("output channel 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("element 1"), std::string::npos);
  std::vector<float> huge = {3e9f, 1.0f};
  EXPECT_EQ(ArqCalibrate(huge, 1, true).status().code(), StatusCode::kOutOfRange);
  std::vector<QuantParams> two(2);
  EXPECT_FALSE(QuantizeWeights(kWeights, 3, two).ok());
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
