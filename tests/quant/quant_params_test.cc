#include "quant/algorithms/quant_params.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace qcal::quant {
namespace {

TEST(QuantParamsTest, RoundHalfEven) {
  EXPECT_EQ(RoundHalfEven(2.5), 2);
  EXPECT_EQ(RoundHalfEven(3.5), 4);
  EXPECT_EQ(RoundHalfEven(-2.5), -2);
  EXPECT_EQ(RoundHalfEven(-1.5), -2);
  EXPECT_EQ(RoundHalfEven(0.5), 0);
  EXPECT_EQ(RoundHalfEven(2.4), 2);
  EXPECT_EQ(RoundHalfEven(-2.6), -3);
}

TEST(QuantParamsTest, AsymmetricUniformMinusOneToTwo) {
  auto p = ParamsFromRange(-1.0, 2.0, true);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // scale = 3/255; offset = -round(-1 / (3/255)) - 128 = 85 - 128.
  EXPECT_FLOAT_EQ(p->scale, 3.0f / 255.0f);
  EXPECT_EQ(p->offset, -43);
  EXPECT_NEAR(ClipMin(*p), -1.0, 1e-6);
  EXPECT_NEAR(ClipMax(*p), 2.0, 1e-6);
}

TEST(QuantParamsTest, SymmetricUsesLargerMagnitudeOver127) {
  auto p = ParamsFromRange(-1.0, 2.0, false);
  ASSERT_TRUE(p.ok());
  EXPECT_FLOAT_EQ(p->scale, 2.0f / 127.0f);
  EXPECT_EQ(p->offset, 0);
  auto n = ParamsFromRange(-3.0, 0.5, false);
  ASSERT_TRUE(n.ok());
  EXPECT_FLOAT_EQ(n->scale, 3.0f / 127.0f);
}

TEST(QuantParamsTest, RangeIsForcedToIncludeZero) {
  auto pos = ParamsFromRange(0.5, 4.0, true);  // min becomes 0
  ASSERT_TRUE(pos.ok());
  EXPECT_FLOAT_EQ(pos->scale, 4.0f / 255.0f);
  EXPECT_EQ(pos->offset, -128);
  auto neg = ParamsFromRange(-4.0, -1.0, true);  // max becomes 0
  ASSERT_TRUE(neg.ok());
  EXPECT_FLOAT_EQ(neg->scale, 4.0f / 255.0f);
  EXPECT_EQ(neg->offset, 127);
}

TEST(QuantParamsTest, DegenerateScaleBecomesOne) {
  auto zero = ParamsFromRange(0, 0, true);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, (QuantParams{1.0f, -128}));
  auto zero_sym = ParamsFromRange(0, 0, false);
  ASSERT_TRUE(zero_sym.ok());
  EXPECT_EQ(*zero_sym, (QuantParams{1.0f, 0}));
  auto tiny = ParamsFromRange(0, 1e-6, true);  // 1e-6/255 < FLT_EPSILON
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(*tiny, (QuantParams{1.0f, -128}));
  // Just above FLT_EPSILON is kept.
  auto small = ParamsFromRange(0, 255 * 2e-7, true);
  ASSERT_TRUE(small.ok());
  EXPECT_FLOAT_EQ(small->scale, 2e-7f);
}

TEST(QuantParamsTest, HugeOrNonFiniteRangesAreErrors) {
  auto big = ParamsFromRange(-1e10, 1e10, true);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(big.status().message().find("1/FLT_EPSILON"), std::string::npos);
  auto inf = ParamsFromRange(-1, std::numeric_limits<double>::infinity(), true);
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.status().message().find("Inf/NaN"), std::string::npos);
  EXPECT_FALSE(ParamsFromRange(std::nan(""), 1, false).ok());
  EXPECT_FALSE(ProcessScale(std::numeric_limits<double>::infinity(), 0, true).ok());
}

TEST(QuantParamsTest, QuantizeClampsAndRoundsHalfEven) {
  QuantParams p{0.5f, -10};
  EXPECT_EQ(QuantizeValue(1.25f, p), 2 - 10);   // 2.5 -> 2
  EXPECT_EQ(QuantizeValue(1000.0f, p), 127);    // clamp
  EXPECT_EQ(QuantizeValue(-1000.0f, p), -128);  // clamp
  EXPECT_FLOAT_EQ(FakeQuantValue(1000.0f, p), (127 + 10) * 0.5f);
  EXPECT_FLOAT_EQ(FakeQuantValue(-1000.0f, p), (-128 + 10) * 0.5f);
  EXPECT_FLOAT_EQ(FakeQuantValue(0.0f, p), 0.0f);  // zero is exact
  EXPECT_DOUBLE_EQ(ClipMin(p), -59.0);
  EXPECT_DOUBLE_EQ(ClipMax(p), 68.5);
}

TEST(QuantParamsTest, CheckFiniteNamesTheElement) {
  std::vector<float> v = {1, 2, std::numeric_limits<float>::infinity(), 4};
  Status s = CheckFinite(v, "calibration data");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("+inf at element 2 of 4"), std::string::npos) << s.message();
  v[2] = std::nanf("");
  EXPECT_NE(CheckFinite(v, "x").message().find("NaN at element 2"), std::string::npos);
  EXPECT_TRUE(CheckFinite(std::vector<float>{1, 2}, "x").ok());
}

TEST(QuantParamsTest, FloatToStringRoundTripsExactly) {
  for (float v : {0.1f, 1.07450986f, 0.00448934268f, 1e-38f, 3.4e38f, -14.0f, 1.0f / 3.0f, 2e-45f}) {
    std::string s = FloatToString(v);
    float back = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), back);
    ASSERT_EQ(r.ec, std::errc()) << s;
    EXPECT_EQ(back, v) << s;
  }
  EXPECT_EQ(FloatToString(0.01f), "0.01");
}

}  // namespace
}  // namespace qcal::quant
