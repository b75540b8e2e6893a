// The AVX2 int8 GEMV (kernels/dnnl/int8_gemv.cc: QcalQMatMul / QLinearMatMul with
// at most 4 rows of A) against the reference kernels: outputs bit-identical
// (memcmp), on odd K / N, both B layouts, u8 / s8 A with zero points, every output
// type, worst-case operands; and which kernel the registry picks.
#include <cstring>

#include "kernels/dnnl_test_util.h"

namespace qcal::testing {
namespace {

struct GemvCase {
  Shape a;  // [.., K]
  int64_t n = 8;
  bool trans_b = false;
  DataType a_type = DataType::kUint8;
  int a_zp = 0;
  bool per_column = true;
  bool bias = true;
  std::optional<DataType> out;           // nullopt: float output
  int a_value = -1000, b_value = -1000;  // other than -1000: every element of A / B
};

struct GemvInputs {
  Tensor a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp, bias;
};

GemvInputs MakeInputs(const GemvCase& c, uint32_t seed) {
  GemvInputs in;
  const int64_t k = c.a.back();
  const bool u8 = c.a_type == DataType::kUint8;
  in.a = u8 ? RandomInt<uint8_t>(c.a, seed, 0, 255) : RandomInt<int8_t>(c.a, seed, -128, 127);
  if (c.a_value != -1000) {
    for (int64_t i = 0; i < in.a.numel(); ++i) {
      if (u8) in.a.data<uint8_t>()[i] = static_cast<uint8_t>(c.a_value);
      if (!u8) in.a.data<int8_t>()[i] = static_cast<int8_t>(c.a_value);
    }
  }
  in.a_zp = u8 ? Tensor::Scalar<uint8_t>(static_cast<uint8_t>(c.a_zp))
               : Tensor::Scalar<int8_t>(static_cast<int8_t>(c.a_zp));
  in.a_scale = Tensor::Scalar<float>(0.03f);
  in.b = RandomInt<int8_t>(c.trans_b ? Shape{c.n, k} : Shape{k, c.n}, seed + 1, -128, 127);
  if (c.b_value != -1000) {
    for (int64_t i = 0; i < in.b.numel(); ++i) in.b.data<int8_t>()[i] = static_cast<int8_t>(c.b_value);
  }
  std::vector<float> s;
  for (int64_t j = 0; j < (c.per_column ? c.n : 1); ++j)
    s.push_back(0.002f + 0.0001f * static_cast<float>(j % 7));
  in.b_scale = c.per_column ? Tensor::FromVector<float>(s, {c.n}) : Tensor::Scalar<float>(s[0]);
  in.b_zp = Tensor(DataType::kInt8, in.b_scale.shape());
  in.y_scale =
      Tensor::Scalar<float>(0.03f * 0.002f * 70.0f * 70.0f * std::sqrt(static_cast<float>(k)) / 40.0f);
  in.y_zp = c.out == DataType::kInt8 ? Tensor::Scalar<int8_t>(-3) : Tensor::Scalar<uint8_t>(120);
  in.bias = RandomInt<int32_t>({c.n}, seed + 2, -30000, 30000);
  return in;
}

// Runs the QcalQMatMul node on `provider` and on "ref"; the two must be memcmp-equal.
void CheckGemv(const GemvCase& c, uint32_t seed = 3) {
  const GemvInputs in = MakeInputs(c, seed);
  SCOPED_TRACE("A " + ShapeToString(c.a) + " N " + std::to_string(c.n) + (c.trans_b ? " trans_b" : ""));
  Attributes attrs;
  attrs.Set("trans_b", int64_t{c.trans_b ? 1 : 0});
  const Node node = MakeNode("QcalQMatMul", 9, attrs);
  const std::vector<const Tensor*> list = {&in.a,
                                           &in.a_scale,
                                           &in.a_zp,
                                           &in.b,
                                           &in.b_scale,
                                           &in.b_zp,
                                           c.out ? &in.y_scale : nullptr,
                                           c.out ? &in.y_zp : nullptr,
                                           c.bias ? &in.bias : nullptr};
  std::vector<bool> is_const(9, true);
  is_const[0] = false;
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2";
  EXPECT_EQ(SelectedProvider(node, list, is_const), "dnnl");
  auto gk = MakeKernel(node, list, is_const, "dnnl");
  auto rk = MakeKernel(node, list, is_const, "ref");
  ASSERT_TRUE(gk.ok() && rk.ok());
  auto want = RunKernel(**rk, list);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  for (int run = 0; run < 2; ++run) {
    auto got = RunKernel(**gk, list);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->dtype(), want->dtype());
    ASSERT_EQ(got->shape(), want->shape());
    EXPECT_EQ(
        std::memcmp(got->raw(), want->raw(), static_cast<size_t>(got->numel()) * DataTypeSize(got->dtype())),
        0);
  }
}

TEST(Int8GemvTest, MatchesTheReferenceOnOddShapes) {
  CheckGemv({.a = {1, 1}, .n = 1});
  CheckGemv({.a = {1, 3}, .n = 7, .a_zp = 131});
  CheckGemv({.a = {2, 17},
             .n = 13,
             .trans_b = true,
             .a_type = DataType::kInt8,
             .a_zp = -9,
             .out = DataType::kInt8});
  CheckGemv({.a = {1, 2, 1027}, .n = 1000, .per_column = false, .out = DataType::kUint8});
  CheckGemv({.a = {4, 64}, .n = 24, .trans_b = true, .a_zp = 3, .bias = false});
  CheckGemv({.a = {3, 2048}, .n = 9, .a_type = DataType::kInt8, .a_zp = 127});
}

// Largest products and sums: (a - a_zp) = +-255 times b = -128 over 2049 terms.
TEST(Int8GemvTest, WorstCaseOperandsStayExact) {
  CheckGemv({.a = {1, 2049}, .n = 11, .a_value = 255, .b_value = -128});
  CheckGemv({.a = {2, 2049}, .n = 11, .a_zp = 255, .a_value = 0, .b_value = -128});
  CheckGemv({.a = {1, 2049},
             .n = 17,
             .trans_b = true,
             .a_type = DataType::kInt8,
             .a_zp = 127,
             .a_value = -128,
             .b_value = -128});
}

// More than 4 rows go to the oneDNN matmul, at most 4 to the GEMV; both bit-exact.
TEST(Int8GemvTest, RowCountDecidesTheKernel) {
  const GemvCase c{.a = {5, 40}, .n = 16};
  const GemvInputs in = MakeInputs(c, 5);
  const Node node = MakeNode("QcalQMatMul", 6);
  const std::vector<const Tensor*> list = {&in.a, &in.a_scale, &in.a_zp, &in.b, &in.b_scale, &in.b_zp};
  std::vector<bool> is_const(6, true);
  is_const[0] = false;
  auto five = MakeKernel(node, list, is_const, "dnnl");
  ASSERT_TRUE(five.ok());
  EXPECT_EQ(std::string(typeid(**five).name()).find("Int8Gemv"), std::string::npos);
  const Tensor a4 = RandomInt<uint8_t>({4, 40}, 6, 0, 255);
  std::vector<const Tensor*> list4 = list;
  list4[0] = &a4;
  auto four = MakeKernel(node, list4, is_const, "dnnl");
  ASSERT_TRUE(four.ok());
  EXPECT_NE(std::string(typeid(**four).name()).find("Int8Gemv"), std::string::npos);
  CheckGemv(c);
}

}  // namespace
}  // namespace qcal::testing
