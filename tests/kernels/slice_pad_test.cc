// Slice and Pad.
#include <limits>

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

// [[0,1,2,3],[4,5,6,7],[8,9,10,11]]
Tensor Grid() {
  return Tensor::FromVector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
}

Tensor Slice(const Tensor& x, std::vector<int64_t> starts, std::vector<int64_t> ends,
             std::vector<int64_t> axes = {}, std::vector<int64_t> steps = {}) {
  Tensor s = I64(starts), e = I64(ends), a = I64(axes), st = I64(steps);
  std::vector<const Tensor*> in{&x, &s, &e};
  if (!axes.empty() || !steps.empty()) in.push_back(axes.empty() ? nullptr : &a);
  if (!steps.empty()) in.push_back(&st);
  return Run1(MakeNode("Slice", in.size()), in);
}

TEST(SliceTest, BasicAndClamped) {
  Tensor x = Grid();
  Tensor y = Slice(x, {1, 0}, {3, 3});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{4, 5, 6, 8, 9, 10}));
  y = Slice(x, {1}, {1000}, {-1});
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{1, 2, 3, 5, 6, 7, 9, 10, 11}));
  y = Slice(x, {-2}, {std::numeric_limits<int64_t>::max()}, {0});
  EXPECT_EQ(Values<float>(y), (std::vector<float>{4, 5, 6, 7, 8, 9, 10, 11}));
  y = Slice(x, {0, 1}, {3, 4}, {0, 1}, {2, 2});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{1, 3, 9, 11}));
  // Steps without axes.
  y = Slice(x, {0}, {3}, {}, {2});
  EXPECT_EQ(Values<float>(y), (std::vector<float>{0, 1, 2, 3, 8, 9, 10, 11}));
}

TEST(SliceTest, NegativeSteps) {
  Tensor x = Grid();
  Tensor y = Slice(x, {-1}, {-1000}, {1}, {-1});
  EXPECT_EQ(y.shape(), (Shape{3, 4}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}));
  y = Slice(x, {std::numeric_limits<int64_t>::max()}, {std::numeric_limits<int64_t>::min()}, {0}, {-2});
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3}));
  y = Slice(x, {2, 3}, {0, 0}, {0, 1}, {-1, -2});  // rows 2,1; cols 3,1
  EXPECT_EQ(Values<float>(y), (std::vector<float>{11, 9, 7, 5}));
}

TEST(SliceTest, EmptyResults) {
  Tensor x = Grid();
  EXPECT_EQ(Slice(x, {2}, {1}, {0}).shape(), (Shape{0, 4}));
  EXPECT_EQ(Slice(x, {1}, {1}, {1}, {-1}).shape(), (Shape{3, 0}));
  EXPECT_EQ(Slice(x, {10}, {20}, {1}).shape(), (Shape{3, 0}));
}

TEST(SliceTest, OtherDtypesAndInt32Indices) {
  Tensor b = Tensor::FromVector<bool>({true, false, true, true}, {4});
  Tensor s = Tensor::FromVector<int32_t>({1}, {1}), e = Tensor::FromVector<int32_t>({3}, {1});
  EXPECT_EQ(Values<bool>(Run1(MakeNode("Slice", 3), {&b, &s, &e})), (std::vector<bool>{false, true}));
  Tensor i8 = Tensor::FromVector<int8_t>({-1, -2, -3, -4, -5}, {5});
  EXPECT_EQ(Values<int8_t>(Slice(i8, {4}, {0}, {0}, {-3})), (std::vector<int8_t>{-5, -2}));
  Tensor i64 = Tensor::FromVector<int64_t>({10, 20, 30}, {3});
  EXPECT_EQ(Values<int64_t>(Slice(i64, {-2}, {3})), (std::vector<int64_t>{20, 30}));
}

TEST(SliceTest, Errors) {
  Tensor x = Grid();
  Tensor s = I64({0}), e = I64({1}), a = I64({0}), zero = I64({0});
  ExpectError(RunOp(MakeNode("Slice", 5), {&x, &s, &e, &a, &zero}).status(), {"Slice 'n'", "0"});
  Tensor e2 = I64({1, 2});
  ExpectError(RunOp(MakeNode("Slice", 3), {&x, &s, &e2}).status(), {"Slice 'n'", "lengths"});
  Tensor a2 = I64({2});
  ExpectError(RunOp(MakeNode("Slice", 4), {&x, &s, &e, &a2}).status(), {"Slice 'n'", "out of range"});
  Tensor s2 = I64({0, 0}), a3 = I64({1, -1});
  ExpectError(RunOp(MakeNode("Slice", 4), {&x, &s2, &e2, &a3}).status(), {"Slice 'n'", "repeated"});
}

TEST(SliceTest, Inference) {
  const Node n = MakeNode("Slice", 4);
  const TensorType vec1{DataType::kInt64, {1}};
  Tensor s = I64({1}), e = I64({-1}), a = I64({1});
  auto r = Infer(n, {{DataType::kFloat32, {-1, 10}}, vec1, vec1, vec1}, {nullptr, &s, &e, &a});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 8}));
  Tensor a0 = I64({0});
  r = Infer(n, {{DataType::kFloat32, {-1, 10}}, vec1, vec1, vec1}, {nullptr, &s, &e, &a0});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 10}));
  // starts unknown: only the sliced axis is unknown.
  r = Infer(n, {{DataType::kFloat32, {4, 10}}, vec1, vec1, vec1}, {nullptr, nullptr, &e, &a});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{4, -1}));
  // axes unknown: every dim unknown.
  r = Infer(n, {{DataType::kFloat32, {4, 10}}, vec1, vec1, vec1}, {nullptr, &s, &e, nullptr});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1}));
  ExpectError(Infer(n, {{DataType::kFloat32, {4, 10}}, {DataType::kFloat32, {1}}, vec1, vec1}).status(),
              {"Slice 'n'", "starts"});
}

Tensor Pad(const Tensor& x, std::vector<int64_t> pads, const std::string& mode, const Tensor* value = nullptr,
           const Tensor* axes = nullptr) {
  Tensor p = I64(pads);
  std::vector<const Tensor*> in{&x, &p, value, axes};
  return Run1(MakeNode("Pad", 4, 1, Attrs({{"mode", mode}})), in);
}

TEST(PadTest, ConstantMode) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor nine = Tensor::Scalar<float>(9);
  Tensor y = Pad(x, {1, 0, 0, 1}, "constant", &nine);
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{9, 9, 9, 1, 2, 9, 3, 4, 9}));
  y = Pad(x, {0, 1, 0, 0}, "constant");  // default value 0
  EXPECT_EQ(Values<float>(y), (std::vector<float>{0, 1, 2, 0, 3, 4}));
  Tensor i8 = Tensor::FromVector<int8_t>({5, 6}, {2});
  Tensor m = Tensor::Scalar<int8_t>(-128);
  EXPECT_EQ(Values<int8_t>(Pad(i8, {1, 2}, "constant", &m)), (std::vector<int8_t>{-128, 5, 6, -128, -128}));
  Tensor b = Tensor::FromVector<bool>({true}, {1});
  EXPECT_EQ(Values<bool>(Pad(b, {1, 1}, "constant")), (std::vector<bool>{false, true, false}));
}

TEST(PadTest, EdgeAndReflect) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor y = Pad(x, {0, 2, 0, 1}, "edge");
  EXPECT_EQ(y.shape(), (Shape{2, 5}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{1, 1, 1, 2, 2, 3, 3, 3, 4, 4}));
  Tensor v = Tensor::FromVector<int32_t>({1, 2, 3}, {3});
  EXPECT_EQ(Values<int32_t>(Pad(v, {2, 2}, "reflect")), (std::vector<int32_t>{3, 2, 1, 2, 3, 2, 1}));
  // Wider than the dim: numpy reflects repeatedly.
  EXPECT_EQ(Values<int32_t>(Pad(v, {4, 0}, "reflect")), (std::vector<int32_t>{1, 2, 3, 2, 1, 2, 3}));
  Tensor one = Tensor::FromVector<int32_t>({5}, {1});
  EXPECT_EQ(Values<int32_t>(Pad(one, {2, 1}, "reflect")), (std::vector<int32_t>{5, 5, 5, 5}));
  // Reflect along rows of a 2-D tensor.
  Tensor g = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  EXPECT_EQ(Values<float>(Pad(g, {1, 0, 1, 0}, "reflect")),
            (std::vector<float>{3, 4, 1, 2, 3, 4, 5, 6, 3, 4}));
}

TEST(PadTest, NegativePadsCropAndAxes) {
  Tensor x = Grid();
  Tensor y = Pad(x, {-1, 1, 0, -2}, "constant");
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{0, 4, 5, 0, 8, 9}));
  Tensor axes = I64({-1});
  Tensor seven = Tensor::Scalar<float>(7);
  Tensor z = Pad(x, {1, 0}, "constant", &seven, &axes);
  EXPECT_EQ(z.shape(), (Shape{3, 5}));
  EXPECT_EQ(Values<float>(z), (std::vector<float>{7, 0, 1, 2, 3, 7, 4, 5, 6, 7, 7, 8, 9, 10, 11}));
}

TEST(PadTest, ErrorsAndInference) {
  Tensor x = Grid();
  Tensor p = I64({0, 0, 0, 0});
  ExpectError(RunOp(MakeNode("Pad", 2, 1, Attrs({{"mode", std::string("wrap")}})), {&x, &p}).status(),
              {"Pad 'n'", "wrap"});
  Tensor p3 = I64({1, 1, 1});
  ExpectError(RunOp(MakeNode("Pad", 2), {&x, &p3}).status(), {"Pad 'n'", "'pads'", "expected 4"});
  Tensor crop = I64({-2, 0, -2, 0});
  ExpectError(RunOp(MakeNode("Pad", 2), {&x, &crop}).status(), {"Pad 'n'", "crop"});
  Tensor iv = Tensor::Scalar<int32_t>(1);
  ExpectError(RunOp(MakeNode("Pad", 3), {&x, &p, &iv}).status(), {"Pad 'n'", "constant_value"});
  Tensor pads = I64({0, 1, 2, 0, 1, 2});
  auto r = Infer(MakeNode("Pad", 2), {{DataType::kFloat32, {-1, 3, 4}}, {DataType::kInt64, {6}}}, {nullptr, &pads});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 5, 8}));
  r = Infer(MakeNode("Pad", 2), {{DataType::kFloat32, {-1, 3, 4}}, {DataType::kInt64, {6}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1, -1}));
}

}  // namespace
}  // namespace qcal
