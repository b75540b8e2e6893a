// QLinearMatMul and MatMulInteger vs naive formulas written here, hand-computed
// values, and QLinearMatMul vs dequantize -> float matmul -> quantize (1 LSB).
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>

#include "kernels/quant_test_util.h"

namespace qcal::quant_testing {
namespace {

// Naive batched matmul for a [..., M, K] and b [..., K, N] with the batch dims
// given explicitly as (a_batch_index, b_batch_index) per output batch.
struct BatchPlan {
  int64_t m, k, n;
  std::vector<std::pair<int64_t, int64_t>> batches;  // per output batch: (A matrix, B matrix)
};

template <typename AF, typename BF>
std::vector<int64_t> NaiveIntMatMul(const BatchPlan& p, AF a, BF b) {
  std::vector<int64_t> out;
  for (auto [ab, bb] : p.batches) {
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        int64_t s = 0;
        for (int64_t kk = 0; kk < p.k; ++kk) s += a(ab, i, kk) * b(bb, kk, j);
        out.push_back(s);
      }
    }
  }
  return out;
}

TEST(MatMulIntegerTest, HandComputed) {
  // ONNX's MatMulInteger example: A - 12 times B.
  Tensor a = Tensor::FromVector<uint8_t>({11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}, {4, 3});
  Tensor b = Tensor::FromVector<uint8_t>({1, 4, 2, 5, 3, 6}, {3, 2});
  Tensor a_zp = Tensor::FromVector<uint8_t>({12}, {1});
  Tensor b_zp = Tensor::FromVector<uint8_t>({0}, {1});
  auto y = RunNode(QNode("MatMulInteger", 4), {&a, &b, &a_zp, &b_zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  // row 0: (-1,-5,-9).(1,2,3) = -38, (-1,-5,-9).(4,5,6) = -83
  EXPECT_EQ(Ints(*y), (std::vector<int64_t>{-38, -83, -44, -98, -50, -113, -56, -128}));
  // Without zero points; 1-D x 1-D is a dot product with shape [].
  Tensor v = Tensor::FromVector<int8_t>({-128, 127, 3}, {3});
  Tensor u = Tensor::FromVector<int8_t>({-128, -128, 2}, {3});
  auto dot = RunNode(QNode("MatMulInteger", 2), {&v, &u});
  ASSERT_TRUE(dot.ok()) << dot.status().ToString();
  EXPECT_EQ(dot->shape(), Shape{});
  EXPECT_EQ(Ints(*dot), (std::vector<int64_t>{16384 - 16256 + 6}));
}

TEST(MatMulIntegerTest, PerRowAndPerColumnZeroPointsBatched) {
  // a [2, 3, 5] u8 with per-row zp [3]; b [5, 4] s8 with per-column zp [4].
  Tensor a = RandomInts<uint8_t>({2, 3, 5}, 1, 0, 255);
  Tensor b = RandomInts<int8_t>({5, 4}, 2, -128, 127);
  Tensor a_zp = Tensor::FromVector<uint8_t>({100, 128, 7}, {3});
  Tensor b_zp = Tensor::FromVector<int8_t>({-3, 0, 5, 127}, {4});
  auto y = RunNode(QNode("MatMulInteger", 4), {&a, &b, &a_zp, &b_zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_EQ(y->shape(), (Shape{2, 3, 4}));
  BatchPlan p{3, 5, 4, {{0, 0}, {1, 0}}};
  auto expected = NaiveIntMatMul(
      p,
      [&](int64_t bi, int64_t i, int64_t k) {
        return int64_t{a.data<uint8_t>()[(bi * 3 + i) * 5 + k]} - a_zp.data<uint8_t>()[i];
      },
      [&](int64_t, int64_t k, int64_t j) {
        return int64_t{b.data<int8_t>()[k * 4 + j]} - b_zp.data<int8_t>()[j];
      });
  EXPECT_EQ(Ints(*y), expected);

  // N-D zero point [2, 3, 1] for A: per batch and row.
  Tensor a_zp3 = Tensor::FromVector<uint8_t>({1, 2, 3, 4, 5, 6}, {2, 3, 1});
  auto y3 = RunNode(QNode("MatMulInteger", 3), {&a, &b, &a_zp3});
  ASSERT_TRUE(y3.ok()) << y3.status().ToString();
  auto expected3 = NaiveIntMatMul(
      p,
      [&](int64_t bi, int64_t i, int64_t k) {
        return int64_t{a.data<uint8_t>()[(bi * 3 + i) * 5 + k]} - (bi * 3 + i + 1);
      },
      [&](int64_t, int64_t k, int64_t j) { return int64_t{b.data<int8_t>()[k * 4 + j]}; });
  EXPECT_EQ(Ints(*y3), expected3);
}

TEST(MatMulIntegerTest, InferenceErrors) {
  Node n = QNode("MatMulInteger", 2);
  auto ok = InferFromTypes(n, {{DataType::kUint8, {-1, 1, 4, 5}}, {DataType::kInt8, {3, 5, 2}}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].shape, (Shape{-1, 3, 4, 2}));
  EXPECT_EQ((*ok)[0].dtype, DataType::kInt32);
  auto k_mismatch = InferFromTypes(n, {{DataType::kUint8, {4, 5}}, {DataType::kInt8, {6, 2}}});
  ASSERT_FALSE(k_mismatch.ok());
  EXPECT_NE(k_mismatch.status().message().find("MatMulInteger 'q'"), std::string::npos);
  EXPECT_FALSE(InferFromTypes(n, {{DataType::kFloat32, {4, 5}}, {DataType::kInt8, {5, 2}}}).ok());
  Node z = QNode("MatMulInteger", 4);
  EXPECT_FALSE(InferFromTypes(z, {{DataType::kUint8, {4, 5}},
                                  {DataType::kInt8, {5, 2}},
                                  {DataType::kUint8, {3}},
                                  {DataType::kInt8, {}}})
                   .ok());  // a_zero_point length != M
  EXPECT_FALSE(InferFromTypes(z, {{DataType::kUint8, {4, 5}},
                                  {DataType::kInt8, {5, 2}},
                                  {DataType::kInt8, {}},
                                  {DataType::kInt8, {}}})
                   .ok());  // a_zero_point type != A
}

struct QMatMulData {
  Tensor a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp;
  std::vector<const Tensor*> Inputs() { return {&a, &a_scale, &a_zp, &b, &b_scale, &b_zp, &y_scale, &y_zp}; }
};

// Checks QLinearMatMul on a [..., M, K] x b [..., K, N] against the ONNX Runtime
// formula (nearbyint rounding) and against the float path within 1 LSB.
template <typename AT, typename BT, typename YT>
void CheckQLinearMatMul(QMatMulData& d, const BatchPlan& p, const Shape& out_shape) {
  auto y = RunNode(QNode("QLinearMatMul", 8), d.Inputs());
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_EQ(y->shape(), out_shape);
  ASSERT_EQ(y->dtype(), DataTypeOf<YT>::value);
  auto a_at = [&](int64_t bi, int64_t i, int64_t k) {
    return int64_t{d.a.data<AT>()[(bi * p.m + i) * p.k + k]};
  };
  auto b_at = [&](int64_t bi, int64_t k, int64_t j) {
    return int64_t{d.b.data<BT>()[(bi * p.k + k) * p.n + j]};
  };
  auto par = [](const Tensor& t, int64_t i) { return t.numel() == 1 ? t.GetAsDouble(0) : t.GetAsDouble(i); };
  auto acc = NaiveIntMatMul(
      p, [&](int64_t bi, int64_t i, int64_t k) { return a_at(bi, i, k) - int64_t(par(d.a_zp, i)); },
      [&](int64_t bi, int64_t k, int64_t j) { return b_at(bi, k, j) - int64_t(par(d.b_zp, j)); });
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  std::vector<int64_t> got = Ints(*y);
  int64_t saturated = 0;
  for (size_t idx = 0; idx < acc.size(); ++idx) {
    int64_t i = static_cast<int64_t>(idx) / p.n % p.m, j = static_cast<int64_t>(idx) % p.n;
    float mult = static_cast<float>(par(d.a_scale, i)) * static_cast<float>(par(d.b_scale, j)) /
                 static_cast<float>(par(d.y_scale, i));
    int64_t q =
        static_cast<int64_t>(std::nearbyint(static_cast<float>(acc[idx]) * mult)) + int64_t(par(d.y_zp, i));
    q = std::clamp<int64_t>(q, std::numeric_limits<YT>::min(), std::numeric_limits<YT>::max());
    EXPECT_EQ(got[idx], q) << "element " << idx;
    double real = double(acc[idx]) * par(d.a_scale, i) * par(d.b_scale, j);  // dequantized product sum
    int64_t fq = std::llround(real / par(d.y_scale, i)) + int64_t(par(d.y_zp, i));
    fq = std::clamp<int64_t>(fq, std::numeric_limits<YT>::min(), std::numeric_limits<YT>::max());
    EXPECT_LE(std::abs(got[idx] - fq), 1) << "element " << idx;
    saturated += q == std::numeric_limits<YT>::min() || q == std::numeric_limits<YT>::max();
  }
  EXPECT_LT(saturated, static_cast<int64_t>(acc.size()) / 4);
}

TEST(QLinearMatMulTest, PerColumnBScalesBatchedU8S8) {
  QMatMulData d;
  d.a = RandomInts<uint8_t>({3, 4, 7}, 5, 0, 255);
  d.a_scale = Tensor::Scalar<float>(0.02f);
  d.a_zp = Tensor::Scalar<uint8_t>(121);
  d.b = RandomInts<int8_t>({3, 7, 5}, 6, -128, 127);
  d.b_scale = Tensor::FromVector<float>({0.003f, 0.004f, 0.005f, 0.0061f, 0.0072f}, {5});
  d.b_zp = Tensor::FromVector<int8_t>({0, -2, 3, 1, -1}, {5});
  d.y_scale = Tensor::Scalar<float>(0.07f);
  d.y_zp = Tensor::Scalar<int8_t>(-3);
  BatchPlan p{4, 7, 5, {{0, 0}, {1, 1}, {2, 2}}};
  CheckQLinearMatMul<uint8_t, int8_t, int8_t>(d, p, {3, 4, 5});
}

TEST(QLinearMatMulTest, BroadcastBatchesPerRowAAndYS8U8) {
  // a [2, 1, 3, 6] x b [4, 6, 2] -> [2, 4, 3, 2]; a and y per row, b per tensor.
  QMatMulData d;
  d.a = RandomInts<int8_t>({2, 1, 3, 6}, 7, -128, 127);
  d.a_scale = Tensor::FromVector<float>({0.01f, 0.015f, 0.02f}, {3});
  d.a_zp = Tensor::FromVector<int8_t>({-1, 0, 2}, {3});
  d.b = RandomInts<uint8_t>({4, 6, 2}, 8, 0, 255);
  d.b_scale = Tensor::FromVector<float>({0.006f}, {1});
  d.b_zp = Tensor::FromVector<uint8_t>({128}, {1});
  d.y_scale = Tensor::FromVector<float>({0.05f, 0.06f, 0.07f}, {3});
  d.y_zp = Tensor::FromVector<uint8_t>({120, 128, 136}, {3});
  BatchPlan p{3, 6, 2, {}};
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 4; ++j) p.batches.push_back({i, j});
  }
  CheckQLinearMatMul<int8_t, uint8_t, uint8_t>(d, p, {2, 4, 3, 2});
}

TEST(QLinearMatMulTest, InferenceValidatesParams) {
  Node n = QNode("QLinearMatMul", 8);
  std::vector<TensorType> t = {{DataType::kUint8, {-1, 4, 7}}, {DataType::kFloat32, {}},
                               {DataType::kUint8, {}},         {DataType::kInt8, {7, 5}},
                               {DataType::kFloat32, {5}},      {DataType::kInt8, {5}},
                               {DataType::kFloat32, {}},       {DataType::kUint8, {}}};
  auto ok = InferFromTypes(n, t);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].shape, (Shape{-1, 4, 5}));
  EXPECT_EQ((*ok)[0].dtype, DataType::kUint8);
  auto bad = t;
  bad[4].shape = {4};  // b_scale length != N
  auto r = InferFromTypes(n, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("QLinearMatMul 'q'"), std::string::npos);
  bad = t;
  bad[5].dtype = DataType::kUint8;  // b_zero_point type != b
  EXPECT_FALSE(InferFromTypes(n, bad).ok());
  bad = t;
  bad[6].dtype = DataType::kInt32;  // y_scale must be float32
  EXPECT_FALSE(InferFromTypes(n, bad).ok());
}

}  // namespace
}  // namespace qcal::quant_testing
