// Add, Sub, Mul, Div: every dtype, numpy broadcasting, integer semantics, errors, inference.
#include <cmath>
#include <limits>
#include <random>

#include "kernels/ref/common.h"
#include "support/op_test_util.h"

namespace qcal {
namespace {

using testing::Infer;
using testing::MakeNode;
using testing::Run1;
using testing::RunOp;
using testing::Values;

TEST(ArithmeticTest, AddSameShapeFloat) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::FromVector<float>({10, 20, 30, 40, 50, 60}, {2, 3});
  Tensor y = Run1(MakeNode("Add", 2), {&a, &b});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{11, 22, 33, 44, 55, 66}));
}

TEST(ArithmeticTest, BroadcastRowAndColumn) {
  Tensor col = Tensor::FromVector<float>({1, 2}, {2, 1});
  Tensor row = Tensor::FromVector<float>({10, 20, 30}, {1, 3});
  Tensor y = Run1(MakeNode("Sub", 2), {&row, &col});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{9, 19, 29, 8, 18, 28}));
  // Lower-rank operand on the left, scalar operands on both sides.
  Tensor v = Tensor::FromVector<float>({1, 2, 3}, {3});
  Tensor m = Tensor::FromVector<float>({1, 1, 1, 2, 2, 2}, {2, 3});
  EXPECT_EQ(Values<float>(Run1(MakeNode("Mul", 2), {&v, &m})), (std::vector<float>{1, 2, 3, 2, 4, 6}));
  Tensor s = Tensor::Scalar<float>(12);
  Tensor y2 = Run1(MakeNode("Div", 2), {&s, &v});
  EXPECT_EQ(y2.shape(), (Shape{3}));
  EXPECT_EQ(Values<float>(y2), (std::vector<float>{12, 6, 4}));
  Tensor y3 = Run1(MakeNode("Sub", 2), {&v, &s});
  EXPECT_EQ(Values<float>(y3), (std::vector<float>{-11, -10, -9}));
}

TEST(ArithmeticTest, PerChannelBroadcast) {
  // [1,2,2,2] + [2,1,1]: channel c gets 100*(c+1).
  std::vector<float> xv(8);
  for (int i = 0; i < 8; ++i) xv[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor x = Tensor::FromVector<float>(xv, {1, 2, 2, 2});
  Tensor b = Tensor::FromVector<float>({100, 200}, {2, 1, 1});
  Tensor y = Run1(MakeNode("Add", 2), {&x, &b});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{100, 101, 102, 103, 204, 205, 206, 207}));
}

// Independent reference: index each operand from the output's multi-index.
std::vector<float> NaiveBroadcastAdd(const Tensor& a, const Tensor& b, const Shape& out) {
  std::vector<float> r;
  const int64_t n = NumElements(out);
  for (int64_t flat = 0; flat < n; ++flat) {
    std::vector<int64_t> idx(out.size());
    int64_t rem = flat;
    for (size_t d = out.size(); d-- > 0;) {
      idx[d] = rem % out[d];
      rem /= out[d];
    }
    auto at = [&](const Tensor& t) {
      int64_t off = 0;
      const size_t lead = out.size() - t.shape().size();
      for (size_t d = 0; d < t.shape().size(); ++d) {
        off = off * t.shape()[d] + (t.shape()[d] == 1 ? 0 : idx[lead + d]);
      }
      return t.data<float>()[off];
    };
    r.push_back(at(a) + at(b));
  }
  return r;
}

TEST(ArithmeticTest, GeneralBroadcastMatchesNaiveReference) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {3, 1}}, {{2, 1, 4}, {1, 3, 1}}, {{5}, {3, 1}},          {{1, 3, 1, 5}, {2, 1, 4, 1}},
      {{3, 1}, {1}},       {{2, 3, 1}, {2, 1, 1}}, {{1, 1, 7}, {2, 3, 1}}, {{4, 1, 3}, {4, 2, 1}}};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-10, 10);
  for (const auto& [sa, sb] : cases) {
    auto fill = [&](const Shape& s) {
      std::vector<float> v(static_cast<size_t>(NumElements(s)));
      for (float& f : v) f = dist(rng);
      return Tensor::FromVector<float>(v, s);
    };
    Tensor a = fill(sa), b = fill(sb);
    Tensor y = Run1(MakeNode("Add", 2), {&a, &b});
    auto out = ref::BroadcastShapes(sa, sb, "t");
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(y.shape(), *out);
    EXPECT_EQ(Values<float>(y), NaiveBroadcastAdd(a, b, *out))
        << ShapeToString(sa) << " + " << ShapeToString(sb);
  }
}

TEST(ArithmeticTest, EveryIntegerDtype) {
  Tensor a8 = Tensor::FromVector<int8_t>({-128, 100, 5}, {3});
  Tensor b8 = Tensor::FromVector<int8_t>({1, 100, -3}, {3});
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Sub", 2), {&a8, &b8})), (std::vector<int8_t>{127, 0, 8}));  // wraps
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Add", 2), {&a8, &b8})), (std::vector<int8_t>{-127, -56, 2}));
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Mul", 2), {&a8, &b8})), (std::vector<int8_t>{-128, 16, -15}));

  Tensor au = Tensor::FromVector<uint8_t>({0, 200, 7}, {3});
  Tensor bu = Tensor::FromVector<uint8_t>({1, 100, 2}, {3});
  EXPECT_EQ(Values<uint8_t>(Run1(MakeNode("Sub", 2), {&au, &bu})), (std::vector<uint8_t>{255, 100, 5}));
  EXPECT_EQ(Values<uint8_t>(Run1(MakeNode("Add", 2), {&au, &bu})), (std::vector<uint8_t>{1, 44, 9}));
  EXPECT_EQ(Values<uint8_t>(Run1(MakeNode("Div", 2), {&au, &bu})), (std::vector<uint8_t>{0, 2, 3}));

  const int32_t imax = std::numeric_limits<int32_t>::max();
  Tensor a32 = Tensor::FromVector<int32_t>({imax, -6, 50000}, {3});
  Tensor b32 = Tensor::FromVector<int32_t>({1, 4, 50000}, {3});
  EXPECT_EQ(Values<int32_t>(Run1(MakeNode("Add", 2), {&a32, &b32})),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -2, 100000}));
  EXPECT_EQ(Values<int32_t>(Run1(MakeNode("Mul", 2), {&a32, &b32})),
            (std::vector<int32_t>{imax, -24, -1794967296}));  // 2.5e9 mod 2^32

  Tensor a64 = Tensor::FromVector<int64_t>({int64_t{1} << 40, -9}, {2});
  Tensor b64 = Tensor::FromVector<int64_t>({3}, {1});
  EXPECT_EQ(Values<int64_t>(Run1(MakeNode("Mul", 2), {&a64, &b64})),
            (std::vector<int64_t>{int64_t{3} << 40, -27}));
  EXPECT_EQ(Values<int64_t>(Run1(MakeNode("Div", 2), {&a64, &b64})),
            (std::vector<int64_t>{(int64_t{1} << 40) / 3, -3}));
}

TEST(ArithmeticTest, IntegerDivisionTruncatesTowardZero) {
  Tensor a = Tensor::FromVector<int32_t>({7, -7, 7, -7, 0}, {5});
  Tensor b = Tensor::FromVector<int32_t>({2, 2, -2, -2, 5}, {5});
  EXPECT_EQ(Values<int32_t>(Run1(MakeNode("Div", 2), {&a, &b})), (std::vector<int32_t>{3, -3, -3, 3, 0}));
  Tensor m = Tensor::FromVector<int8_t>({-128, 9}, {2});
  Tensor neg1 = Tensor::FromVector<int8_t>({-1}, {1});
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Div", 2), {&m, &neg1})), (std::vector<int8_t>{-128, -9}));
}

TEST(ArithmeticTest, IntegerDivisionByZeroIsAnError) {
  Tensor a = Tensor::FromVector<int64_t>({1, 2}, {2});
  Tensor b = Tensor::FromVector<int64_t>({1, 0}, {2});
  auto r = RunOp(MakeNode("Div", 2), {&a, &b});
  testing::ExpectError(r.status(), {"Div 'n'", "division by zero"});
  // Float division by zero follows IEEE.
  Tensor fa = Tensor::FromVector<float>({1, -1}, {2});
  Tensor fz = Tensor::FromVector<float>({0}, {1});
  Tensor y = Run1(MakeNode("Div", 2), {&fa, &fz});
  EXPECT_EQ(Values<float>(y), (std::vector<float>{INFINITY, -INFINITY}));
}

TEST(ArithmeticTest, Errors) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::FromVector<float>({1, 2, 3, 4}, {4});
  testing::ExpectError(RunOp(MakeNode("Add", 2), {&a, &b}).status(),
                       {"Add 'n'", "[2,3]", "[4]", "broadcast"});
  Tensor i = Tensor::FromVector<int32_t>({1, 2, 3}, {3});
  testing::ExpectError(RunOp(MakeNode("Mul", 2), {&a, &i}).status(), {"Mul 'n'", "float32", "int32"});
  Tensor t = Tensor::FromVector<bool>({true}, {1});
  testing::ExpectError(RunOp(MakeNode("Sub", 2), {&t, &t}).status(), {"Sub 'n'", "bool"});
  testing::ExpectError(RunOp(MakeNode("Add", 1), {&a}).status(), {"Add 'n'", "1 inputs"});
}

TEST(ArithmeticTest, InferenceWithUnknownDims) {
  const Node add = MakeNode("Add", 2);
  auto r = Infer(add, {{DataType::kFloat32, {-1, 3, 1}}, {DataType::kFloat32, {4}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 3, 4}));
  EXPECT_EQ((*r)[0].dtype, DataType::kFloat32);
  r = Infer(add, {{DataType::kInt8, {-1, 1}}, {DataType::kInt8, {1, -1}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1}));
  // An unknown dim against a known one takes the known size.
  r = Infer(add, {{DataType::kInt64, {-1}}, {DataType::kInt64, {5}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{5}));
  testing::ExpectError(Infer(add, {{DataType::kFloat32, {2, 3}}, {DataType::kFloat32, {-1, 2}}}).status(),
                       {"Add 'n'", "broadcast"});
}

}  // namespace
}  // namespace qcal

namespace qcal {
namespace {

TEST(MaxKernelTest, BroadcastsAndPicksLarger) {
  Node n{"m", "Max", "", {"a", "b"}, {"y"}, {}};
  Tensor a = Tensor::FromVector<float>({-1.f, 5.f, 2.f, -7.f}, {2, 2});
  Tensor b = Tensor::FromVector<float>({0.f, 3.f}, {2});
  auto out = EvaluateNode(n, {&a, &b});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].ToFloatVector(), (std::vector<float>{0.f, 5.f, 2.f, 3.f}));
}

}  // namespace
}  // namespace qcal
