// LeakyRelu, PRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh.
#include <cmath>
#include <limits>

#include "support/op_test_util.h"

namespace qcal {
namespace {

using testing::Attrs;
using testing::ExpectError;
using testing::ExpectFloatsNear;
using testing::Infer;
using testing::MakeNode;
using testing::Run1;
using testing::RunOp;
using testing::Values;

TEST(ActivationTest, LeakyRelu) {
  Tensor x = Tensor::FromVector<float>({-2, -0.5f, 0, 3}, {2, 2});
  ExpectFloatsNear(Run1(MakeNode("LeakyRelu", 1, 1, Attrs({{"alpha", 0.1f}})), {&x}), {-0.2f, -0.05f, 0, 3});
  ExpectFloatsNear(Run1(MakeNode("LeakyRelu", 1), {&x}), {-0.02f, -0.005f, 0, 3});  // default alpha 0.01
}

TEST(ActivationTest, PReluPerChannelAndScalarSlope) {
  // x [1,2,3] with slope [2,1]: channel 0 slope 0.5, channel 1 slope 2.
  Tensor x = Tensor::FromVector<float>({-2, 1, -4, -1, 3, -3}, {1, 2, 3});
  Tensor slope = Tensor::FromVector<float>({0.5f, 2}, {2, 1});
  Tensor y = Run1(MakeNode("PRelu", 2), {&x, &slope});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 3}));
  ExpectFloatsNear(y, {-1, 1, -2, -2, 3, -6});
  Tensor s1 = Tensor::FromVector<float>({0.25f}, {1});
  ExpectFloatsNear(Run1(MakeNode("PRelu", 2), {&x, &s1}), {-0.5f, 1, -1, -0.25f, 3, -0.75f});
}

TEST(ActivationTest, PReluSlopeMustBroadcastToInput) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor bad = Tensor::FromVector<float>({1, 2, 3}, {3});
  ExpectError(RunOp(MakeNode("PRelu", 2), {&x, &bad}).status(), {"PRelu 'n'", "broadcast"});
  // Multidirectional broadcasting would give [2,2,2]: not allowed, the output must keep X's shape.
  Tensor big = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  ExpectError(RunOp(MakeNode("PRelu", 2), {&x, &big}).status(), {"PRelu 'n'", "[2,2,2]"});
  auto r =
      Infer(MakeNode("PRelu", 2), {{DataType::kFloat32, {-1, 4, 5, 5}}, {DataType::kFloat32, {4, 1, 1}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 4, 5, 5}));
}

TEST(ActivationTest, ClipFloatWithOptionalBounds) {
  Tensor x = Tensor::FromVector<float>({-5, -1, 0, 2, 9}, {5});
  Tensor lo = Tensor::Scalar<float>(-1.5f), hi = Tensor::Scalar<float>(3);
  EXPECT_EQ(Values<float>(Run1(MakeNode("Clip", 3), {&x, &lo, &hi})),
            (std::vector<float>{-1.5f, -1, 0, 2, 3}));
  EXPECT_EQ(Values<float>(Run1(MakeNode("Clip", 3), {&x, nullptr, &hi})),
            (std::vector<float>{-5, -1, 0, 2, 3}));
  EXPECT_EQ(Values<float>(Run1(MakeNode("Clip", 2), {&x, &lo})), (std::vector<float>{-1.5f, -1, 0, 2, 9}));
  EXPECT_EQ(Values<float>(Run1(MakeNode("Clip", 1), {&x})), (std::vector<float>{-5, -1, 0, 2, 9}));
  // min > max: everything becomes max.
  Tensor lo2 = Tensor::Scalar<float>(4), hi2 = Tensor::Scalar<float>(1);
  EXPECT_EQ(Values<float>(Run1(MakeNode("Clip", 3), {&x, &lo2, &hi2})), (std::vector<float>{1, 1, 1, 1, 1}));
}

TEST(ActivationTest, ClipIntegerDtypes) {
  Tensor x8 = Tensor::FromVector<int8_t>({-128, -7, 0, 7, 127}, {5});
  Tensor lo8 = Tensor::Scalar<int8_t>(-5);
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Clip", 2), {&x8, &lo8})), (std::vector<int8_t>{-5, -5, 0, 7, 127}));
  Tensor hi8 = Tensor::FromVector<int8_t>({6}, {1});  // a 1-element 1-D bound is accepted too
  EXPECT_EQ(Values<int8_t>(Run1(MakeNode("Clip", 3), {&x8, nullptr, &hi8})),
            (std::vector<int8_t>{-128, -7, 0, 6, 6}));
  Tensor xu = Tensor::FromVector<uint8_t>({0, 10, 255}, {3});
  Tensor lou = Tensor::Scalar<uint8_t>(5), hiu = Tensor::Scalar<uint8_t>(200);
  EXPECT_EQ(Values<uint8_t>(Run1(MakeNode("Clip", 3), {&xu, &lou, &hiu})),
            (std::vector<uint8_t>{5, 10, 200}));
  Tensor x32 = Tensor::FromVector<int32_t>({-100000, 3, 100000}, {3});
  Tensor lo32 = Tensor::Scalar<int32_t>(-1000), hi32 = Tensor::Scalar<int32_t>(1000);
  EXPECT_EQ(Values<int32_t>(Run1(MakeNode("Clip", 3), {&x32, &lo32, &hi32})),
            (std::vector<int32_t>{-1000, 3, 1000}));
  Tensor x64 = Tensor::FromVector<int64_t>({-3, 3}, {2});
  Tensor hi64 = Tensor::Scalar<int64_t>(0);
  EXPECT_EQ(Values<int64_t>(Run1(MakeNode("Clip", 3), {&x64, nullptr, &hi64})),
            (std::vector<int64_t>{-3, 0}));
}

TEST(ActivationTest, ClipErrors) {
  Tensor x = Tensor::FromVector<float>({1, 2}, {2});
  Tensor two = Tensor::FromVector<float>({0, 1}, {2});
  ExpectError(RunOp(MakeNode("Clip", 2), {&x, &two}).status(), {"Clip 'n'", "'min'", "scalar"});
  Tensor imin = Tensor::Scalar<int32_t>(0);
  ExpectError(RunOp(MakeNode("Clip", 2), {&x, &imin}).status(), {"Clip 'n'", "int32"});
}

TEST(ActivationTest, SigmoidAndTanh) {
  Tensor x = Tensor::FromVector<float>({0, 1, -1, 100, -100, 0.5f}, {6});
  Tensor s = Run1(MakeNode("Sigmoid", 1), {&x});
  ExpectFloatsNear(s, {0.5f, 0.7310585786f, 0.2689414214f, 1.0f, 0.0f, 0.6224593312f});
  EXPECT_GT(s.data<float>()[4], 0.0f);  // exp(-100) is representable: no underflow to 0 via inf
  Tensor t = Run1(MakeNode("Tanh", 1), {&x});
  ExpectFloatsNear(t, {0, 0.7615941560f, -0.7615941560f, 1, -1, 0.4621171573f});
}

TEST(ActivationTest, HardSigmoidAndHardSwish) {
  Tensor x = Tensor::FromVector<float>({-2, 0, 0.5f, 2}, {4});
  ExpectFloatsNear(Run1(MakeNode("HardSigmoid", 1, 1, Attrs({{"alpha", 0.5f}, {"beta", 0.6f}})), {&x}),
                   {0, 0.6f, 0.85f, 1});
  ExpectFloatsNear(Run1(MakeNode("HardSigmoid", 1), {&x}), {0.1f, 0.5f, 0.6f, 0.9f});  // alpha 0.2, beta 0.5
  Tensor h = Tensor::FromVector<float>({-4, -3, -1, 0, 1, 3, 4}, {7});
  ExpectFloatsNear(Run1(MakeNode("HardSwish", 1), {&h}), {0, 0, -1.0f / 3, 0, 2.0f / 3, 3, 4});
}

TEST(ActivationTest, FloatOnlyOpsRejectIntegers) {
  Tensor x = Tensor::FromVector<int32_t>({1}, {1});
  for (const char* op : {"Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu"}) {
    ExpectError(RunOp(MakeNode(op, 1), {&x}).status(), {std::string(op) + " 'n'", "int32"});
  }
  auto r = Infer(MakeNode("Tanh", 1), {{DataType::kFloat32, {-1, 7}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 7}));
}

}  // namespace
}  // namespace qcal

namespace qcal {
namespace {

TEST(ExpKernelTest, MatchesStdExp) {
  Node n{"e", "Exp", "", {"x"}, {"y"}, {}};
  Tensor x = Tensor::FromVector<float>({-2.f, 0.f, 1.f, 3.5f}, {2, 2});
  auto out = EvaluateNode(n, {&x});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float expected[] = {0.13533528f, 1.f, 2.7182817f, 33.11545f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR((*out)[0].data<float>()[i], expected[i], 1e-5f * expected[i]);
}

}  // namespace
}  // namespace qcal
