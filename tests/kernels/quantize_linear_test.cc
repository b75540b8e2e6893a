// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear: hand-computed values.
#include <gtest/gtest.h>

#include "kernels/quant_test_util.h"

namespace qcal::quant_testing {
namespace {

Attributes Axis(int64_t axis) {
  Attributes a;
  a.Set("axis", axis);
  return a;
}

TEST(QuantizeLinearTest, PerTensorDefaultsToUint8WithTiesToEven) {
  Tensor x = Tensor::FromVector<float>({0, 1, 2.5f, 3.5f, -1, 300, 0.5f}, {7});
  Tensor s = Tensor::Scalar<float>(1.0f);
  auto y = RunNode(QNode("QuantizeLinear", 2), {&x, &s});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->dtype(), DataType::kUint8);
  EXPECT_EQ(Ints(*y), (std::vector<int64_t>{0, 1, 2, 4, 0, 255, 0}));
}

TEST(QuantizeLinearTest, Int8ZeroPointDecidesTypeAndSaturatesBothEnds) {
  Tensor x = Tensor::FromVector<float>({-1.5f, -0.5f, 0.5f, 1.5f, 1000, -1000, 63.75f}, {7});
  Tensor s = Tensor::Scalar<float>(0.5f);
  Tensor zp = Tensor::Scalar<int8_t>(-1);
  auto y = RunNode(QNode("QuantizeLinear", 3), {&x, &s, &zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->dtype(), DataType::kInt8);
  // x/0.5 = -3, -1, 1, 3, 2000, -2000, 127.5 -> round -> +(-1) -> saturate
  EXPECT_EQ(Ints(*y), (std::vector<int64_t>{-4, -2, 0, 2, 127, -128, 127}));
}

TEST(QuantizeLinearTest, OutputDtypeAttributeWithoutZeroPoint) {
  Tensor x = Tensor::FromVector<float>({-200, -2.5f, 2.5f}, {3});
  Tensor s = Tensor::Scalar<float>(1.0f);
  Attributes a;
  a.Set("output_dtype", int64_t{3});  // int8
  auto y = RunNode(QNode("QuantizeLinear", 2, a), {&x, &s});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->dtype(), DataType::kInt8);
  EXPECT_EQ(Ints(*y), (std::vector<int64_t>{-128, -2, 2}));
  a.Set("output_dtype", int64_t{5});  // int16: out of scope
  auto bad = RunNode(QNode("QuantizeLinear", 2, a), {&x, &s});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnsupported);
}

TEST(QuantizeLinearTest, PerAxisDefaultAxisOne) {
  // x [2,3,2]; channel c has scale {1,2,4}[c], zero point {0,10,20}[c].
  std::vector<float> xv = {4, -1,   4,    30, 6, 10,  //
                           0, 1000, 2.5f, 3,  4, 2};
  Tensor x = Tensor::FromVector<float>(xv, {2, 3, 2});
  Tensor s = Tensor::FromVector<float>({1, 2, 4}, {3});
  Tensor zp = Tensor::FromVector<uint8_t>({0, 10, 20}, {3});
  auto y = RunNode(QNode("QuantizeLinear", 3), {&x, &s, &zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  // c0: 4, -1->0 | c1: 4/2+10=12, 30/2+10=25 | c2: 6/4=1.5->2 +20=22, 10/4=2.5->2 +20=22
  // c0: 0, 1000->255 | c1: 2.5/2=1.25->1 +10=11, 3/2=1.5->2 +10=12 | c2: 4/4+20=21, 2/4=0.5->0 +20=20
  EXPECT_EQ(Ints(*y), (std::vector<int64_t>{4, 0, 12, 25, 22, 22, 0, 255, 11, 12, 21, 20}));
}

TEST(QuantizeLinearTest, PerAxisZeroAndNegativeAxis) {
  Tensor x = Tensor::FromVector<float>({1.5f, 2.5f, -3, 1, 70, -70}, {2, 3});
  Tensor s0 = Tensor::FromVector<float>({1, 0.5f}, {2});
  Tensor zp0 = Tensor::FromVector<int8_t>({0, -5}, {2});
  auto y0 = RunNode(QNode("QuantizeLinear", 3, Axis(0)), {&x, &s0, &zp0});
  ASSERT_TRUE(y0.ok()) << y0.status().ToString();
  EXPECT_EQ(Ints(*y0), (std::vector<int64_t>{2, 2, -3, -3, 127, -128}));

  Tensor s1 = Tensor::FromVector<float>({1, 2, 4}, {3});
  Tensor x1 = Tensor::FromVector<float>({4, 4, 4, -3, 5, 10}, {2, 3});
  auto y1 = RunNode(QNode("QuantizeLinear", 2, Axis(-1)), {&x1, &s1});
  ASSERT_TRUE(y1.ok()) << y1.status().ToString();
  EXPECT_EQ(y1->dtype(), DataType::kUint8);
  EXPECT_EQ(Ints(*y1), (std::vector<int64_t>{4, 2, 1, 0, 2, 2}));  // 5/2=2.5->2, 10/4=2.5->2
}

TEST(QuantizeLinearTest, InferenceKeepsUnknownDimsAndValidatesParams) {
  Node q = QNode("QuantizeLinear", 3);
  auto t = InferFromTypes(
      q, {{DataType::kFloat32, {-1, 3, 4}}, {DataType::kFloat32, {3}}, {DataType::kInt8, {3}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].dtype, DataType::kInt8);
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 3, 4}));

  auto wrong_len =
      InferFromTypes(q, {{DataType::kFloat32, {2, 3, 4}}, {DataType::kFloat32, {4}}, {DataType::kInt8, {4}}});
  ASSERT_FALSE(wrong_len.ok());
  EXPECT_NE(wrong_len.status().message().find("QuantizeLinear 'q'"), std::string::npos)
      << wrong_len.status().message();
  auto zp_shape =
      InferFromTypes(q, {{DataType::kFloat32, {2, 3}}, {DataType::kFloat32, {3}}, {DataType::kUint8, {}}});
  EXPECT_FALSE(zp_shape.ok());
  auto zp_type =
      InferFromTypes(q, {{DataType::kFloat32, {2, 3}}, {DataType::kFloat32, {}}, {DataType::kInt32, {}}});
  EXPECT_FALSE(zp_type.ok());
  auto scale_2d = InferFromTypes(
      q, {{DataType::kFloat32, {2, 4}}, {DataType::kFloat32, {2, 2}}, {DataType::kUint8, {2, 2}}});
  EXPECT_EQ(scale_2d.status().code(), StatusCode::kInvalidArgument);
}

TEST(QuantizeLinearTest, BlockedQuantizationIsUnsupported) {
  Attributes a = Axis(1);
  a.Set("block_size", int64_t{2});
  for (const char* op : {"QuantizeLinear", "DequantizeLinear"}) {
    Node n = QNode(op, 2, a);
    DataType xt = std::string(op) == "QuantizeLinear" ? DataType::kFloat32 : DataType::kInt8;
    auto t = InferFromTypes(n, {{xt, {3, 4}}, {DataType::kFloat32, {3, 2}}});
    ASSERT_FALSE(t.ok()) << op;
    EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(t.status().message().find("block_size=2"), std::string::npos) << t.status().message();
  }
}

TEST(DequantizeLinearTest, PerTensorUint8) {
  Tensor x = Tensor::FromVector<uint8_t>({0, 3, 128, 255}, {4});
  Tensor s = Tensor::Scalar<float>(2.0f);
  Tensor zp = Tensor::Scalar<uint8_t>(128);
  auto y = RunNode(QNode("DequantizeLinear", 3), {&x, &s, &zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{-256, -250, 0, 254}));
}

TEST(DequantizeLinearTest, PerAxisInt8AllAxes) {
  Tensor x = Tensor::FromVector<int8_t>({-128, 0, 127, 10, 20, 30}, {2, 3});
  Tensor s0 = Tensor::FromVector<float>({0.5f, 2}, {2});
  Tensor zp0 = Tensor::FromVector<int8_t>({0, 10}, {2});
  auto y0 = RunNode(QNode("DequantizeLinear", 3, Axis(0)), {&x, &s0, &zp0});
  ASSERT_TRUE(y0.ok()) << y0.status().ToString();
  EXPECT_EQ(y0->ToFloatVector(), (std::vector<float>{-64, 0, 63.5f, 0, 20, 40}));
  Tensor s1 = Tensor::FromVector<float>({1, 2, 4}, {3});
  for (int64_t axis : {1, -1}) {
    auto y1 = RunNode(QNode("DequantizeLinear", 2, Axis(axis)), {&x, &s1});
    ASSERT_TRUE(y1.ok()) << y1.status().ToString();
    EXPECT_EQ(y1->ToFloatVector(), (std::vector<float>{-128, 0, 508, 10, 40, 120})) << axis;
  }
  Tensor bad_zp = Tensor::FromVector<uint8_t>({0, 10}, {2});  // type differs from x
  EXPECT_FALSE(RunNode(QNode("DequantizeLinear", 3, Axis(0)), {&x, &s0, &bad_zp}).ok());
}

TEST(DequantizeLinearTest, Int32Bias) {
  Tensor x = Tensor::FromVector<int32_t>({-5, 0, 1000000}, {3});
  Tensor s = Tensor::Scalar<float>(0.25f);
  auto y = RunNode(QNode("DequantizeLinear", 2), {&x, &s});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{-1.25f, 0, 250000}));
}

TEST(DequantizeLinearTest, RoundTripWithQuantizeIsWithinHalfStep) {
  Tensor x = Tensor::FromVector<float>({-1.0f, -0.37f, 0.0f, 0.11f, 0.93f}, {5});
  Tensor s = Tensor::Scalar<float>(0.01f);
  Tensor zp = Tensor::Scalar<int8_t>(3);
  auto q = RunNode(QNode("QuantizeLinear", 3), {&x, &s, &zp});
  ASSERT_TRUE(q.ok());
  auto d = RunNode(QNode("DequantizeLinear", 3), {&*q, &s, &zp});
  ASSERT_TRUE(d.ok());
  for (int64_t i = 0; i < 5; ++i) EXPECT_NEAR(d->ToFloatVector()[i], x.ToFloatVector()[i], 0.005f + 1e-6f);
}

TEST(DynamicQuantizeLinearTest, ComputesScaleZeroPointAndValues) {
  // min -204, max 51: scale 255/255 = 1, zero point 204.
  Tensor x = Tensor::FromVector<float>({0, 51, -204, 25.5f, -0.5f, 12.5f}, {2, 3});
  auto outs = RunAll(QNode("DynamicQuantizeLinear", 1, {}, 3), {&x});
  ASSERT_TRUE(outs.ok()) << outs.status().ToString();
  EXPECT_EQ((*outs)[1].ToFloatVector(), (std::vector<float>{1.0f}));
  EXPECT_EQ(Ints((*outs)[2]), (std::vector<int64_t>{204}));
  EXPECT_EQ((*outs)[0].shape(), (Shape{2, 3}));
  // 25.5 -> 26 and 12.5 -> 12 (ties to even), -0.5 -> 0.
  EXPECT_EQ(Ints((*outs)[0]), (std::vector<int64_t>{204, 255, 0, 230, 204, 216}));
}

TEST(DynamicQuantizeLinearTest, AllPositiveAndAllZero) {
  Tensor x = Tensor::FromVector<float>({2, 255, 100.5f}, {3});
  auto outs = RunAll(QNode("DynamicQuantizeLinear", 1, {}, 3), {&x});
  ASSERT_TRUE(outs.ok()) << outs.status().ToString();
  EXPECT_EQ((*outs)[1].ToFloatVector(), (std::vector<float>{1.0f}));  // range [0, 255]
  EXPECT_EQ(Ints((*outs)[2]), (std::vector<int64_t>{0}));
  EXPECT_EQ(Ints((*outs)[0]), (std::vector<int64_t>{2, 255, 100}));
  Tensor z(DataType::kFloat32, {4});
  auto zo = RunAll(QNode("DynamicQuantizeLinear", 1, {}, 3), {&z});
  ASSERT_TRUE(zo.ok());
  EXPECT_EQ((*zo)[1].ToFloatVector(), (std::vector<float>{1.0f}));
  EXPECT_EQ(Ints((*zo)[0]), (std::vector<int64_t>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace qcal::quant_testing
