#include <gtest/gtest.h>

#include "kernels/pool_reference.h"

namespace qcal::testing {
namespace {

TEST(MaxPoolTest, HandComputed2x2Stride2) {
  Tensor x = Tensor::FromVector<float>({1, 5, 2, 0, 3, 4, 8, 1, -1, -2, 7, 6, -3, -4, 9, 2}, {1, 1, 4, 4});
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{2, 2});
  a.Set("strides", std::vector<int64_t>{2, 2});
  auto y = RunOne(MakeNode("MaxPool", 1, a), {&x});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{5, 8, -1, 9}));
}

TEST(MaxPoolTest, OddShapeStrideDilationAsymmetricPads) {
  // 7x5, kernel 3x2, stride 2, dilation 2x1, pads (1,0)-(2,1):
  // H: (7+3-5)/2+1 = 3, W: (5+1-2)/2+1 = 3.
  PoolCase c{{3, 2}, {2, 2}, {2, 1}, {1, 0}, {2, 1}, {3, 3}};
  Tensor x = RandomFloat({2, 3, 7, 5}, 1);
  auto y = RunOne(MakeNode("MaxPool", 1, PoolAttrs(c, false)), {&x});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(AllClose(*y, NaiveMaxPool<float>(x, c), 0, 0));
}

TEST(MaxPoolTest, CeilModeAddsPartialWindowAndDropsOneStartingInPadding) {
  // 1-D, in 6, kernel 2, stride 2, pad end 1: floor gives (6+1-2)/2+1 = 3, ceil gives 4,
  // but window 4 would start at 6 >= in + pad_begin, so it is dropped: 3.
  {
    PoolCase c{{2}, {2}, {1}, {0}, {1}, {3}};
    Tensor x = RandomFloat({1, 2, 6}, 2);
    auto y = RunOne(MakeNode("MaxPool", 1, PoolAttrs(c, true)), {&x});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_TRUE(AllClose(*y, NaiveMaxPool<float>(x, c), 0, 0));
  }
  // in 7, kernel 3, stride 2, no pads: floor (7-3)/2+1 = 3; ceil same. in 8: floor 3, ceil 4
  // (last window starts at 6 < 8, covering 6,7 and one tap past the end).
  {
    PoolCase c{{3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, {4, 3}};
    Tensor x = RandomFloat({1, 1, 8, 7}, 3);
    auto y = RunOne(MakeNode("MaxPool", 1, PoolAttrs(c, true)), {&x});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_TRUE(AllClose(*y, NaiveMaxPool<float>(x, c), 0, 0));
  }
}

TEST(MaxPoolTest, Int8AndUint8) {
  PoolCase c{{3, 3}, {2, 1}, {1, 1}, {1, 1}, {1, 1}, {3, 5}};  // H: (5+2-3)/2+1 = 3, W: 5
  Tensor xi = RandomInt<int8_t>({1, 2, 5, 5}, 4, -128, 127);
  xi.data<int8_t>()[0] = -128;
  auto y = RunOne(MakeNode("MaxPool", 1, PoolAttrs(c, false)), {&xi});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->dtype(), DataType::kInt8);
  EXPECT_TRUE(AllClose(*y, NaiveMaxPool<int8_t>(xi, c), 0, 0));

  Tensor xu = RandomInt<uint8_t>({1, 2, 5, 5}, 5, 0, 255);
  y = RunOne(MakeNode("MaxPool", 1, PoolAttrs(c, false)), {&xu});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->dtype(), DataType::kUint8);
  EXPECT_TRUE(AllClose(*y, NaiveMaxPool<uint8_t>(xu, c), 0, 0));
}

TEST(MaxPoolTest, AllNegativeWindowsIgnorePadding) {
  Tensor x = Tensor::FromVector<float>({-5, -4, -3, -2}, {1, 1, 2, 2});
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{2, 2});
  a.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto y = RunOne(MakeNode("MaxPool", 1, a), {&x});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{-5, -4, -4, -3, -2, -2, -3, -2, -2}));
}

TEST(MaxPoolTest, AutoPadSameUpperLowerAnd3d) {
  // 5x5 (even kernel 2, stride 1): SAME total pad 1 -> UPPER pads end, LOWER pads begin.
  Tensor x = RandomFloat({1, 2, 5, 5}, 6);
  for (auto [mode, begin, end] : {std::tuple{"SAME_UPPER", 0, 1}, std::tuple{"SAME_LOWER", 1, 0}}) {
    Attributes a;
    a.Set("kernel_shape", std::vector<int64_t>{2, 2});
    a.Set("auto_pad", std::string(mode));
    auto y = RunOne(MakeNode("MaxPool", 1, a), {&x});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    PoolCase c{{2, 2}, {1, 1}, {1, 1}, {begin, begin}, {end, end}, {5, 5}};
    EXPECT_TRUE(AllClose(*y, NaiveMaxPool<float>(x, c), 0, 0)) << mode;
  }
  PoolCase c3{{2, 3, 2}, {1, 2, 2}, {1, 1, 2}, {0, 1, 0}, {1, 1, 1}, {4, 3, 3}};  // D 4, H (5+2-3)/2+1 = 3, W (6+1-3)/2+1 = 3
  Tensor x3 = RandomFloat({1, 2, 4, 5, 6}, 7);
  auto y = RunOne(MakeNode("MaxPool", 1, PoolAttrs(c3, false)), {&x3});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(AllClose(*y, NaiveMaxPool<float>(x3, c3), 0, 0));
}

TEST(MaxPoolTest, IndicesOutputIsUnsupported) {
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{2, 2});
  auto t = InferTypes(MakeNode("MaxPool", 1, a, 2), {{DataType::kFloat32, {1, 1, 4, 4}}});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(t.status().message().find("MaxPool 'n'"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("Indices"), std::string::npos) << t.status().message();
}

TEST(MaxPoolTest, InferenceUnknownDimsAndErrors) {
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{3, 3});
  a.Set("strides", std::vector<int64_t>{2, 2});
  a.Set("ceil_mode", int64_t{1});
  auto t = InferTypes(MakeNode("MaxPool", 1, a), {{DataType::kInt8, {-1, 8, -1, 8}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 8, -1, 4}));
  EXPECT_EQ((*t)[0].dtype, DataType::kInt8);

  t = InferTypes(MakeNode("MaxPool", 1), {{DataType::kFloat32, {1, 1, 4, 4}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("kernel_shape"), std::string::npos) << t.status().message();
  Attributes bad = a;
  bad.Set("pads", std::vector<int64_t>{1, 1});
  t = InferTypes(MakeNode("MaxPool", 1, bad), {{DataType::kFloat32, {1, 1, 8, 8}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("pads"), std::string::npos) << t.status().message();
  t = InferTypes(MakeNode("MaxPool", 1, a), {{DataType::kInt32, {1, 1, 8, 8}}});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace qcal::testing
