#include <gtest/gtest.h>

#include "kernels/nn_test_util.h"

namespace qcal::testing {
namespace {

// numpy matmul by definition: promote 1-D operands, broadcast batch dims by
// index clamping, drop the promoted dims.
Tensor NaiveMatMul(const Tensor& a_in, const Tensor& b_in) {
  Shape as = a_in.shape(), bs = b_in.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const size_t rank = std::max(as.size(), bs.size());
  while (as.size() < rank) as.insert(as.begin(), 1);
  while (bs.size() < rank) bs.insert(bs.begin(), 1);
  Shape ys(rank);
  for (size_t i = 0; i + 2 < rank; ++i) ys[i] = std::max(as[i], bs[i]);
  ys[rank - 2] = as[rank - 2];
  ys[rank - 1] = bs[rank - 1];
  const int64_t K = as[rank - 1];
  Tensor y(DataType::kFloat32, ys);
  std::vector<int64_t> yi(rank, 0);
  do {
    double s = 0;
    for (int64_t p = 0; p < K; ++p) {
      std::vector<int64_t> ai(rank), bi(rank);
      for (size_t i = 0; i + 2 < rank; ++i) {
        ai[i] = as[i] == 1 ? 0 : yi[i];
        bi[i] = bs[i] == 1 ? 0 : yi[i];
      }
      ai[rank - 2] = yi[rank - 2];
      ai[rank - 1] = p;
      bi[rank - 2] = p;
      bi[rank - 1] = yi[rank - 1];
      s += double(a_in.data<float>()[Offset(as, ai)]) * b_in.data<float>()[Offset(bs, bi)];
    }
    y.data<float>()[Offset(ys, yi)] = static_cast<float>(s);
  } while (NextIndex(ys, yi));
  Shape out(ys.begin(), ys.end() - 2);
  if (a_in.rank() > 1) out.push_back(ys[rank - 2]);
  if (b_in.rank() > 1) out.push_back(ys[rank - 1]);
  return y.Reshaped(out);
}

TEST(MatMulTest, HandComputed) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::FromVector<float>({5, 6, 7, 8}, {2, 2});
  auto y = RunOne(MakeNode("MatMul", 2), {&a, &b});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{19, 22, 43, 50}));
  Tensor v = Tensor::FromVector<float>({1, -1}, {2});
  y = RunOne(MakeNode("MatMul", 2), {&v, &a});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->shape(), (Shape{2}));
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{-2, -2}));
}

TEST(MatMulTest, BroadcastAndPromotion) {
  const std::pair<Shape, Shape> cases[] = {
      {{3, 4}, {4, 5}},       {{2, 3, 4}, {4, 5}},     {{4}, {2, 4, 5}},     {{2, 3, 4}, {4}},
      {{4}, {4}},             {{2, 1, 3, 4}, {5, 4, 2}}, {{1, 3, 4}, {6, 4, 1}}, {{3, 1, 2}, {4, 1, 2, 3}},
  };
  uint32_t seed = 1;
  for (const auto& [as, bs] : cases) {
    Tensor a = RandomFloat(as, seed++);
    Tensor b = RandomFloat(bs, seed++);
    auto y = RunOne(MakeNode("MatMul", 2), {&a, &b});
    ASSERT_TRUE(y.ok()) << ShapeToString(as) << ShapeToString(bs) << ": " << y.status().ToString();
    EXPECT_TRUE(AllClose(*y, NaiveMatMul(a, b))) << ShapeToString(as) << " x " << ShapeToString(bs);
  }
}

TEST(MatMulTest, Int32) {
  Tensor a = Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::FromVector<int32_t>({1, 2, 3}, {3});
  auto y = RunOne(MakeNode("MatMul", 2), {&a, &b});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToInt64Vector(), (std::vector<int64_t>{14, 32}));
}

TEST(MatMulTest, InferenceAndErrors) {
  auto t = InferTypes(MakeNode("MatMul", 2), {{DataType::kFloat32, {-1, 1, 8, 4}}, {DataType::kFloat32, {3, 4, -1}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 3, 8, -1}));
  t = InferTypes(MakeNode("MatMul", 2), {{DataType::kFloat32, {2, 3}}, {DataType::kFloat32, {4, 5}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("MatMul 'n'"), std::string::npos) << t.status().message();
  t = InferTypes(MakeNode("MatMul", 2), {{DataType::kFloat32, {2, 2, 3}}, {DataType::kFloat32, {3, 3, 5}}});
  EXPECT_FALSE(t.ok());
  t = InferTypes(MakeNode("MatMul", 2), {{DataType::kFloat32, {2, 3}}, {DataType::kInt32, {3, 5}}});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace qcal::testing
