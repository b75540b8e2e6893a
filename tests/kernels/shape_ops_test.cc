// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Shape, Size, Identity,
// Dropout, ConstantOfShape.
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

Tensor Iota(Shape shape) {
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return Tensor::FromVector<float>(v, std::move(shape));
}

Shape ReshapeTo(const Tensor& x, const std::vector<int64_t>& spec, int64_t allowzero = 0) {
  Tensor s = I64(spec);
  Tensor y = Run1(MakeNode("Reshape", 2, 1, Attrs({{"allowzero", allowzero}})), {&x, &s});
  return y.shape();
}

TEST(ReshapeTest, ZeroCopiesAndMinusOneInfers) {
  Tensor x = Iota({2, 3, 4});
  EXPECT_EQ(ReshapeTo(x, {4, 6}), (Shape{4, 6}));
  EXPECT_EQ(ReshapeTo(x, {0, -1}), (Shape{2, 12}));
  EXPECT_EQ(ReshapeTo(x, {-1, 0, 2}), (Shape{4, 3, 2}));  // 0 copies input dim 1 = 3
  EXPECT_EQ(ReshapeTo(x, {2, 3, 2, 2}), (Shape{2, 3, 2, 2}));
  EXPECT_EQ(ReshapeTo(x, {-1}), (Shape{24}));
  Tensor s = I64({4, -1});
  Tensor y = Run1(MakeNode("Reshape", 2), {&x, &s});
  EXPECT_EQ(Values<float>(y), Values<float>(x));  // data order unchanged
  // int32 shape input and an empty tensor.
  Tensor s32 = Tensor::FromVector<int32_t>({3, 8}, {2});
  EXPECT_EQ(Run1(MakeNode("Reshape", 2), {&x, &s32}).shape(), (Shape{3, 8}));
}

TEST(ReshapeTest, AllowZero) {
  Tensor empty(DataType::kFloat32, {0, 3, 4});
  EXPECT_EQ(ReshapeTo(empty, {3, 4, 0}, 1), (Shape{3, 4, 0}));
  // Without allowzero, 0 copies: [0,3,4] -> [0, 4, 3].
  EXPECT_EQ(ReshapeTo(empty, {0, 4, 3}, 0), (Shape{0, 4, 3}));
}

TEST(ReshapeTest, Errors) {
  Tensor x = Iota({2, 3, 4});
  Tensor s = I64({5, 5});
  ExpectError(RunOp(MakeNode("Reshape", 2), {&x, &s}).status(), {"Reshape 'n'", "24 elements", "[5,5]"});
  Tensor s2 = I64({-1, -1});
  ExpectError(RunOp(MakeNode("Reshape", 2), {&x, &s2}).status(), {"Reshape 'n'", "more than one -1"});
  Tensor s3 = I64({7, -1});
  ExpectError(RunOp(MakeNode("Reshape", 2), {&x, &s3}).status(), {"Reshape 'n'", "cannot reshape"});
  Tensor s4 = I64({1, 1, 1, 0});
  ExpectError(RunOp(MakeNode("Reshape", 2), {&x, &s4}).status(), {"Reshape 'n'", "index 3"});
  Tensor s5 = I64({0, -1});
  ExpectError(RunOp(MakeNode("Reshape", 2, 1, Attrs({{"allowzero", int64_t{1}}})), {&x, &s5}).status(),
              {"Reshape 'n'", "allowzero"});
}

TEST(ReshapeTest, Inference) {
  const Node n = MakeNode("Reshape", 2);
  Tensor spec = I64({0, -1});
  // Constant shape, unknown batch: 0 copies -1, and -1 stays unknown.
  auto r = Infer(n, {{DataType::kFloat32, {-1, 3, 4}}, {DataType::kInt64, {2}}}, {nullptr, &spec});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1}));
  Tensor spec2 = I64({-1, 12});
  r = Infer(n, {{DataType::kFloat32, {-1, 3, 4}}, {DataType::kInt64, {2}}}, {nullptr, &spec2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 12}));
  r = Infer(n, {{DataType::kFloat32, {2, 3, 4}}, {DataType::kInt64, {2}}}, {nullptr, &spec});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{2, 12}));
  // Shape not constant: rank from its length.
  r = Infer(n, {{DataType::kFloat32, {2, 3, 4}}, {DataType::kInt64, {3}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1, -1}));
  ExpectError(Infer(n, {{DataType::kFloat32, {2}}, {DataType::kInt64, {-1}}}).status(), {"Reshape 'n'", "rank"});
  ExpectError(Infer(n, {{DataType::kFloat32, {2}}, {DataType::kFloat32, {1}}}).status(), {"Reshape 'n'", "int64"});
  Tensor bad = I64({5});
  ExpectError(Infer(n, {{DataType::kFloat32, {2, 3}}, {DataType::kInt64, {1}}}, {nullptr, &bad}).status(),
              {"Reshape 'n'", "6 elements"});
}

TEST(FlattenTest, AxesIncludingNegativeAndZero) {
  Tensor x = Iota({2, 3, 4, 5});
  auto flat = [&](int64_t axis) {
    return Run1(MakeNode("Flatten", 1, 1, Attrs({{"axis", axis}})), {&x}).shape();
  };
  EXPECT_EQ(Run1(MakeNode("Flatten", 1), {&x}).shape(), (Shape{2, 60}));
  EXPECT_EQ(flat(0), (Shape{1, 120}));
  EXPECT_EQ(flat(2), (Shape{6, 20}));
  EXPECT_EQ(flat(4), (Shape{120, 1}));
  EXPECT_EQ(flat(-1), (Shape{24, 5}));
  EXPECT_EQ(flat(-4), (Shape{1, 120}));
  ExpectError(RunOp(MakeNode("Flatten", 1, 1, Attrs({{"axis", int64_t{5}}})), {&x}).status(), {"Flatten 'n'", "axis"});
  auto r = Infer(MakeNode("Flatten", 1), {{DataType::kFloat32, {-1, 3, 4}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 12}));
  r = Infer(MakeNode("Flatten", 1, 1, Attrs({{"axis", int64_t{2}}})), {{DataType::kFloat32, {-1, 3, 4}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 4}));
}

TEST(SqueezeTest, WithAndWithoutAxes) {
  Tensor x = Iota({1, 3, 1, 2});
  EXPECT_EQ(Run1(MakeNode("Squeeze", 1), {&x}).shape(), (Shape{3, 2}));
  Tensor axes = I64({-2});
  Tensor y = Run1(MakeNode("Squeeze", 2), {&x, &axes});
  EXPECT_EQ(y.shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(Values<float>(y), Values<float>(x));
  Tensor both = I64({2, 0});
  EXPECT_EQ(Run1(MakeNode("Squeeze", 2), {&x, &both}).shape(), (Shape{3, 2}));
  Tensor bad = I64({1});
  ExpectError(RunOp(MakeNode("Squeeze", 2), {&x, &bad}).status(), {"Squeeze 'n'", "axis 1", "not 1"});
  Tensor out_of_range = I64({4});
  ExpectError(RunOp(MakeNode("Squeeze", 2), {&x, &out_of_range}).status(), {"Squeeze 'n'", "out of range"});
  Tensor one = Tensor::FromVector<float>({5}, {1, 1});
  EXPECT_EQ(Run1(MakeNode("Squeeze", 1), {&one}).shape(), (Shape{}));
}

TEST(SqueezeTest, Inference) {
  Tensor axes = I64({0});
  auto r = Infer(MakeNode("Squeeze", 2), {{DataType::kFloat32, {-1, 5, 1}}, {DataType::kInt64, {1}}}, {nullptr, &axes});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{5, 1}));  // the unknown dim is squeezed, so it must be 1
  r = Infer(MakeNode("Squeeze", 2), {{DataType::kFloat32, {-1, 5, 1}}, {DataType::kInt64, {2}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1}));
  r = Infer(MakeNode("Squeeze", 1), {{DataType::kFloat32, {-1, 5, 1}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 5}));
}

TEST(UnsqueezeTest, AxesInAnyOrder) {
  Tensor x = Iota({3, 4});
  auto unsq = [&](std::vector<int64_t> a) {
    Tensor axes = I64(a);
    return Run1(MakeNode("Unsqueeze", 2), {&x, &axes}).shape();
  };
  EXPECT_EQ(unsq({0}), (Shape{1, 3, 4}));
  EXPECT_EQ(unsq({2}), (Shape{3, 4, 1}));
  EXPECT_EQ(unsq({-1}), (Shape{3, 4, 1}));
  EXPECT_EQ(unsq({3, 0}), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(unsq({1, 4, -3}), (Shape{3, 1, 1, 4, 1}));
  Tensor dup = I64({1, 1});
  ExpectError(RunOp(MakeNode("Unsqueeze", 2), {&x, &dup}).status(), {"Unsqueeze 'n'", "repeated"});
  Tensor far = I64({3});
  ExpectError(RunOp(MakeNode("Unsqueeze", 2), {&x, &far}).status(), {"Unsqueeze 'n'", "out of range"});
  Tensor axes = I64({0, -1});
  auto r = Infer(MakeNode("Unsqueeze", 2), {{DataType::kInt8, {-1, 4}}, {DataType::kInt64, {2}}}, {nullptr, &axes});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{1, -1, 4, 1}));
  EXPECT_EQ((*r)[0].dtype, DataType::kInt8);
  r = Infer(MakeNode("Unsqueeze", 2), {{DataType::kInt8, {-1, 4}}, {DataType::kInt64, {1}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1, -1}));
}

TEST(TransposeTest, DefaultAndExplicitPerm) {
  Tensor x = Iota({2, 3});
  Tensor y = Run1(MakeNode("Transpose", 1), {&x});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  // [2,3,4] with perm (1,2,0): y[j,k,i] = x[i,j,k] = 12i + 4j + k.
  Tensor x3 = Iota({2, 3, 4});
  Tensor y3 = Run1(MakeNode("Transpose", 1, 1, Attrs({{"perm", std::vector<int64_t>{1, 2, 0}}})), {&x3});
  ASSERT_EQ(y3.shape(), (Shape{3, 4, 2}));
  for (int64_t j = 0; j < 3; ++j)
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t i = 0; i < 2; ++i)
        EXPECT_EQ(y3.data<float>()[(j * 4 + k) * 2 + i], static_cast<float>(12 * i + 4 * j + k));
}

TEST(TransposeTest, EveryElementSize) {
  Tensor b = Tensor::FromVector<bool>({true, false, false, true, true, false}, {2, 3});
  EXPECT_EQ(Values<bool>(Run1(MakeNode("Transpose", 1), {&b})), (std::vector<bool>{true, true, false, true, false, false}));
  Tensor i8 = Tensor::FromVector<int8_t>({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Transpose", 1), {&i8})), (std::vector<int8_t>{1, 3, 2, 4}));
  Tensor i64 = Tensor::FromVector<int64_t>({1, 2, 3, 4}, {2, 2, 1});
  Tensor y = Run1(MakeNode("Transpose", 1, 1, Attrs({{"perm", std::vector<int64_t>{2, 1, 0}}})), {&i64});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{1, 3, 2, 4}));
  Tensor s = Tensor::Scalar<float>(3);
  EXPECT_EQ(Values<float>(Run1(MakeNode("Transpose", 1), {&s})), (std::vector<float>{3}));
}

TEST(TransposeTest, ErrorsAndInference) {
  Tensor x = Iota({2, 3});
  ExpectError(RunOp(MakeNode("Transpose", 1, 1, Attrs({{"perm", std::vector<int64_t>{0, 0}}})), {&x}).status(),
              {"Transpose 'n'", "permutation"});
  ExpectError(RunOp(MakeNode("Transpose", 1, 1, Attrs({{"perm", std::vector<int64_t>{0}}})), {&x}).status(),
              {"Transpose 'n'", "rank 2"});
  auto r = Infer(MakeNode("Transpose", 1, 1, Attrs({{"perm", std::vector<int64_t>{0, 2, 3, 1}}})),
                 {{DataType::kFloat32, {-1, 3, 5, 7}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 5, 7, 3}));
}

TEST(ShapeTest, StartEnd) {
  Tensor x(DataType::kInt8, {2, 3, 4, 5});
  EXPECT_EQ(Values<int64_t>(Run1(MakeNode("Shape", 1), {&x})), (std::vector<int64_t>{2, 3, 4, 5}));
  auto shape = [&](Attributes a) { return Values<int64_t>(Run1(MakeNode("Shape", 1, 1, std::move(a)), {&x})); };
  EXPECT_EQ(shape(Attrs({{"start", int64_t{1}}})), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(shape(Attrs({{"end", int64_t{-1}}})), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(shape(Attrs({{"start", int64_t{-3}}, {"end", int64_t{3}}})), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(shape(Attrs({{"start", int64_t{-10}}, {"end", int64_t{10}}})), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(shape(Attrs({{"start", int64_t{3}}, {"end", int64_t{1}}})), (std::vector<int64_t>{}));
  auto r = Infer(MakeNode("Shape", 1, 1, Attrs({{"start", int64_t{1}}})), {{DataType::kFloat32, {-1, 3, 4}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dtype, DataType::kInt64);
  EXPECT_EQ((*r)[0].shape, (Shape{2}));
}

TEST(SizeIdentityDropoutTest, Basics) {
  Tensor x = Iota({2, 3});
  Tensor n = Run1(MakeNode("Size", 1), {&x});
  EXPECT_EQ(n.shape(), (Shape{}));
  EXPECT_EQ(Values<int64_t>(n), (std::vector<int64_t>{6}));
  Tensor b = Tensor::FromVector<bool>({true, false}, {2});
  EXPECT_EQ(Values<bool>(Run1(MakeNode("Identity", 1), {&b})), (std::vector<bool>{true, false}));
  auto r = RunOp(MakeNode("Dropout", 1, 2), {&x});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<float>((*r)[0]), Values<float>(x));
  EXPECT_EQ((*r)[1].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<bool>((*r)[1]), std::vector<bool>(6, true));
  Tensor ratio = Tensor::Scalar<float>(0.5f);
  Tensor training = Tensor::Scalar<bool>(true);
  ExpectError(RunOp(MakeNode("Dropout", 3), {&x, &ratio, &training}).status(), {"Dropout 'n'", "training_mode"});
  auto t = Infer(MakeNode("Dropout", 1, 2), {{DataType::kFloat32, {-1, 3}}});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[1].dtype, DataType::kBool);
  EXPECT_EQ((*t)[1].shape, (Shape{-1, 3}));
}

TEST(ConstantOfShapeTest, DefaultAndTypedValue) {
  Tensor s = I64({2, 3});
  Tensor y = Run1(MakeNode("ConstantOfShape", 1), {&s});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(y), std::vector<float>(6, 0.0f));
  Tensor v = Tensor::FromVector<int64_t>({7}, {1});
  Tensor y2 = Run1(MakeNode("ConstantOfShape", 1, 1, Attrs({{"value", v}})), {&s});
  EXPECT_EQ(Values<int64_t>(y2), std::vector<int64_t>(6, 7));
  Tensor vb = Tensor::FromVector<bool>({true}, {1});
  EXPECT_EQ(Values<bool>(Run1(MakeNode("ConstantOfShape", 1, 1, Attrs({{"value", vb}})), {&s})),
            std::vector<bool>(6, true));
  Tensor empty = I64({});
  Tensor sc = Run1(MakeNode("ConstantOfShape", 1, 1, Attrs({{"value", Tensor::Scalar<float>(2.5f)}})), {&empty});
  EXPECT_EQ(sc.shape(), (Shape{}));
  EXPECT_EQ(Values<float>(sc), (std::vector<float>{2.5f}));
  Tensor neg = I64({2, -3});
  ExpectError(RunOp(MakeNode("ConstantOfShape", 1), {&neg}).status(), {"ConstantOfShape 'n'", "negative"});
  auto r = Infer(MakeNode("ConstantOfShape", 1, 1, Attrs({{"value", v}})), {{DataType::kInt64, {3}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dtype, DataType::kInt64);
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1, -1}));
}

}  // namespace
}  // namespace qcal
