#include <gtest/gtest.h>

#include "kernels/pool_reference.h"

namespace qcal::testing {
namespace {

Result<Tensor> RunAvg(const Tensor& x, const PoolCase& c, bool ceil_mode, bool include_pad) {
  Attributes a = PoolAttrs(c, ceil_mode);
  a.Set("count_include_pad", int64_t{include_pad});
  return RunOne(MakeNode("AveragePool", 1, a), {&x});
}

TEST(AveragePoolTest, HandComputedPadding) {
  // 2x2 input, kernel 2x2, pads 1 -> 3x3; corners see one value.
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  PoolCase c{{2, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {3, 3}};
  auto y = RunAvg(x, c, false, false);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}));
  y = RunAvg(x, c, false, true);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{0.25f, 0.75f, 0.5f, 1, 2.5f, 1.5f, 0.75f, 1.75f, 1}));
}

TEST(AveragePoolTest, OddShapesBothCountModes) {
  PoolCase c{{3, 2}, {2, 2}, {2, 1}, {1, 0}, {2, 1}, {3, 3}};
  Tensor x = RandomFloat({2, 3, 7, 5}, 11);
  for (bool include_pad : {false, true}) {
    auto y = RunAvg(x, c, false, include_pad);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_TRUE(AllClose(*y, NaiveAveragePool(x, c, include_pad))) << include_pad;
  }
}

TEST(AveragePoolTest, CeilModePartialWindow) {
  // in 8x7, kernel 3, stride 2: ceil gives 4x3; the last H window covers rows 6, 7 and one
  // tap past the end. count_include_pad=0 divides by 2*3 there; =1 by all 9 taps
  // (ONNX reference semantics).
  PoolCase c{{3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, {4, 3}};
  Tensor x = RandomFloat({1, 2, 8, 7}, 12);
  for (bool include_pad : {false, true}) {
    auto y = RunAvg(x, c, true, include_pad);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_TRUE(AllClose(*y, NaiveAveragePool(x, c, include_pad))) << include_pad;
  }
}

TEST(AveragePoolTest, OneAndThreeDimensional) {
  PoolCase c1{{3}, {2}, {2}, {2}, {1}, {4}};  // dilated extent 5: (9+3-5)/2+1 = 4
  Tensor x1 = RandomFloat({1, 3, 9}, 13);
  auto y = RunAvg(x1, c1, false, false);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(AllClose(*y, NaiveAveragePool(x1, c1, false)));

  PoolCase c3{{2, 2, 3}, {2, 1, 2}, {1, 2, 1}, {1, 0, 1}, {0, 1, 1}, {3, 4, 3}};  // D (5+1-2)/2+1, H 5+1-3+1, W (6+2-3)/2+1
  Tensor x3 = RandomFloat({1, 2, 5, 5, 6}, 14);
  y = RunAvg(x3, c3, false, true);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(AllClose(*y, NaiveAveragePool(x3, c3, true)));
}

TEST(AveragePoolTest, AutoPadSameExcludesPadding) {
  // 5x5, kernel 3, stride 2: SAME output 3x3, total pad (3-1)*2+3-5 = 2 -> 1 each side.
  Tensor x = RandomFloat({1, 1, 5, 5}, 15);
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    Attributes a;
    a.Set("kernel_shape", std::vector<int64_t>{3, 3});
    a.Set("strides", std::vector<int64_t>{2, 2});
    a.Set("auto_pad", std::string(mode));
    auto y = RunOne(MakeNode("AveragePool", 1, a), {&x});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    PoolCase c{{3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {3, 3}};
    EXPECT_TRUE(AllClose(*y, NaiveAveragePool(x, c, false))) << mode;
  }
  Attributes v;
  v.Set("kernel_shape", std::vector<int64_t>{3, 3});
  v.Set("strides", std::vector<int64_t>{2, 2});
  v.Set("auto_pad", std::string("VALID"));
  auto y = RunOne(MakeNode("AveragePool", 1, v), {&x});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  PoolCase c{{3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, {2, 2}};
  EXPECT_TRUE(AllClose(*y, NaiveAveragePool(x, c, false)));
}

TEST(AveragePoolTest, Errors) {
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{3, 3});
  a.Set("count_include_pad", int64_t{2});
  auto t = InferTypes(MakeNode("AveragePool", 1, a), {{DataType::kFloat32, {1, 1, 8, 8}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("AveragePool 'n'"), std::string::npos) << t.status().message();
  a.Set("count_include_pad", int64_t{0});
  t = InferTypes(MakeNode("AveragePool", 1, a), {{DataType::kFloat32, {1, 1, 2, 8}}});
  EXPECT_FALSE(t.ok());  // window larger than the input
  t = InferTypes(MakeNode("AveragePool", 1, a), {{DataType::kInt8, {1, 1, 8, 8}}});
  EXPECT_FALSE(t.ok());
  t = InferTypes(MakeNode("AveragePool", 1, a), {{DataType::kFloat32, {1, 8}}});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace qcal::testing
