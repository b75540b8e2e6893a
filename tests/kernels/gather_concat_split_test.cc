// Gather, Concat, Split.
#include "support/op_test_util.h"

namespace qcal {
namespace {

using testing::Attrs;
using testing::ExpectError;
using testing::I64;
using testing::Infer;
using testing::MakeNode;
using testing::Run1;
using testing::RunOp;
using testing::Values;

Attributes Axis(int64_t a) { return Attrs({{"axis", a}}); }

TEST(GatherTest, AxesAndIndexShapes) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor idx = Tensor::FromVector<int64_t>({0, 1, 1, 2}, {2, 2});
  Tensor y = Run1(MakeNode("Gather", 2), {&x, &idx});
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{1, 2, 3, 4, 3, 4, 5, 6}));
  Tensor neg = Tensor::FromVector<int32_t>({-1, 0}, {2});
  y = Run1(MakeNode("Gather", 2, 1, Axis(-1)), {&x, &neg});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{2, 1, 4, 3, 6, 5}));
  Tensor scalar = Tensor::Scalar<int64_t>(1);
  y = Run1(MakeNode("Gather", 2), {&x, &scalar});
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{3, 4}));
  Tensor shape = I64({1, 3, 224, 224});
  Tensor zero = Tensor::Scalar<int64_t>(0);
  EXPECT_EQ(Values<int64_t>(Run1(MakeNode("Gather", 2), {&shape, &zero})), (std::vector<int64_t>{1}));
  Tensor b = Tensor::FromVector<bool>({true, false, false}, {3});
  Tensor i2 = I64({2, 0, 0});
  EXPECT_EQ(Values<bool>(Run1(MakeNode("Gather", 2), {&b, &i2})), (std::vector<bool>{false, true, true}));
  Tensor i8 = Tensor::FromVector<int8_t>({-7, 8}, {2});
  Tensor i1 = I64({1, 1, 0});
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Gather", 2), {&i8, &i1})), (std::vector<int8_t>{8, 8, -7}));
}

TEST(GatherTest, ErrorsAndInference) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor big = I64({3});
  ExpectError(RunOp(MakeNode("Gather", 2), {&x, &big}).status(), {"Gather 'n'", "index 3", "size 3"});
  Tensor low = I64({-4});
  ExpectError(RunOp(MakeNode("Gather", 2), {&x, &low}).status(), {"Gather 'n'", "index -4"});
  Tensor ok = I64({0});
  ExpectError(RunOp(MakeNode("Gather", 2, 1, Axis(2)), {&x, &ok}).status(), {"Gather 'n'", "axis"});
  Tensor fidx = Tensor::FromVector<float>({0}, {1});
  ExpectError(RunOp(MakeNode("Gather", 2), {&x, &fidx}).status(), {"Gather 'n'", "float32"});
  auto r = Infer(MakeNode("Gather", 2, 1, Axis(1)), {{DataType::kFloat32, {-1, 5, 7}}, {DataType::kInt64, {3}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 3, 7}));
}

TEST(ConcatTest, AxesAndDtypes) {
  Tensor a = Tensor::FromVector<float>({1, 2}, {2});
  Tensor b = Tensor::FromVector<float>({3}, {1});
  Tensor e(DataType::kFloat32, {0});
  EXPECT_EQ(Values<float>(Run1(MakeNode("Concat", 3, 1, Axis(0)), {&a, &e, &b})), (std::vector<float>{1, 2, 3}));
  Tensor m = Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2});
  Tensor n = Tensor::FromVector<int32_t>({5, 6}, {2, 1});
  Tensor y = Run1(MakeNode("Concat", 2, 1, Axis(1)), {&m, &n});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{1, 2, 5, 3, 4, 6}));
  Tensor r = Tensor::FromVector<int32_t>({7, 8}, {1, 2});
  y = Run1(MakeNode("Concat", 2, 1, Axis(-2)), {&m, &r});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{1, 2, 3, 4, 7, 8}));
  Tensor t = Tensor::FromVector<bool>({true}, {1, 1}), f = Tensor::FromVector<bool>({false, false}, {1, 2});
  EXPECT_EQ(Values<bool>(Run1(MakeNode("Concat", 2, 1, Axis(1)), {&t, &f})), (std::vector<bool>{true, false, false}));
  Tensor s1 = I64({1, 3}), s2 = I64({-1});
  EXPECT_EQ(Values<int64_t>(Run1(MakeNode("Concat", 2, 1, Axis(0)), {&s1, &s2})), (std::vector<int64_t>{1, 3, -1}));
  // 3-D along the middle axis: [2,1,2] + [2,2,2].
  Tensor p = Tensor::FromVector<int8_t>({1, 2, 3, 4}, {2, 1, 2});
  Tensor q = Tensor::FromVector<int8_t>({5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 2});
  y = Run1(MakeNode("Concat", 2, 1, Axis(1)), {&p, &q});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(Values<int8_t>(y), (std::vector<int8_t>{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}));
}

TEST(ConcatTest, ErrorsAndInference) {
  Tensor m = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor v = Tensor::FromVector<float>({1, 2}, {2});
  ExpectError(RunOp(MakeNode("Concat", 2, 1, Axis(0)), {&m, &v}).status(), {"Concat 'n'", "rank"});
  Tensor w = Tensor::FromVector<float>({1, 2, 3}, {1, 3});
  ExpectError(RunOp(MakeNode("Concat", 2, 1, Axis(0)), {&m, &w}).status(), {"Concat 'n'", "[1,3]"});
  ExpectError(RunOp(MakeNode("Concat", 2), {&m, &m}).status(), {"Concat 'n'", "'axis'"});
  ExpectError(RunOp(MakeNode("Concat", 2, 1, Axis(2)), {&m, &m}).status(), {"Concat 'n'", "axis 2"});
  Tensor i = Tensor::FromVector<int32_t>({1, 2}, {1, 2});
  ExpectError(RunOp(MakeNode("Concat", 2, 1, Axis(0)), {&m, &i}).status(), {"Concat 'n'", "int32"});
  auto r = Infer(MakeNode("Concat", 2, 1, Axis(1)), {{DataType::kFloat32, {-1, 3}}, {DataType::kFloat32, {-1, 4}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 7}));
  r = Infer(MakeNode("Concat", 2, 1, Axis(0)), {{DataType::kFloat32, {-1, 3}}, {DataType::kFloat32, {2, -1}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 3}));
}

std::vector<Tensor> SplitRun(const Node& node, const std::vector<const Tensor*>& in) {
  auto r = RunOp(node, in);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<Tensor>{};
}

TEST(SplitTest, EqualSplitSplitInputAndNumOutputs) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {6});
  auto o = SplitRun(MakeNode("Split", 1, 3), {&x});
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(Values<float>(o[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ(Values<float>(o[2]), (std::vector<float>{5, 6}));
  Tensor sp = I64({1, 2, 3});
  o = SplitRun(MakeNode("Split", 2, 3), {&x, &sp});
  EXPECT_EQ(Values<float>(o[0]), (std::vector<float>{1}));
  EXPECT_EQ(Values<float>(o[1]), (std::vector<float>{2, 3}));
  EXPECT_EQ(Values<float>(o[2]), (std::vector<float>{4, 5, 6}));
  Tensor m = Tensor::FromVector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor sp2 = I64({1, 2});
  o = SplitRun(MakeNode("Split", 2, 2, Axis(-1)), {&m, &sp2});
  EXPECT_EQ(o[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(Values<int64_t>(o[0]), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(o[1].shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<int64_t>(o[1]), (std::vector<int64_t>{2, 3, 5, 6}));
  // num_outputs (opset 18): ceil(7/3) = 3 per part, the last one gets the rest.
  Tensor seven = Tensor::FromVector<int8_t>({1, 2, 3, 4, 5, 6, 7}, {7});
  o = SplitRun(MakeNode("Split", 1, 3, Attrs({{"num_outputs", int64_t{3}}})), {&seven});
  EXPECT_EQ(Values<int8_t>(o[0]), (std::vector<int8_t>{1, 2, 3}));
  EXPECT_EQ(Values<int8_t>(o[1]), (std::vector<int8_t>{4, 5, 6}));
  EXPECT_EQ(Values<int8_t>(o[2]), (std::vector<int8_t>{7}));
  Tensor b = Tensor::FromVector<bool>({true, false}, {1, 2});
  o = SplitRun(MakeNode("Split", 1, 2, Axis(1)), {&b});
  EXPECT_EQ(Values<bool>(o[1]), (std::vector<bool>{false}));
}

TEST(SplitTest, ErrorsAndInference) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5}, {5});
  ExpectError(RunOp(MakeNode("Split", 1, 2), {&x}).status(), {"Split 'n'", "equal"});
  Tensor sp = I64({1, 2});
  ExpectError(RunOp(MakeNode("Split", 2, 2), {&x, &sp}).status(), {"Split 'n'", "sums to 3"});
  Tensor sp3 = I64({1, 2, 2});
  ExpectError(RunOp(MakeNode("Split", 2, 2), {&x, &sp3}).status(), {"Split 'n'", "3 entries"});
  ExpectError(RunOp(MakeNode("Split", 1, 2, Axis(1)), {&x}).status(), {"Split 'n'", "axis"});
  auto r = Infer(MakeNode("Split", 1, 2, Axis(1)), {{DataType::kFloat32, {-1, 8}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 4}));
  EXPECT_EQ((*r)[1].shape, (Shape{-1, 4}));
  r = Infer(MakeNode("Split", 1, 2), {{DataType::kFloat32, {-1, 8}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[1].shape, (Shape{-1, 8}));
  Tensor sp26 = I64({2, 6});
  r = Infer(MakeNode("Split", 2, 2, Axis(1)), {{DataType::kFloat32, {-1, 8}}, {DataType::kInt64, {2}}},
            {nullptr, &sp26});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[1].shape, (Shape{-1, 6}));
}

}  // namespace
}  // namespace qcal
