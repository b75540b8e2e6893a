#include <gtest/gtest.h>

#include "kernels/nn_test_util.h"

namespace qcal::testing {
namespace {

// Y[i, j] = alpha * sum_p A'(i, p) B'(p, j) + beta * C(i, j), C broadcast by index clamping.
Tensor NaiveGemm(const Tensor& a, const Tensor& b, const Tensor* c, float alpha, float beta, bool ta, bool tb) {
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1), N = tb ? b.dim(0) : b.dim(1);
  Tensor y(DataType::kFloat32, {M, N});
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t p = 0; p < K; ++p) {
        s += double(a.data<float>()[ta ? p * M + i : i * K + p]) * b.data<float>()[tb ? j * K + p : p * N + j];
      }
      double cv = 0;
      if (c) {
        Shape cs = c->shape();
        while (cs.size() < 2) cs.insert(cs.begin(), 1);
        cv = c->data<float>()[(cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j)];
      }
      y.data<float>()[i * N + j] = static_cast<float>(alpha * s + beta * cv);
    }
  }
  return y;
}

TEST(GemmTest, HandComputed) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::FromVector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor c = Tensor::FromVector<float>({10, 20}, {2});
  Attributes at;
  at.Set("alpha", 2.0f);
  at.Set("beta", 0.5f);
  auto y = RunOne(MakeNode("Gemm", 3, at), {&a, &b, &c});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  // A*B = [[4, 5], [10, 11]]
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{13, 20, 25, 32}));
}

TEST(GemmTest, TransposesAndBroadcastBias) {
  const Shape c_shapes[] = {{}, {1}, {7}, {5, 1}, {1, 7}, {5, 7}};
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      Tensor a = RandomFloat(ta ? Shape{3, 5} : Shape{5, 3}, 1);
      Tensor b = RandomFloat(tb ? Shape{7, 3} : Shape{3, 7}, 2);
      for (const Shape& cs : c_shapes) {
        Tensor c = RandomFloat(cs, 3);
        Attributes at;
        at.Set("transA", int64_t{ta});
        at.Set("transB", int64_t{tb});
        at.Set("alpha", 0.75f);
        at.Set("beta", -1.5f);
        auto y = RunOne(MakeNode("Gemm", 3, at), {&a, &b, &c});
        ASSERT_TRUE(y.ok()) << y.status().ToString();
        EXPECT_TRUE(AllClose(*y, NaiveGemm(a, b, &c, 0.75f, -1.5f, ta, tb))) << ta << tb << ShapeToString(cs);
      }
      auto y = RunOne(MakeNode("Gemm", 2, [&] {
                        Attributes at;
                        at.Set("transA", int64_t{ta});
                        at.Set("transB", int64_t{tb});
                        return at;
                      }()),
                      {&a, &b});
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      EXPECT_TRUE(AllClose(*y, NaiveGemm(a, b, nullptr, 1, 1, ta, tb)));
    }
  }
}

TEST(GemmTest, InferenceAndErrors) {
  Attributes at;
  at.Set("transB", int64_t{1});
  auto t = InferTypes(MakeNode("Gemm", 3, at),
                      {{DataType::kFloat32, {-1, 64}}, {DataType::kFloat32, {10, 64}}, {DataType::kFloat32, {10}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 10}));
  t = InferTypes(MakeNode("Gemm", 2, at), {{DataType::kFloat32, {2, 64}}, {DataType::kFloat32, {64, 10}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("Gemm 'n'"), std::string::npos) << t.status().message();
  t = InferTypes(MakeNode("Gemm", 3, at),
                 {{DataType::kFloat32, {2, 64}}, {DataType::kFloat32, {10, 64}}, {DataType::kFloat32, {3, 10}}});
  EXPECT_FALSE(t.ok());
  t = InferTypes(MakeNode("Gemm", 2, at), {{DataType::kFloat32, {2, 2, 64}}, {DataType::kFloat32, {10, 64}}});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace qcal::testing
