#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/nn_test_util.h"

namespace qcal::testing {
namespace {

TEST(GlobalAveragePoolTest, MeanPerChannel) {
  Tensor x = RandomFloat({2, 3, 5, 7}, 1);
  auto y = RunOne(MakeNode("GlobalAveragePool", 1), {&x});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_EQ(y->shape(), (Shape{2, 3, 1, 1}));
  for (int64_t p = 0; p < 6; ++p) {
    double s = 0;
    for (int64_t i = 0; i < 35; ++i) s += x.data<float>()[p * 35 + i];
    EXPECT_NEAR(y->data<float>()[p], s / 35, 1e-6);
  }
  Tensor x1 = Tensor::FromVector<float>({1, 2, 3, 6}, {1, 2, 2});
  y = RunOne(MakeNode("GlobalAveragePool", 1), {&x1});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{1.5f, 4.5f}));
}

TEST(GlobalMaxPoolTest, MaxPerChannelFloatAndInt8) {
  Tensor x = RandomFloat({1, 4, 3, 2, 2}, 2);
  auto y = RunOne(MakeNode("GlobalMaxPool", 1), {&x});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_EQ(y->shape(), (Shape{1, 4, 1, 1, 1}));
  for (int64_t p = 0; p < 4; ++p) {
    EXPECT_EQ(y->data<float>()[p], *std::max_element(x.data<float>() + p * 12, x.data<float>() + (p + 1) * 12));
  }
  Tensor xi = Tensor::FromVector<int8_t>({-128, -7, -3, 5, 127, 0}, {1, 2, 3});
  y = RunOne(MakeNode("GlobalMaxPool", 1), {&xi});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToInt64Vector(), (std::vector<int64_t>{-3, 127}));
}

TEST(GlobalPoolTest, InferenceAndErrors) {
  auto t = InferTypes(MakeNode("GlobalAveragePool", 1), {{DataType::kFloat32, {-1, 64, -1, -1}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 64, 1, 1}));
  t = InferTypes(MakeNode("GlobalMaxPool", 1), {{DataType::kFloat32, {2, 64}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("GlobalMaxPool 'n'"), std::string::npos) << t.status().message();
  t = InferTypes(MakeNode("GlobalAveragePool", 1), {{DataType::kInt8, {1, 2, 3, 3}}});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace qcal::testing
