// Symbolic shape propagation rules (no kernels involved).
#include "passes/symbolic_shapes.h"

#include <gtest/gtest.h>

namespace qcal {
namespace {

SymTensor Known(std::vector<int64_t> v, bool scalar = false) {
  return *SymFromTensor(scalar ? Tensor::Scalar<int64_t>(v[0])
                               : Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())}));
}

class SymTest : public ::testing::Test {
 protected:
  void SetUp() override { g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 3, 8, 8}}); }
  std::optional<SymTensor> Prop(Node n, std::vector<const SymTensor*> in) { return PropagateSym(g, n, in); }
  Graph g;
};

TEST_F(SymTest, ShapeKeepsOriginAndStaticDims) {
  auto s = Prop(Node{"s", "Shape", "", {"x"}, {"sx"}, {}}, {nullptr});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->elems.size(), 4u);
  EXPECT_FALSE(s->elems[0].value);
  EXPECT_EQ(s->elems[0].source, "x");
  EXPECT_EQ(s->elems[0].dim, 0);
  EXPECT_EQ(s->elems[2].value, 8);
  EXPECT_EQ(s->elems[2].dim, 2);
  EXPECT_FALSE(s->FullyKnown());
}

TEST_F(SymTest, ShapeStartEndAttributes) {
  Node n{"s", "Shape", "", {"x"}, {"sx"}, {}};
  n.attrs.Set("start", int64_t{-2});
  auto s = Prop(n, {nullptr});
  ASSERT_TRUE(s && s->FullyKnown());
  EXPECT_EQ(s->ToTensor().ToInt64Vector(), (std::vector<int64_t>{8, 8}));
}

TEST_F(SymTest, GatherUnsqueezeConcatSliceChain) {
  auto shape = *Prop(Node{"s", "Shape", "", {"x"}, {"sx"}, {}}, {nullptr});
  SymTensor idx = Known({-4}, true);
  auto gathered = Prop(Node{"g", "Gather", "", {"sx", "i"}, {"gx"}, {}}, {&shape, &idx});
  ASSERT_TRUE(gathered && gathered->scalar);
  EXPECT_EQ(gathered->elems[0].source, "x");
  EXPECT_EQ(gathered->elems[0].dim, 0);
  SymTensor axes = Known({0});
  auto unsq = Prop(Node{"u", "Unsqueeze", "", {"gx", "axes"}, {"ux"}, {}}, {&*gathered, &axes});
  ASSERT_TRUE(unsq && !unsq->scalar && unsq->elems.size() == 1);
  SymTensor minus1 = Known({-1});
  auto cat = Prop(Node{"c", "Concat", "", {"ux", "m"}, {"cx"}, {}}, {&*unsq, &minus1});
  ASSERT_TRUE(cat);
  ASSERT_EQ(cat->elems.size(), 2u);
  EXPECT_EQ(cat->elems[1].value, -1);
  // Slice [1:3] of Shape(x) = [3, 8], fully known.
  SymTensor st = Known({1}), en = Known({3});
  auto sl = Prop(Node{"sl", "Slice", "", {"sx", "st", "en"}, {"slx"}, {}}, {&shape, &st, &en});
  ASSERT_TRUE(sl && sl->FullyKnown());
  EXPECT_EQ(sl->ToTensor().ToInt64Vector(), (std::vector<int64_t>{3, 8}));
  // Negative step: [::-1] reverses.
  SymTensor st2 = Known({-1}), en2 = Known({INT64_MIN}), ax = Known({0}), step = Known({-1});
  auto rev = Prop(Node{"r", "Slice", "", {"sx", "a", "b", "c", "d"}, {"rx"}, {}}, {&shape, &st2, &en2, &ax, &step});
  ASSERT_TRUE(rev);
  ASSERT_EQ(rev->elems.size(), 4u);
  EXPECT_EQ(rev->elems[0].value, 8);
  EXPECT_EQ(rev->elems[3].dim, 0);
}

TEST_F(SymTest, ReshapeUsesZeroOnlyForOwnDimAtSamePosition) {
  auto shape = *Prop(Node{"s", "Shape", "", {"x"}, {"sx"}, {}}, {nullptr});
  SymTensor first_and_rest;
  first_and_rest.elems = {shape.elems[0], SymElem{-1, "", -1}};
  Node reshape{"rs", "Reshape", "", {"x", "shp"}, {"y"}, {}};
  auto t = ResolveReshapeShape(reshape, first_and_rest);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ToInt64Vector(), (std::vector<int64_t>{0, -1}));
  // The batch of another value cannot be expressed as a constant.
  Node other{"rs2", "Reshape", "", {"w", "shp"}, {"y2"}, {}};
  EXPECT_FALSE(ResolveReshapeShape(other, first_and_rest));
  // Dim 0 of x placed at position 1 is not "copy dim 1" either.
  SymTensor swapped;
  swapped.elems = {SymElem{-1, "", -1}, shape.elems[0]};
  EXPECT_FALSE(ResolveReshapeShape(reshape, swapped));
  // allowzero=1 forbids the 0 trick.
  reshape.attrs.Set("allowzero", int64_t{1});
  EXPECT_FALSE(ResolveReshapeShape(reshape, first_and_rest));
}

TEST_F(SymTest, CastToInt32AndUnknownOps) {
  SymTensor v = Known({2, 3});
  Node cast{"c", "Cast", "", {"v"}, {"w"}, {}};
  cast.attrs.Set("to", int64_t{6});
  auto c = Prop(cast, {&v});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->dtype, DataType::kInt32);
  EXPECT_EQ(c->ToTensor().dtype(), DataType::kInt32);
  cast.attrs.Set("to", int64_t{1});  // to float: not tracked
  EXPECT_FALSE(Prop(cast, {&v}));
  EXPECT_FALSE(Prop(Node{"r", "Relu", "", {"v"}, {"w"}, {}}, {&v}));
}

}  // namespace
}  // namespace qcal
