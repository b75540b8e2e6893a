#include <gtest/gtest.h>

#include <cmath>

#include "kernels/nn_test_util.h"

namespace qcal::testing {
namespace {

TEST(BatchNormalizationTest, MatchesDefinition) {
  Tensor x = RandomFloat({2, 3, 4, 5}, 1);
  Tensor scale = Tensor::FromVector<float>({1.5f, -0.5f, 2}, {3});
  Tensor bias = Tensor::FromVector<float>({0.1f, 0.2f, -0.3f}, {3});
  Tensor mean = Tensor::FromVector<float>({0.5f, -1, 0}, {3});
  Tensor var = Tensor::FromVector<float>({1, 0.25f, 4}, {3});
  Attributes a;
  a.Set("epsilon", 0.01f);
  auto y = RunOne(MakeNode("BatchNormalization", 5, a), {&x, &scale, &bias, &mean, &var});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  Tensor want(DataType::kFloat32, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t c = (i / 20) % 3;
    float s = scale.data<float>()[c], b = bias.data<float>()[c], m = mean.data<float>()[c], v = var.data<float>()[c];
    want.data<float>()[i] = (x.data<float>()[i] - m) / std::sqrt(v + 0.01f) * s + b;
  }
  EXPECT_TRUE(AllClose(*y, want));
  // Rank-2 input [N, C].
  Tensor x2 = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  y = RunOne(MakeNode("BatchNormalization", 5), {&x2, &scale, &bias, &mean, &var});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_NEAR(y->ToFloatVector()[4], (5 - (-1)) / std::sqrt(0.25f + 1e-5f) * -0.5f + 0.2f, 1e-4);
}

TEST(BatchNormalizationTest, TrainingModeIsUnsupported) {
  std::vector<TensorType> in = {{DataType::kFloat32, {1, 3, 2, 2}}};
  for (int i = 0; i < 4; ++i) in.push_back({DataType::kFloat32, {3}});
  Attributes a;
  a.Set("training_mode", int64_t{1});
  auto t = InferTypes(MakeNode("BatchNormalization", 5, a, 3), in);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(t.status().message().find("BatchNormalization 'n'"), std::string::npos) << t.status().message();
  t = InferTypes(MakeNode("BatchNormalization", 5, {}, 3), in);
  EXPECT_FALSE(t.ok());
  in[3].shape = {4};
  t = InferTypes(MakeNode("BatchNormalization", 5), in);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("input_mean"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace qcal::testing
