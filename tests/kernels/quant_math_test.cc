// quant_math.h: rounding, saturation, quantize / dequantize / requantize of one value.
#include "kernels/ref/quant_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace qcal::quant {
namespace {

TEST(QuantMathTest, RoundsHalfToEven) {
  EXPECT_EQ(RoundHalfToEven(0.5f), 0.0f);
  EXPECT_EQ(RoundHalfToEven(1.5f), 2.0f);
  EXPECT_EQ(RoundHalfToEven(2.5f), 2.0f);
  EXPECT_EQ(RoundHalfToEven(3.5f), 4.0f);
  EXPECT_EQ(RoundHalfToEven(-0.5f), 0.0f);
  EXPECT_EQ(RoundHalfToEven(-1.5f), -2.0f);
  EXPECT_EQ(RoundHalfToEven(-2.5f), -2.0f);
  EXPECT_EQ(RoundHalfToEven(2.4999f), 2.0f);
  EXPECT_EQ(RoundHalfToEven(2.5001f), 3.0f);
  EXPECT_EQ(RoundHalfToEven(-2.5001f), -3.0f);
  EXPECT_EQ(RoundHalfToEven(16777216.0f), 16777216.0f);
}

TEST(QuantMathTest, RoundsToInt32WithSaturation) {
  EXPECT_EQ(RoundHalfToEvenInt32(-2.5f), -2);
  EXPECT_EQ(RoundHalfToEvenInt32(7.5f), 8);
  EXPECT_EQ(RoundHalfToEvenInt32(3e9f), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(RoundHalfToEvenInt32(-3e9f), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(RoundHalfToEvenInt32(std::nanf("")), 0);
}

TEST(QuantMathTest, QuantizesWithTiesToEvenAndSaturation) {
  // uint8, scale 0.5, zero point 10: x / 0.5 then round, + 10.
  EXPECT_EQ(QuantizeValue<uint8_t>(0.25f, 0.5f, 10), 10);  // 0.5 -> 0
  EXPECT_EQ(QuantizeValue<uint8_t>(0.75f, 0.5f, 10), 12);  // 1.5 -> 2
  EXPECT_EQ(QuantizeValue<uint8_t>(1.25f, 0.5f, 10), 12);  // 2.5 -> 2
  EXPECT_EQ(QuantizeValue<uint8_t>(-5.0f, 0.5f, 10), 0);   // -10 + 10
  EXPECT_EQ(QuantizeValue<uint8_t>(-5.5f, 0.5f, 10), 0);   // -1 saturates
  EXPECT_EQ(QuantizeValue<uint8_t>(1000.0f, 0.5f, 10), 255);
  EXPECT_EQ(QuantizeValue<uint8_t>(INFINITY, 0.5f, 10), 255);
  EXPECT_EQ(QuantizeValue<uint8_t>(-INFINITY, 0.5f, 10), 0);
  EXPECT_EQ(QuantizeValue<uint8_t>(std::nanf(""), 0.5f, 10), 10);
  // int8 at both ends.
  EXPECT_EQ(QuantizeValue<int8_t>(126.5f, 1.0f, 0), 126);
  EXPECT_EQ(QuantizeValue<int8_t>(127.5f, 1.0f, 0), 127);    // 128 saturates
  EXPECT_EQ(QuantizeValue<int8_t>(-128.5f, 1.0f, 0), -128);  // tie to even -128
  EXPECT_EQ(QuantizeValue<int8_t>(-129.0f, 1.0f, 0), -128);
  EXPECT_EQ(QuantizeValue<int8_t>(-3.5f, 1.0f, -1), -5);  // -4 - 1
}

TEST(QuantMathTest, Dequantizes) {
  EXPECT_EQ(DequantizeValue<uint8_t>(0, 2.0f, 128), -256.0f);
  EXPECT_EQ(DequantizeValue<uint8_t>(255, 2.0f, 128), 254.0f);
  EXPECT_EQ(DequantizeValue<int8_t>(-128, 0.5f, 127), -127.5f);
  EXPECT_EQ(DequantizeValue<int32_t>(-1000000, 0.25f, 0), -250000.0f);
}

TEST(QuantMathTest, RequantizesLikeOnnxRuntime) {
  EXPECT_EQ(Requantize<int8_t>(5, 0.5f, 0), 2);    // 2.5 -> 2
  EXPECT_EQ(Requantize<int8_t>(7, 0.5f, 0), 4);    // 3.5 -> 4
  EXPECT_EQ(Requantize<int8_t>(-5, 0.5f, 0), -2);  // -2.5 -> -2
  EXPECT_EQ(Requantize<int8_t>(-5, 0.5f, 3), 1);
  EXPECT_EQ(Requantize<uint8_t>(1000, 1.0f, 0), 255);
  EXPECT_EQ(Requantize<uint8_t>(-3, 1.0f, 2), 0);
  EXPECT_EQ(Requantize<int8_t>(std::numeric_limits<int32_t>::min(), 1.0f, 0), -128);
  EXPECT_EQ(RequantMultiplier(0.5f, 0.25f, 0.125f), 1.0f);
}

TEST(QuantMathTest, ChoosesDynamicQuantizeParams) {
  QuantParams p = ChooseAsymmetricParams<uint8_t>(-204.0f, 51.0f);  // range 255 -> scale 1
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 204);
  p = ChooseAsymmetricParams<uint8_t>(2.0f, 255.0f);  // range widened to include 0
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 0);
  p = ChooseAsymmetricParams<uint8_t>(-510.0f, -2.0f);  // hi widened to 0: scale 2, zp 255
  EXPECT_EQ(p.scale, 2.0f);
  EXPECT_EQ(p.zero_point, 255);
  p = ChooseAsymmetricParams<uint8_t>(0.0f, 0.0f);  // empty range
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 0);
}

}  // namespace
}  // namespace qcal::quant
