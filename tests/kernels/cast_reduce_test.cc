// Cast and ReduceMean.
#include <cmath>
#include <limits>

#include "support/op_test_util.h"

namespace qcal {
namespace {

using testing::Attrs;
using testing::ExpectError;
using testing::ExpectFloatsNear;
using testing::I64;
using testing::Infer;
using testing::MakeNode;
using testing::Run1;
using testing::RunOp;
using testing::Values;

Tensor CastTo(const Tensor& x, DataType to) {
  return Run1(MakeNode("Cast", 1, 1, Attrs({{"to", static_cast<int64_t>(to)}})), {&x});
}

TEST(CastTest, FloatToIntegerTruncatesAndSaturates) {
  Tensor f = Tensor::FromVector<float>({1.9f, -1.9f, 0.5f, -0.5f, 3e9f, -3e9f, NAN}, {7});
  EXPECT_EQ(Values<int32_t>(CastTo(f, DataType::kInt32)),
            (std::vector<int32_t>{1, -1, 0, 0, std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(), 0}));
  Tensor f8 = Tensor::FromVector<float>({127.9f, 128, -129, -128.7f, 5.5f}, {5});
  EXPECT_EQ(Values<int8_t>(CastTo(f8, DataType::kInt8)), (std::vector<int8_t>{127, 127, -128, -128, 5}));
  Tensor fu = Tensor::FromVector<float>({-1, 255.5f, 256, 3.99f}, {4});
  EXPECT_EQ(Values<uint8_t>(CastTo(fu, DataType::kUint8)), (std::vector<uint8_t>{0, 255, 255, 3}));
  Tensor f64 = Tensor::FromVector<float>({1e19f, -1e19f, -2.5f, 16777216.0f}, {4});
  EXPECT_EQ(Values<int64_t>(CastTo(f64, DataType::kInt64)),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(), -2,
                                  16777216}));
}

TEST(CastTest, BoolAndIntegerConversions) {
  Tensor f = Tensor::FromVector<float>({0, -0.0f, 0.1f, NAN}, {2, 2});
  Tensor b = CastTo(f, DataType::kBool);
  EXPECT_EQ(b.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<bool>(b), (std::vector<bool>{false, false, true, true}));
  Tensor bb = Tensor::FromVector<bool>({true, false}, {2});
  EXPECT_EQ(Values<float>(CastTo(bb, DataType::kFloat32)), (std::vector<float>{1, 0}));
  EXPECT_EQ(Values<int64_t>(CastTo(bb, DataType::kInt64)), (std::vector<int64_t>{1, 0}));
  Tensor i32 = Tensor::FromVector<int32_t>({300, -129, 5}, {3});
  EXPECT_EQ(Values<int8_t>(CastTo(i32, DataType::kInt8)), (std::vector<int8_t>{44, 127, 5}));  // wraps
  Tensor u8 = Tensor::FromVector<uint8_t>({200, 0}, {2});
  EXPECT_EQ(Values<int8_t>(CastTo(u8, DataType::kInt8)), (std::vector<int8_t>{-56, 0}));
  Tensor i8 = Tensor::FromVector<int8_t>({-1, 7}, {2});
  EXPECT_EQ(Values<uint8_t>(CastTo(i8, DataType::kUint8)), (std::vector<uint8_t>{255, 7}));
  EXPECT_EQ(Values<float>(CastTo(i8, DataType::kFloat32)), (std::vector<float>{-1, 7}));
  Tensor i64 = Tensor::FromVector<int64_t>({int64_t{1} << 33, -3}, {2});
  EXPECT_EQ(Values<int32_t>(CastTo(i64, DataType::kInt32)), (std::vector<int32_t>{0, -3}));
  EXPECT_EQ(Values<float>(CastTo(i64, DataType::kFloat32)), (std::vector<float>{8589934592.0f, -3}));
  EXPECT_EQ(Values<int32_t>(CastTo(i32, DataType::kInt32)), (std::vector<int32_t>{300, -129, 5}));
}

TEST(CastTest, ErrorsAndInference) {
  Tensor f = Tensor::FromVector<float>({1}, {1});
  ExpectError(RunOp(MakeNode("Cast", 1), {&f}).status(), {"Cast 'n'", "'to'"});
  ExpectError(RunOp(MakeNode("Cast", 1, 1, Attrs({{"to", int64_t{10}}})), {&f}).status(), {"Cast 'n'", "float16"});
  ExpectError(RunOp(MakeNode("Cast", 1, 1, Attrs({{"to", int64_t{99}}})), {&f}).status(), {"Cast 'n'", "99"});
  auto r = Infer(MakeNode("Cast", 1, 1, Attrs({{"to", int64_t{7}}})), {{DataType::kFloat32, {-1, 2}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].dtype, DataType::kInt64);
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 2}));
}

TEST(ReduceMeanTest, AxesAttributeKeepdimsAndDefaults) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  auto rm = [&](Attributes a) { return Run1(MakeNode("ReduceMean", 1, 1, std::move(a)), {&x}, 13); };
  Tensor y = rm(Attrs({{"axes", std::vector<int64_t>{1}}}));
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  ExpectFloatsNear(y, {2, 5});
  y = rm(Attrs({{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{0}}}));
  EXPECT_EQ(y.shape(), (Shape{3}));
  ExpectFloatsNear(y, {2.5f, 3.5f, 4.5f});
  y = rm({});
  EXPECT_EQ(y.shape(), (Shape{1, 1}));
  ExpectFloatsNear(y, {3.5f});
  y = rm(Attrs({{"axes", std::vector<int64_t>{-1, -2}}, {"keepdims", int64_t{0}}}));
  EXPECT_EQ(y.shape(), (Shape{}));
  ExpectFloatsNear(y, {3.5f});
  // [2,2,2] = 0..7 over axes 0 and 2: {0,1,4,5} and {2,3,6,7}.
  Tensor c = Tensor::FromVector<float>({0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
  y = Run1(MakeNode("ReduceMean", 1, 1, Attrs({{"axes", std::vector<int64_t>{0, 2}}})), {&c});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1}));
  ExpectFloatsNear(y, {2.5f, 4.5f});
}

TEST(ReduceMeanTest, AxesInputOpset18) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor axes = I64({-1});
  Tensor y = Run1(MakeNode("ReduceMean", 2), {&x, &axes}, 18);
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  ExpectFloatsNear(y, {2, 5});
  Tensor none = I64({});
  y = Run1(MakeNode("ReduceMean", 2, 1, Attrs({{"noop_with_empty_axes", int64_t{1}}})), {&x, &none}, 18);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  ExpectFloatsNear(y, {1, 2, 3, 4, 5, 6});
  y = Run1(MakeNode("ReduceMean", 2), {&x, nullptr}, 18);
  ExpectFloatsNear(y, {3.5f});
}

TEST(ReduceMeanTest, ErrorsAndInference) {
  Tensor x = Tensor::FromVector<float>({1, 2}, {2});
  ExpectError(RunOp(MakeNode("ReduceMean", 1, 1, Attrs({{"axes", std::vector<int64_t>{1}}})), {&x}).status(),
              {"ReduceMean 'n'", "out of range"});
  ExpectError(RunOp(MakeNode("ReduceMean", 1, 1, Attrs({{"axes", std::vector<int64_t>{0, -1}}})), {&x}).status(),
              {"ReduceMean 'n'", "repeated"});
  auto r = Infer(MakeNode("ReduceMean", 1, 1, Attrs({{"axes", std::vector<int64_t>{2, 3}}, {"keepdims", int64_t{0}}})),
                 {{DataType::kFloat32, {-1, 8, 7, 7}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 8}));
  r = Infer(MakeNode("ReduceMean", 2), {{DataType::kFloat32, {-1, 8, 7}}, {DataType::kInt64, {2}}}, {}, 18);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, -1, -1}));
  r = Infer(MakeNode("ReduceMean", 2, 1, Attrs({{"keepdims", int64_t{0}}})),
            {{DataType::kFloat32, {-1, 8, 7}}, {DataType::kInt64, {2}}}, {}, 18);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1}));
}

}  // namespace
}  // namespace qcal
