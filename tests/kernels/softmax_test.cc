// Softmax: opset-13 (single axis) and pre-13 (coerce to 2-D) semantics.
#include <cmath>

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

// exp() of these values is {1, 3, 7, 1}.
Tensor Input(Shape shape) {
  return Tensor::FromVector<float>({0, std::log(3.0f), std::log(7.0f), 0}, std::move(shape));
}

TEST(SoftmaxTest, Opset13SingleAxis) {
  Tensor x = Input({2, 2});
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1), {&x}), {0.25f, 0.75f, 0.875f, 0.125f});  // default axis -1
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1, 1, Attrs({{"axis", int64_t{0}}})), {&x}),
                   {0.125f, 0.75f, 0.875f, 0.25f});
  // Rank 3 default axis: still the last axis (not the pre-13 "coerce at 1").
  Tensor x3 = Input({1, 2, 2});
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1), {&x3}, 13), {0.25f, 0.75f, 0.875f, 0.125f});
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1, 1, Attrs({{"axis", int64_t{-2}}})), {&x3}, 13),
                   {0.125f, 0.75f, 0.875f, 0.25f});
}

TEST(SoftmaxTest, PreOpset13CoercesTo2D) {
  Tensor x3 = Input({1, 2, 2});
  // Default axis 1: one row of 4 elements.
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1), {&x3}, 11), {1 / 12.0f, 3 / 12.0f, 7 / 12.0f, 1 / 12.0f});
  Tensor x = Input({2, 2});
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1, 1, Attrs({{"axis", int64_t{0}}})), {&x}, 11),
                   {1 / 12.0f, 3 / 12.0f, 7 / 12.0f, 1 / 12.0f});
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1), {&x}, 1), {0.25f, 0.75f, 0.875f, 0.125f});
  // axis == rank is allowed before 13: every element is its own group.
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1, 1, Attrs({{"axis", int64_t{2}}})), {&x}, 11), {1, 1, 1, 1});
}

TEST(SoftmaxTest, LargeInputsAreStable) {
  Tensor x = Tensor::FromVector<float>({1000, 1001, -1000, -1001}, {2, 2});
  ExpectFloatsNear(Run1(MakeNode("Softmax", 1), {&x}), {0.2689414f, 0.7310586f, 0.7310586f, 0.2689414f});
}

TEST(SoftmaxTest, ErrorsAndInference) {
  Tensor x = Input({2, 2});
  ExpectError(RunOp(MakeNode("Softmax", 1, 1, Attrs({{"axis", int64_t{2}}})), {&x}, 13).status(),
              {"Softmax 'n'", "axis", "rank 2"});
  ExpectError(RunOp(MakeNode("Softmax", 1, 1, Attrs({{"axis", int64_t{3}}})), {&x}, 11).status(),
              {"Softmax 'n'", "axis"});
  auto r = Infer(MakeNode("Softmax", 1), {{DataType::kFloat32, {-1, 1000}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 1000}));
  ExpectError(Infer(MakeNode("Softmax", 1), {{DataType::kInt8, {2}}}).status(), {"Softmax 'n'", "int8"});
}

}  // namespace
}  // namespace qcal
